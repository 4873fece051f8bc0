/**
 * SNAP VA numbers: `partnerServiceId` is exactly 8 characters, the BIN / company code left-padded
 * with spaces (`"   22691"`), and `virtualAccountNo = partnerServiceId + customerNo` byte for byte.
 * The padding is part of signed bodies, so it is never trimmed or collapsed.
 */

export const PARTNER_SERVICE_ID_LENGTH = 8;
/** `customerNo` String(20): up to 20 digits. */
const CUSTOMER_NO = /^\d{1,20}$/;

export function isPartnerServiceId(value: string): boolean {
  return value.length === PARTNER_SERVICE_ID_LENGTH && /^ {0,7}\d{1,8}$/.test(value);
}

/** `"22691"` → `"   22691"`. */
export function padPartnerServiceId(digits: string): string {
  if (!/^\d{1,8}$/.test(digits)) throw new RangeError("partnerServiceId must be 1-8 digits");
  return digits.padStart(PARTNER_SERVICE_ID_LENGTH, " ");
}

export function composeVirtualAccountNo(partnerServiceId: string, customerNo: string): string {
  if (!isPartnerServiceId(partnerServiceId)) throw new RangeError("partnerServiceId must be 8 space-padded digits");
  if (!CUSTOMER_NO.test(customerNo)) throw new RangeError("customerNo must be 1-20 digits");
  return partnerServiceId + customerNo;
}

/** The reverse of `composeVirtualAccountNo`; undefined when the value is not of that shape. */
export function splitVirtualAccountNo(virtualAccountNo: string): { partnerServiceId: string; customerNo: string } | undefined {
  const partnerServiceId = virtualAccountNo.slice(0, PARTNER_SERVICE_ID_LENGTH);
  const customerNo = virtualAccountNo.slice(PARTNER_SERVICE_ID_LENGTH);
  if (!isPartnerServiceId(partnerServiceId) || !CUSTOMER_NO.test(customerNo)) return undefined;
  return { partnerServiceId, customerNo };
}

/** The digits a payer types at the bank: the number without its padding spaces. */
export function payerDigits(virtualAccountNo: string): string {
  return virtualAccountNo.replace(/^ +/, "");
}
