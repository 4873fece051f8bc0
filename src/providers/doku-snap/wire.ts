import type { SnapMoney } from "../../protocols/snap/money.js";

/**
 * DOKU's SNAP VA wire format (providers.md §4.5; `doku-nodejs-library@1.0.52` `_commons/config.js`
 * and its DTOs). Paths are as signed and appended to the base URL (`https://api-sandbox.doku.com`).
 */
export const DokuSnapPath = {
  accessToken: "/authorization/v1/access-token/b2b",
  createVa: "/virtual-accounts/bi-snap-va/v1.1/transfer-va/create-va",
  updateVa: "/virtual-accounts/bi-snap-va/v1.1/transfer-va/update-va",
  deleteVa: "/virtual-accounts/bi-snap-va/v1.1/transfer-va/delete-va",
  checkStatus: "/orders/v1.0/transfer-va/status",
  /** Our simulator only: pay a VA as a bank would (DOKU's own simulator is a web page). */
  simulatePayment: "/sandbox/v1.1/transfer-va/simulate-payment",
} as const;

/**
 * What DOKU calls on our side, as suffixes of the paths under our webhook root
 * (`/webhooks/doku-snap/…`). The token path and the inquiry path are registered with DOKU per
 * account; anything else under the root is taken for the Notification URL.
 */
export const DokuSnapInbound = {
  /** DOKU asks for a token (signed with its key) before notifying or forwarding an inquiry. */
  accessTokenSuffix: "/access-token/b2b",
  /** DIPC: the bank's inquiry, forwarded (SDK README: `app.post("/v1.1/transfer-va/inquiry")`). */
  inquirySuffix: "/transfer-va/inquiry",
  /** Default sub-paths our simulator is configured with. */
  accessToken: "/authorization/v1/access-token/b2b",
  inquiry: "/v1.1/transfer-va/inquiry",
  notification: "/v1.1/transfer-va/payment",
} as const;

/** `C` closed (exact amount), `O` open (any amount, or within `minAmount`..`maxAmount`). */
export type DokuSnapTrxType = "C" | "O";

export interface DokuVaConfig {
  reusableStatus: boolean;
  minAmount?: string;
  maxAmount?: string;
}

export interface DokuCreateVaRequest {
  partnerServiceId: string;
  /** Absent in DGPC (DOKU numbers the VA). */
  customerNo?: string;
  virtualAccountNo?: string;
  virtualAccountName: string;
  virtualAccountEmail: string;
  virtualAccountPhone: string;
  trxId: string;
  totalAmount: SnapMoney;
  additionalInfo: { channel: string; virtualAccountConfig: DokuVaConfig };
  virtualAccountTrxType: DokuSnapTrxType;
  expiredDate: string;
}

export interface DokuUpdateVaRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  virtualAccountEmail: string;
  virtualAccountPhone: string;
  trxId: string;
  totalAmount: SnapMoney;
  additionalInfo: {
    channel: string;
    virtualAccountConfig: { status: "ACTIVE" | "INACTIVE"; minAmount?: string; maxAmount?: string };
  };
  virtualAccountTrxType: DokuSnapTrxType;
  expiredDate: string;
}

export interface DokuDeleteVaRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
  additionalInfo: { channel: string };
}

/**
 * Check status (SDK `CheckStatusVARequestDto`): the identity triple and, optionally, the payment or
 * inquiry asked about. We also send our `trxId` in `additionalInfo` (the SDK types it `any`) so a VA
 * whose number we never learnt (a DGPC create whose answer was lost) can be found by it.
 */
export interface DokuCheckStatusRequest {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  inquiryRequestId: string | null;
  paymentRequestId: string | null;
  additionalInfo: { trxId: string };
}

/** Payment notification body (SDK `PaymentNotificationRequestBodyDto`, Go DTO `additionalInfo`). */
export interface DokuPaymentNotification {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  paymentRequestId: string;
  paidAmount: SnapMoney;
  virtualAccountEmail: string;
  virtualAccountPhone: string;
  /** Go SDK DTO: `channel`, `virtualAccountConfig`, `senderName`, `sourceAccountNo`, `sourceBankCode`, `sourceBankName`. */
  additionalInfo: { channel: string; [field: string]: unknown };
}

/** `paymentFlagStatus` of a check-status answer: `00` paid, `01` not paid. */
export const DokuPaymentFlag = { paid: "00", unpaid: "01" } as const;

/** Simulator only: pay the VA with this number (`amount` may be left out for a closed VA). */
export interface DokuSimulatePaymentRequest {
  virtualAccountNo: string;
  amount?: SnapMoney;
}
