import type { AmountRule } from "../../domain/virtual-account.js";

/**
 * DOKU's bank channels for the non-SNAP v2 payment-code API (reference §4.2, seed 001), keyed by our
 * bank codes. Which billing types and which cancellations each bank takes is not fully published
 * (the seed's checklist lost its marks); the table claims only what a source shows and is
 * documented in reference §10 as uncertain:
 * - FIX_BILL is the default of every channel (the official plugin and libraries never send a type).
 * - NO_BILL at BCA and Mandiri, BILL_VARIABLE_AMOUNT at Mandiri (`billing_type`, third-party SDK;
 *   `order.min_amount`/`order.max_amount`, DOKU's PHP library); BNI's own FIXED/OPEN under the
 *   key `biling_type` (spelled so by DOKU, third-party SDK).
 * - Cancel (PATCH with `virtual_account_info.status: "DELETE"`) only where merchant code shows it.
 */

/** Who picks the VA number: DOKU (DGPC) or we, under our BIN (MGPC). */
export type DokuNumbering = "DGPC" | "MGPC";

export interface DokuBilling {
  /** Key in `virtual_account_info`; absent where the bank takes fixed bills only and no type is sent. */
  field?: "billing_type" | "biling_type";
  /** DOKU's value for each of our amount rules the bank offers. */
  types: Partial<Record<AmountRule["type"], string>>;
}

export interface DokuChannel {
  bankCode: string;
  /** First segment of `/{segment}/v2/payment-code`. */
  segment: string;
  /** `channel.id` and `acquirer.id` in DOKU's notifications. */
  channelId: string;
  acquirerId: string;
  /** Last segment for merchant-generated numbers; BCA has its own endpoint for them. */
  merchantCodeResource: string;
  billing: DokuBilling;
  canCancel: boolean;
}

const FIX_BILL_ONLY: DokuBilling = { types: { FIXED: "FIX_BILL" } };

export const DOKU_CHANNELS: readonly DokuChannel[] = [
  {
    bankCode: "BCA",
    segment: "bca-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_BCA",
    acquirerId: "BCA",
    merchantCodeResource: "merchant-payment-code",
    billing: { field: "billing_type", types: { FIXED: "FIX_BILL", OPEN: "NO_BILL" } },
    canCancel: true,
  },
  {
    bankCode: "MANDIRI",
    segment: "mandiri-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_BANK_MANDIRI",
    acquirerId: "BANK_MANDIRI",
    merchantCodeResource: "payment-code",
    billing: {
      field: "billing_type",
      types: { FIXED: "FIX_BILL", OPEN: "NO_BILL", RANGE: "BILL_VARIABLE_AMOUNT" },
    },
    canCancel: true,
  },
  {
    bankCode: "BSI",
    segment: "bsm-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_BANK_SYARIAH_MANDIRI",
    acquirerId: "BANK_SYARIAH_MANDIRI",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: false,
  },
  {
    bankCode: "DOKU",
    segment: "doku-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_DOKU",
    acquirerId: "DOKU",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: false,
  },
  {
    bankCode: "BRI",
    segment: "bri-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_BRI",
    acquirerId: "BRI",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: true,
  },
  {
    bankCode: "CIMB",
    segment: "cimb-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_CIMB",
    acquirerId: "CIMB",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: true,
  },
  {
    bankCode: "PERMATA",
    segment: "permata-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_PERMATA",
    acquirerId: "PERMATA",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: true,
  },
  {
    bankCode: "BNI",
    segment: "bni-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_BNI",
    acquirerId: "BNI",
    merchantCodeResource: "payment-code",
    billing: { field: "biling_type", types: { FIXED: "FIXED", OPEN: "OPEN" } },
    canCancel: false,
  },
  {
    bankCode: "DANAMON",
    segment: "danamon-virtual-account",
    channelId: "VIRTUAL_ACCOUNT_DANAMON",
    acquirerId: "DANAMON",
    merchantCodeResource: "payment-code",
    billing: FIX_BILL_ONLY,
    canCancel: true,
  },
];

export function findChannel(bankCode: string): DokuChannel | undefined {
  return DOKU_CHANNELS.find((channel) => channel.bankCode === bankCode);
}

/** The endpoint that creates (POST) and updates (PATCH) payment codes of one numbering at one bank. */
export function paymentCodePath(channel: DokuChannel, numbering: DokuNumbering): string {
  const resource = numbering === "MGPC" ? channel.merchantCodeResource : "payment-code";
  return `/${channel.segment}/v2/${resource}`;
}
