import { randomUUID } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { type AccessTokenSource, createAccessTokenClient } from "../../protocols/snap/access-token-client.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer } from "../../protocols/snap/answer.js";
import { InMemoryExternalIdStore } from "../../protocols/snap/external-id-store.js";
import { newExternalId } from "../../protocols/snap/headers.js";
import { verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import { SnapOutcomes, SnapService } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey, signAsymmetric, signSymmetric } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { composeVirtualAccountNo, padPartnerServiceId } from "../../protocols/snap/va-number.js";
import type { HttpAnswer } from "../../providers/provider.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import { type BillerIdentity, BillerOutcomes, BillerPath } from "../../providers/snap-biller/wire.js";
import {
  inboundRequest,
  type SimulatorRequest,
  type SimulatorResponse,
  simulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";

/**
 * A bank (the PJP of providers.md §3) in front of the biller: it drives Inquiry (24) → Payment
 * (25) against the gateway, signing as the bank, with timeouts, retries (`flagAdvise: "Y"`, fresh
 * X-EXTERNAL-ID, same paymentRequestId) and wrong amounts on request; and it answers the biller's
 * Inquiry Status (26) and Create VA (27) from its own ledger.
 */

export interface BankSimulatorOptions {
  /** The bank's X-PARTNER-ID at the biller (also its X-CLIENT-KEY for tokens). */
  partnerId: string;
  /** Signs the bank's requests (asymmetric) and its B2B token requests. */
  privateKey: SnapKey;
  /** Given: sign symmetrically (HMAC-SHA512) with a B2B token fetched from the biller. */
  clientSecret?: string;
  channelId?: string;
  /** The biller's BIN digits: how the bank splits a displayed number into partnerServiceId + customerNo. */
  billerPartnerServiceId: string;
  /** What the bank puts before `/v1.0/…` in the path it signs; a proxy strips it before the gateway. */
  signedPathPrefix?: string;
  /** Verifies the biller's calls to the bank. */
  billerPartnerId: string;
  billerPublicKey: SnapKey;
  /** Per call; DANA documents 8 s for every VA service. */
  timeoutMs?: number;
  /** Waits before re-sending a payment that got no usable answer. */
  paymentRetryDelaysMs?: readonly number[];
  now?: () => Date;
  port?: number;
}

export interface SentRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** One call to the gateway. `status` 0: no answer (timeout, connection refused, answer lost). */
export interface SnapExchange {
  status: number;
  body: string;
  json: Record<string, unknown> | undefined;
  responseCode: string | undefined;
  sent: SentRequest;
}

/** Ways to send a request the gateway must refuse. */
export interface SendOptions {
  externalId?: string;
  timestamp?: Date;
  /** Sign this path instead of the one addressed. */
  signedPath?: string;
  /** Send these bytes instead of the signed body. */
  sentBody?: string;
  partnerId?: string;
  /** Symmetric signing: use this bearer token instead of one from the biller. */
  accessToken?: string;
  timeoutMs?: number;
}

export interface TransferOptions {
  /** Pay this instead of the bill's total (wrong amounts, open bills). */
  amount?: Rupiah;
  /** `amount` of the inquiry: what the payer typed. */
  typedAmount?: Rupiah;
  inquiryRequestId?: string;
  /** Runs between inquiry and payment (a test moves its clock past the timer here). */
  beforePayment?: () => void | Promise<void>;
  /** false: the customer is debited but the payment call never goes out (network down). */
  deliverPayment?: boolean;
  /** This many payment answers are lost on the way back: the bank sees a timeout and retries. */
  loseAnswers?: number;
  /**
   * Pay a VA the biller registered with Create VA straight away, naming it by its `trxId`, with no
   * inquiry (§2.6: trxId "mandatory if Payment comes from the Create VA request"). The bank knows
   * the bill from the registration; `paymentRequestId` is the bank's own.
   */
  withoutInquiry?: boolean;
  /** Re-send a payment whose answer was lost under its first X-EXTERNAL-ID (otherwise a fresh one). */
  retrySameExternalId?: boolean;
}

/**
 * REFUSED: the inquiry failed, nothing debited. COMPLETED: the biller acknowledged the payment.
 * REVERSED: the biller refused it and the debit was returned. UNCONFIRMED: debited, the biller
 * never answered: the bank reports it as paid when asked (Inquiry Status).
 */
export type TransferState = "REFUSED" | "COMPLETED" | "REVERSED" | "UNCONFIRMED";

export interface BankTransfer {
  virtualAccountNo: string;
  /** Set when the bank paid a registered VA without an inquiry. */
  trxId: string | undefined;
  inquiryRequestId: string;
  referenceNo: string;
  amount: Rupiah | undefined;
  state: TransferState;
  /** `NO_EXCHANGE` when the payment came without an inquiry. */
  inquiry: SnapExchange;
  payments: SnapExchange[];
  debitedAt: Date | undefined;
}

export interface BankSimulator {
  /** The bank's SNAP base URL, for the biller's calls (26, 27). */
  url: string;
  /** Where the gateway listens; known only once it is bound. */
  setGatewayUrl(url: string): void;
  identityOf(vaNumber: string): BillerIdentity;
  inquiryBody(vaNumber: string, inquiryRequestId: string, typedAmount?: Rupiah): Record<string, unknown>;
  paymentBody(
    vaNumber: string,
    paymentRequestId: string,
    amount: Rupiah,
    flagAdvise?: "Y" | "N",
    trxId?: string,
  ): Record<string, unknown>;
  /** One signed call to `/v1.0/transfer-va/inquiry` or `/payment`, body sent as given. */
  send(service: "inquiry" | "payment", body: Record<string, unknown> | string, options?: SendOptions): Promise<SnapExchange>;
  /** A payer's whole transfer: inquiry, debit, payment with retries; never throws for refusals. */
  transfer(vaNumber: string, options?: TransferOptions): Promise<BankTransfer>;
  readonly transfers: readonly BankTransfer[];
  /** Status queries the biller made, with the flag we answered. */
  readonly statusQueries: readonly { inquiryRequestId: string; paymentFlagStatus: string | undefined; status: number }[];
  /** VAs the biller registered with Create VA, by trxId. */
  readonly registrations: ReadonlyMap<string, Record<string, unknown>>;
  /** The next this-many Inquiry Status calls answer `5002601`. */
  failStatusQueries: number;
  close(): Promise<void>;
}

/** The exchange that never took place (a transfer without an inquiry). */
export const NO_EXCHANGE: SnapExchange = {
  status: 0,
  body: "",
  json: undefined,
  responseCode: undefined,
  sent: { path: "", headers: {}, body: "" },
};

export async function startBankSimulator(options: BankSimulatorOptions): Promise<BankSimulator> {
  const now = options.now ?? (() => new Date());
  const bankKey = privateKeyFrom(options.privateKey);
  const billerKey = publicKeyFrom(options.billerPublicKey);
  const partnerServiceId = padPartnerServiceId(options.billerPartnerServiceId);
  const channelId = options.channelId ?? "BANK";
  const timeoutMs = options.timeoutMs ?? 8_000;
  const retryDelaysMs = options.paymentRetryDelaysMs ?? [1_000, 5_000];
  const externalIds = new InMemoryExternalIdStore();
  const transfers: BankTransfer[] = [];
  const statusQueries: { inquiryRequestId: string; paymentFlagStatus: string | undefined; status: number }[] = [];
  const registrations = new Map<string, Record<string, unknown>>();
  let gatewayUrl: string | undefined;
  let tokenSource: AccessTokenSource | undefined;
  let referenceCounter = 0;

  function identityOf(vaNumber: string): BillerIdentity {
    const bin = options.billerPartnerServiceId;
    if (!vaNumber.startsWith(bin)) throw new Error(`bank simulator: ${vaNumber} is not under BIN ${bin}`);
    const customerNo = vaNumber.slice(bin.length);
    return { partnerServiceId, customerNo, virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo) };
  }

  async function send(
    service: "inquiry" | "payment",
    body: Record<string, unknown> | string,
    sendOptions: SendOptions = {},
  ): Promise<SnapExchange> {
    if (!gatewayUrl) throw new Error("bank simulator: the gateway URL is not set");
    const path = service === "inquiry" ? BillerPath.inquiry : BillerPath.payment;
    const rawBody = typeof body === "string" ? body : JSON.stringify(body);
    const at = sendOptions.timestamp ?? now();
    const timestamp = formatSnapTimestamp(at);
    const signed = {
      method: "POST",
      path: sendOptions.signedPath ?? (options.signedPathPrefix ?? "") + path,
      body: rawBody,
      timestamp,
    };
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-TIMESTAMP": timestamp,
      "X-PARTNER-ID": sendOptions.partnerId ?? options.partnerId,
      "X-EXTERNAL-ID": sendOptions.externalId ?? newExternalId(at),
      "CHANNEL-ID": channelId,
    };
    if (options.clientSecret) {
      tokenSource ??= createAccessTokenClient({
        provider: "bank-simulator",
        baseUrl: gatewayUrl,
        clientId: options.partnerId,
        privateKey: bankKey,
        timeoutMs,
        now,
      });
      const token = sendOptions.accessToken ?? (await tokenSource.token(AbortSignal.timeout(timeoutMs)));
      headers.Authorization = `Bearer ${token}`;
      headers["X-SIGNATURE"] = signSymmetric(signed, token, options.clientSecret);
    } else {
      headers["X-SIGNATURE"] = signAsymmetric(signed, bankKey);
    }
    const sent = { path, headers, body: sendOptions.sentBody ?? rawBody };
    try {
      const response = await fetch(gatewayUrl + path, {
        method: "POST",
        headers,
        body: sent.body,
        signal: AbortSignal.timeout(sendOptions.timeoutMs ?? timeoutMs),
      });
      const text = await response.text();
      const json = parseJson(text);
      const responseCode = typeof json?.responseCode === "string" ? json.responseCode : undefined;
      return { status: response.status, body: text, json, responseCode, sent };
    } catch {
      return { status: 0, body: "", json: undefined, responseCode: undefined, sent };
    }
  }

  function inquiryBody(vaNumber: string, inquiryRequestId: string, typedAmount?: Rupiah): Record<string, unknown> {
    return {
      ...identityOf(vaNumber),
      trxDateInit: formatSnapTimestamp(now()),
      channelCode: 6011,
      language: "ID",
      ...(typedAmount === undefined ? {} : { amount: toSnapMoney(typedAmount) }),
      inquiryRequestId,
      additionalInfo: {},
    };
  }

  function paymentBody(vaNumber: string, paymentRequestId: string, amount: Rupiah, flagAdvise: "Y" | "N" = "N", trxId?: string) {
    referenceCounter++;
    return {
      ...identityOf(vaNumber),
      ...(trxId === undefined ? {} : { trxId }),
      paymentRequestId,
      channelCode: 6011,
      paidAmount: toSnapMoney(amount),
      trxDateTime: formatSnapTimestamp(now()),
      referenceNo: String(700_000_000 + referenceCounter),
      flagAdvise,
      additionalInfo: {},
    };
  }

  /** The registration (Create VA) of this displayed number, if the biller made one. */
  function registrationOf(vaNumber: string): Record<string, unknown> | undefined {
    const { virtualAccountNo } = identityOf(vaNumber);
    return [...registrations.values()].find((r) => r.virtualAccountNo === virtualAccountNo);
  }

  async function transfer(vaNumber: string, transferOptions: TransferOptions = {}): Promise<BankTransfer> {
    const registration = transferOptions.withoutInquiry ? registrationOf(vaNumber) : undefined;
    if (transferOptions.withoutInquiry && !registration) throw new Error(`bank simulator: ${vaNumber} was never registered`);
    const inquiryRequestId = transferOptions.inquiryRequestId ?? `${registration ? "pay" : "inq"}-${randomUUID()}`;
    const record: BankTransfer = {
      virtualAccountNo: identityOf(vaNumber).virtualAccountNo,
      inquiryRequestId,
      referenceNo: "",
      amount: undefined,
      state: "REFUSED",
      inquiry: NO_EXCHANGE,
      payments: [],
      debitedAt: undefined,
      trxId: registration ? String(registration.trxId) : undefined,
    };
    let totalAmount: unknown = registration && isRecord(registration.totalAmount) ? registration.totalAmount : undefined;
    if (!registration) {
      record.inquiry = await send("inquiry", inquiryBody(vaNumber, inquiryRequestId, transferOptions.typedAmount));
      transfers.push(record);
      if (record.inquiry.status !== 200 || record.inquiry.responseCode !== "2002400") return record;
      totalAmount = isRecord(record.inquiry.json?.virtualAccountData)
        ? record.inquiry.json.virtualAccountData.totalAmount
        : undefined;
    } else {
      transfers.push(record);
    }
    const amount = transferOptions.amount ?? parseSnapMoney(isRecord(totalAmount) ? totalAmount : undefined);
    if (amount === undefined) throw new Error("bank simulator: an open bill needs an amount");
    record.amount = amount;
    await transferOptions.beforePayment?.();
    record.debitedAt = now();
    record.state = "UNCONFIRMED";
    if (transferOptions.deliverPayment === false) return record;

    let lostAnswers = transferOptions.loseAnswers ?? 0;
    let externalId: string | undefined;
    for (let attempt = 0; attempt <= retryDelaysMs.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt - 1]));
      const body = paymentBody(vaNumber, inquiryRequestId, amount, attempt > 0 ? "Y" : "N", record.trxId);
      if (attempt === 0) record.referenceNo = String(body.referenceNo);
      else body.referenceNo = record.referenceNo;
      const answer = await send("payment", body, transferOptions.retrySameExternalId && externalId ? { externalId } : {});
      externalId = answer.sent.headers["X-EXTERNAL-ID"];
      record.payments.push(answer);
      if (lostAnswers > 0) {
        lostAnswers--;
        continue;
      }
      if (answer.status === 0 || answer.status >= 500) continue;
      record.state = answer.status === 200 && answer.responseCode === "2002500" ? "COMPLETED" : "REVERSED";
      return record;
    }
    return record;
  }

  const simulator: BankSimulator = {
    url: "",
    setGatewayUrl(url) {
      gatewayUrl = url;
    },
    identityOf,
    inquiryBody,
    paymentBody,
    send,
    transfer,
    transfers,
    statusQueries,
    registrations,
    failStatusQueries: 0,
    close: async () => {},
  };

  /** One transfer as Inquiry Status reports it, shaped like the standard's sample (§2.7). */
  function statusData(found: BankTransfer, body: Record<string, unknown>) {
    const paid = found.state === "COMPLETED" || found.state === "UNCONFIRMED";
    return {
      paymentFlagReason: paid ? { english: "Success", indonesia: "Sukses" } : { english: "Reversed", indonesia: "Dibatalkan" },
      partnerServiceId: body.partnerServiceId,
      customerNo: body.customerNo,
      virtualAccountNo: found.virtualAccountNo,
      inquiryRequestId: found.inquiryRequestId,
      ...(paid && found.amount !== undefined
        ? {
            paymentRequestId: found.inquiryRequestId,
            paidAmount: toSnapMoney(found.amount),
            transactionDate: formatSnapTimestamp(found.debitedAt ?? now()),
            referenceNo: found.referenceNo,
          }
        : {}),
      paymentFlagStatus: paid ? "00" : "01",
    };
  }

  /**
   * Service 26. With `inquiryRequestId` the one transfer it names; without, every transfer to the
   * number (§2.6: "If not send, will return array of transaction based on virtualAccountNo").
   */
  function inquiryStatus(body: Record<string, unknown>): HttpAnswer {
    const svc = SnapService.vaInquiryStatus;
    const inquiryRequestId = body.inquiryRequestId;
    if (typeof body.virtualAccountNo !== "string") return missingFieldAnswer(svc, "virtualAccountNo");
    if (inquiryRequestId !== undefined && typeof inquiryRequestId !== "string") return badFieldAnswer(svc, "inquiryRequestId");
    const asked = inquiryRequestId ?? "";
    if (simulator.failStatusQueries > 0) {
      simulator.failStatusQueries--;
      statusQueries.push({ inquiryRequestId: asked, paymentFlagStatus: undefined, status: 500 });
      return snapAnswer(BillerOutcomes.internalServerError, svc);
    }
    const toNumber = transfers.filter((t) => t.virtualAccountNo === body.virtualAccountNo && t.state !== "REFUSED");
    if (inquiryRequestId === undefined) {
      statusQueries.push({ inquiryRequestId: asked, paymentFlagStatus: undefined, status: 200 });
      return snapAnswer(SnapOutcomes.successful, svc, SnapOutcomes.successful.message, {
        virtualAccountData: toNumber.map((t) => statusData(t, body)),
        additionalInfo: {},
      });
    }
    const found =
      toNumber.find((t) => t.inquiryRequestId === inquiryRequestId) ??
      transfers.find((t) => t.inquiryRequestId === inquiryRequestId && t.virtualAccountNo === body.virtualAccountNo);
    if (!found) {
      statusQueries.push({ inquiryRequestId: asked, paymentFlagStatus: undefined, status: 404 });
      return snapAnswer(SnapOutcomes.transactionNotFound, svc);
    }
    const data = statusData(found, body);
    statusQueries.push({ inquiryRequestId: asked, paymentFlagStatus: data.paymentFlagStatus, status: 200 });
    return snapAnswer(SnapOutcomes.successful, svc, SnapOutcomes.successful.message, {
      virtualAccountData: data,
      additionalInfo: {},
    });
  }

  function createVa(body: Record<string, unknown>): HttpAnswer {
    const svc = SnapService.createVa;
    for (const field of ["partnerServiceId", "customerNo", "virtualAccountNo", "virtualAccountName", "trxId"]) {
      if (typeof body[field] !== "string" || body[field] === "") return missingFieldAnswer(svc, field);
    }
    if (body.virtualAccountNo !== `${body.partnerServiceId}${body.customerNo}`) return badFieldAnswer(svc, "virtualAccountNo");
    const trxId = String(body.trxId);
    if (registrations.has(trxId)) return snapAnswer(SnapOutcomes.duplicateReference, svc, "Duplicate trxId");
    registrations.set(trxId, body);
    const { partnerServiceId: psid, customerNo, virtualAccountNo, virtualAccountName } = body;
    return snapAnswer(SnapOutcomes.successful, svc, SnapOutcomes.successful.message, {
      virtualAccountData: { partnerServiceId: psid, customerNo, virtualAccountNo, virtualAccountName, trxId },
      additionalInfo: {},
    });
  }

  const routes: Record<string, { serviceCode: string; handle: (body: Record<string, unknown>) => HttpAnswer }> = {
    [BillerPath.inquiryStatus]: { serviceCode: SnapService.vaInquiryStatus, handle: inquiryStatus },
    [BillerPath.createVa]: { serviceCode: SnapService.createVa, handle: createVa },
  };

  async function handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    const route = routes[request.path];
    if (!route || request.method !== "POST") return { status: 404, body: { error: "NOT_FOUND" } };
    const query = request.query.toString();
    const verdict = await verifyInboundSnapRequest(inboundRequest(request), {
      serviceCode: route.serviceCode,
      signedPath: query === "" ? request.path : `${request.path}?${query}`,
      credentialsOf: (partnerId) =>
        partnerId === options.billerPartnerId ? { kind: "asymmetric", publicKey: billerKey } : undefined,
      externalIds,
      now: now(),
    });
    if (!verdict.ok) return simulatorResponse(verdict.answer);
    const body = parseJson(request.rawBody.toString("utf8"));
    if (!body) return simulatorResponse(snapAnswer(SnapOutcomes.badRequest, route.serviceCode));
    return simulatorResponse(route.handle(body));
  }

  const server = await startSimulatorServer(handle, options.port);
  simulator.url = server.url;
  simulator.close = () => server.close();
  return simulator;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
