import type { SnapMoney } from "../../protocols/snap/money.js";

/**
 * Ayoconnect's SNAP VA wire format (docs.payments.of.ayoconnect.id, reference §7.3). The docs name
 * the flows (Create VA, Update VA, Inquiry VA, payment callback) and their fields but print no
 * paths: these are the SNAP standard's [assumption, `paths` setting], appended to `baseUrl`.
 */
export const AYOCONNECT_SNAP = "ayoconnect-snap";

export interface AyoconnectSnapPaths {
  accessToken: string;
  createVa: string;
  updateVa: string;
  inquiryVa: string;
}

/** SNAP standard paths (ASPI services 73, 27, 28, 30) [assumption: Ayoconnect prints none]. */
export const DEFAULT_AYOCONNECT_SNAP_PATHS: AyoconnectSnapPaths = {
  accessToken: "/v1.0/access-token/b2b",
  createVa: "/v1.0/transfer-va/create-va",
  updateVa: "/v1.0/transfer-va/update-va",
  inquiryVa: "/v1.0/transfer-va/inquiry-va",
};

/** Our simulator only: pay a VA as a bank transfer would. */
export const SIMULATE_PAYMENT_PATH = "/v1.0/transfer-va/simulate-payment";
/** Where our gateway receives the callback, under `/webhooks/ayoconnect-snap` (any path works). */
export const CALLBACK_PATH = "/v1.0/transfer-va/payment";

/**
 * Ayoconnect files its VA codes under service `24` for create ("Create a Virtual Account (Inquiry)":
 * `4092400`, `4042412`…) and `25` for payments; update and inquiry have no published table, so the
 * standard's `28` and `30` are used [assumption].
 */
export const AyoconnectSnapService = { createVa: "24", payment: "25", updateVa: "28", inquiryVa: "30" } as const;

/**
 * How X-SIGNATURE is written. The SNAP standard (and every other provider here) writes base64; a
 * third-party Ayoconnect *direct-debit* client writes hex (`praswicaksono/ayoconnect-direct-debit-go`,
 * reference §7.3). Ayoconnect's VA docs say neither, so it is a setting (default base64) that
 * applies to our transaction signatures and to the callback signature we verify. The B2B token
 * request keeps the standard's base64 (the shared token client).
 */
export type SignatureEncoding = "base64" | "hex";

/** A base64 signature as the configured encoding writes it. */
export const encodeSignature = (base64: string, encoding: SignatureEncoding) =>
  encoding === "base64" ? base64 : Buffer.from(base64, "base64").toString("hex");

/**
 * A received signature, in the configured encoding, as the base64 the shared verifier reads;
 * `undefined` when it is not that encoding (so it fails verification).
 */
export function signatureAsBase64(text: string, encoding: SignatureEncoding): string | undefined {
  if (encoding === "base64") return text;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) return undefined;
  return Buffer.from(text, "hex").toString("base64");
}

/** `isSingleUse`: `Y` single-payment, `N` multi-payment (Create Virtual Account page). */
export type IsSingleUse = "Y" | "N";

export interface AyoconnectSnapCreateVaRequest {
  /** The merchant's customer id, 6-20 alphanumerics (sample `AYC5181`). */
  customerNo: string;
  /** Exactly 32 alphanumerics. */
  trxId: string;
  virtualAccountName: string;
  /** The custom digits after the bank prefix; absent: Ayoconnect generates the number. */
  virtualAccountNo?: string;
  virtualAccountPhone?: string;
  /** Open amount: `"0.00"` or absent. */
  totalAmount?: SnapMoney;
  /** ISO-8601, 25 characters; Ayoconnect applies 10 minutes when absent. */
  expiredDate: string;
  additionalInfo: {
    isSingleUse: IsSingleUse;
    /**
     * The bank, as the legacy API's 3-digit `bankCode` [assumption: the SNAP create page names no
     * bank field; a real account's onboarding says which partnerServiceId / field chooses the bank].
     */
    bankCode: string;
  };
}

/** `virtualAccountData` of create, update and inquiry answers (fields this adapter reads). */
export interface AyoconnectSnapVirtualAccountData {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  totalAmount?: SnapMoney;
  expiredDate?: string;
  /** Inquiry only: `ACTIVE`, `PAID`, `INACTIVE`, `EXPIRED` [assumption: the legacy states' SNAP spelling]. */
  virtualAccountStatus?: string;
  /** Inquiry and callback: the latest payment ("latest payment information", Inquiry VA page). */
  latestPaidAmount?: SnapMoney;
  latestPaidTime?: string;
  additionalInfo: { isSingleUse: IsSingleUse; bankCode?: string };
}

export interface AyoconnectSnapInquiryVaRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
}

export interface AyoconnectSnapUpdateVaRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  /** The create answer's `referenceNo` (API Flows page: a mismatch is refused). */
  originalReferenceNo: string;
  totalAmount?: SnapMoney;
  expiredDate: string;
  additionalInfo: { isSingleUse: IsSingleUse };
}

/**
 * The payment callback: a SNAP answer-shaped body (`responseCode` `2003400`) with the VA and its
 * latest payment (payment-callback page sample, partly captured: `partnerServiceId`, `customerNo`,
 * `virtualAccountNo`, `latestPaidAmount`, `latestPaidTime`). `trxId` is assumed present, as in every
 * SNAP VA body; without it a callback is matched by number and cannot be confirmed.
 */
export interface AyoconnectSnapCallback {
  responseCode: string;
  responseMessage: string;
  virtualAccountData: {
    partnerServiceId: string;
    customerNo: string;
    virtualAccountNo: string;
    virtualAccountName: string;
    trxId: string;
    totalAmount: SnapMoney;
    latestPaidAmount: SnapMoney;
    latestPaidTime: string;
    additionalInfo: { isSingleUse: IsSingleUse };
  };
}

/** Simulator only. `amount` may be left out for closed VAs (the bill is paid). */
export interface AyoconnectSnapSimulatePaymentRequest {
  trxId: string;
  amount?: SnapMoney;
}
