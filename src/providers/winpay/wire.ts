import type { SnapMoney } from "../../protocols/snap/money.js";

/**
 * Winpay's SNAP wire format (seed 003, providers.md §5). Paths are as signed; Winpay serves them
 * under a `/snap` prefix that belongs in the configured base URL, not in the signature.
 */
export const WinpayPath = {
  createVa: "/v1.0/transfer-va/create-va",
  inquiryVa: "/v1.0/transfer-va/inquiry-va",
  paymentStatus: "/v1.0/transfer-va/status",
  deleteVa: "/v1.0/transfer-va/delete-va",
  /** Where Winpay posts payments: `{yoururl}/v1.0/transfer-va/payment`. */
  paymentCallback: "/v1.0/transfer-va/payment",
  /** Our simulator only: pay a VA as a bank would. */
  simulatePayment: "/v1.0/transfer-va/simulate-payment",
} as const;

/** `c` one-off (single, closed), `o` open recurring, `r` closed recurring. */
export type WinpayVaType = "c" | "o" | "r";

export interface WinpayCreateVaRequest {
  /** Mandatory for `o`/`r`; for `c` Winpay picks a number when absent. */
  customerNo?: string;
  virtualAccountName: string;
  trxId: string;
  /** Mandatory for `c`/`r`. */
  totalAmount?: SnapMoney;
  virtualAccountTrxType: WinpayVaType;
  /** `YYYY-MM-DDTHH:mm:ss+07:00`; mandatory for `c`/`r`. */
  expiredDate?: string;
  additionalInfo: { channel: string };
}

/** `virtualAccountData` of create-va and inquiry-va answers. */
export interface WinpayVirtualAccountData {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  totalAmount?: SnapMoney;
  virtualAccountTrxType: WinpayVaType;
  expiredDate?: string;
  additionalInfo: { channel: string; contractId: string };
}

export interface WinpayInquiryVaRequest {
  trxId: string;
  additionalInfo: { contractId: string };
}

/** The table puts `trxId` at the top, the sample inside `additionalInfo`: we send both. */
export interface WinpayPaymentStatusRequest {
  virtualAccountNo: string;
  trxId: string;
  additionalInfo: { contractId: string; channel: string; trxId: string };
}

export interface WinpayDeleteVaRequest {
  virtualAccountNo: string;
  trxId: string;
  additionalInfo: { contractId: string; channel: string };
}

/** `paymentFlagStatus` of the status answer. */
export const WinpayPaymentFlag = { paid: "00", unpaid: "01", check: "02" } as const;

/**
 * Payment callback body. Winpay's own sample sends `paidAmount.value` without decimals
 * (`"10000"`) and `referenceNo` as a number; readers must accept both shapes.
 */
export interface WinpayPaymentCallback {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  paymentRequestId: string;
  paidAmount: { value: string; currency: "IDR" };
  trxDateTime: string;
  referenceNo: string | number;
  additionalInfo: { channel: string; contractId: string; feeAmount: string; nettAmount: string };
}

/** Simulator only. `amount` may be left out for closed VAs (the bill is paid). */
export interface WinpaySimulatePaymentRequest {
  contractId: string;
  amount?: SnapMoney;
}
