import type { SnapMoney } from "../../protocols/snap/money.js";

/**
 * Durianpay's SNAP VA wire format, from docs.durianpay.id (pages corpus): "Generate Access Token
 * (B2B)", "Generate Signature", "Create Virtual Account", "Update Virtual Account", "VA Payment
 * Notification", "SNAP Virtual Account Notify / Callback Handling", "Sandbox Mode".
 *
 * The reference pages print field descriptions without their names and no request or answer
 * samples; names below are the SNAP standard's (ASPI) for the described field, marked
 * [assumption] where the page says nothing. Paths: only the token path and the notification path
 * are printed; the VA paths are the standard's and are settings (`paths`), so an account whose
 * documentation says otherwise needs no code change.
 */
export const DurianpaySnapPath = {
  /** Published: `POST https://api.durianpay.id/v1.0/access-token/b2b`. */
  accessToken: "/v1.0/access-token/b2b",
  /** [assumption] SNAP service 27. */
  createVa: "/v1.0/transfer-va/create-va",
  /** [assumption] SNAP service 28; the standard's method is PUT. */
  updateVa: "/v1.0/transfer-va/update-va",
  /** [assumption] SNAP service 26 ("inquiry status"); Durianpay's "Handling Errors" page tells merchants to call "inquiry status API". */
  status: "/v1.0/transfer-va/status",
  /** [assumption] SNAP service 31; the standard's method is DELETE with a body. */
  deleteVa: "/v1.0/transfer-va/delete-va",
  /** Published: merchant-hosted `POST https://merchant-endpoint.com/v1.0/transfer-va/payment`. */
  paymentNotification: "/v1.0/transfer-va/payment",
  /** Our simulator only: pay a VA as a bank transfer would. */
  simulatePayment: "/v1.0/transfer-va/simulate-payment",
} as const;

export type DurianpaySnapPaths = { -readonly [K in keyof typeof DurianpaySnapPath]: string };

/** Published value for `CHANNEL-ID`: "Possible value: 95221". */
export const DURIANPAY_CHANNEL_ID = "95221";

/** Published token request body (`grantType` "Value: AUTHORIZATION_CODE"), unlike the standard's `client_credentials`. */
export const TOKEN_REQUEST_BODY = '{"grantType":"AUTHORIZATION_CODE"}';

/** `"C"` = Closed, `"O"` = Open (create page). */
export type DurianpayTrxType = "C" | "O";

/**
 * Create VA body. Published (descriptions): display name (required), account suffix (optional,
 * random when absent), merchant transaction reference "Must be unique" (required), `"C"`/`"O"`
 * (required), expiry `YYYY-MM-DDThh:mm:ss+07:00` (defaults to 1 day), `totalAmount` (required for
 * "C"), `additionalInfo` (required object, contents not printed).
 */
export interface DurianpayCreateVaRequest {
  virtualAccountName: string;
  /** [assumption: the standard's name for the suffix] */
  customerNo?: string;
  trxId: string;
  virtualAccountTrxType: DurianpayTrxType;
  expiredDate: string;
  totalAmount?: SnapMoney;
  /** [assumption] the bank is named here, as Durianpay's other SNAP APIs put codes in `additionalInfo`. */
  additionalInfo: { bankCode: string };
}

/**
 * `virtualAccountData` of create-va. The update page says prefix, suffix and full number are to be
 * passed "the same one as returned in the Create VA API", and the notification page that the prefix
 * is the "First 8 digits of the virtual account number" (no padding spaces).
 */
export interface DurianpayVirtualAccountData {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  virtualAccountTrxType: DurianpayTrxType;
  expiredDate: string;
  totalAmount?: SnapMoney;
  additionalInfo: { bankCode: string };
}

/** Update VA body (published: prefix, suffix, full number, name and trxId required; expiry and amount optional). */
export interface DurianpayUpdateVaRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  expiredDate?: string;
  totalAmount?: SnapMoney;
}

/** [assumption] the standard's VA key plus our trxId. */
export interface DurianpayVaKey {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
}

/** [assumption] status request: the VA key, and a payment id to ask about one payment. */
export type DurianpayStatusRequest = DurianpayVaKey & { paymentRequestId?: string };

/** Published `additionalInfo.latestTransactionStatus` of the notification: `00` completed, `09` rejected (refunded). */
export const DurianpayTransactionStatus = { completed: "00", rejected: "09" } as const;
/** [assumption] status answer's value for a VA nobody has paid. */
export const DURIANPAY_UNPAID = "01";

/**
 * VA Payment Notification body (published descriptions): prefix ("First 8 digits"), suffix, full
 * number, "Merchant's unique transaction reference", "Durianpay's payment ID", `paidAmount`, "Date and
 * time of transaction", `additionalInfo` with `latestTransactionStatus` / `transactionStatusDesc`.
 */
export interface DurianpayPaymentNotification {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
  /** [assumption: the standard's name] "Durianpay's payment ID". */
  paymentRequestId: string;
  paidAmount: SnapMoney;
  trxDateTime: string;
  additionalInfo: { latestTransactionStatus: string; transactionStatusDesc: string };
}

/** [assumption] status `virtualAccountData`: the VA and its latest payment, notification vocabulary. */
export interface DurianpayStatusData {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
  paymentRequestId?: string;
  paidAmount?: SnapMoney;
  trxDateTime?: string;
  additionalInfo: { latestTransactionStatus: string; transactionStatusDesc: string };
}

/** Simulator only. `amount` may be left out for closed VAs (the bill is paid). */
export interface DurianpaySimulatePaymentRequest {
  virtualAccountNo: string;
  trxId: string;
  amount?: SnapMoney;
}
