import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import { snapAnswer } from "../../protocols/snap/answer.js";
import { InMemoryExternalIdStore } from "../../protocols/snap/external-id-store.js";
import { newExternalId } from "../../protocols/snap/headers.js";
import { verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { SnapOutcomes, SnapService } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey, signAsymmetric } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import type { HttpAnswer } from "../../providers/provider.js";
import {
  WinpayPath,
  type WinpayPaymentCallback,
  WinpayPaymentFlag,
  type WinpayVirtualAccountData,
} from "../../providers/winpay/wire.js";
import {
  answerSnapRoute,
  CallbackSender,
  callbackLifecycle,
  createSwitches,
  type DeliveryRecord,
  inboundRequest,
  LOST_CREATE_ANSWER,
  type NumberReissuingCreateMisbehaviour,
  type SimulatorRequest,
  type SimulatorResponse,
  simulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";
import { type PaymentAttempt, type SimulatedPayment, type SimulatedVa, WinpayBook } from "./book.js";
import { readCreateVa, readDeleteVa, readInquiryVa, readPaymentStatus, readSimulatePayment } from "./requests.js";

export interface WinpaySimulatorOptions {
  /** The one merchant this Winpay knows. */
  merchant: {
    partnerId: string;
    /** Verifies the merchant's requests. */
    publicKey: SnapKey;
    /** `{yoururl}/v1.0/transfer-va/payment`; its full path is what callbacks are signed over. */
    callbackUrl: string;
  };
  /** Signs callbacks; the merchant verifies them with the public half. */
  winpayPrivateKey: SnapKey;
  /**
   * Waits between callback deliveries. Winpay sends "3x until the merchant responds with the
   * expected response" and documents no intervals: two waits, three deliveries.
   */
  callbackRetryDelaysMs?: readonly number[];
  /** Winpay's admin fee per payment (capped at the amount). */
  feePerPayment?: Rupiah;
  now?: () => Date;
  port?: number;
}

/**
 * What the real Winpay does that a happy path never shows; see the kit for the sources. A reissued
 * number is BIN + the same customerNo.
 */
export interface WinpaySimulatorMisbehaviour extends NumberReissuingCreateMisbehaviour {
  /** Pays the VA `amount` even when it differs from its `totalAmount`. */
  payOtherThanBill(contractId: string, amount: Rupiah): SimulatedPayment;
}

export interface WinpaySimulator {
  /** Configure the adapter with this: the server root plus Winpay's `/snap` prefix. */
  baseUrl: string;
  readonly misbehaviour: WinpaySimulatorMisbehaviour;
  /** Every payment made, oldest first. */
  readonly ledger: readonly SimulatedPayment[];
  /** Every callback sent, with its attempts. */
  readonly deliveries: readonly DeliveryRecord[];
  virtualAccount(contractId: string): SimulatedVa | undefined;
  /** Pays a VA as a bank transfer would and starts its callback; throws when Winpay would refuse. */
  pay(contractId: string, amount?: Rupiah): SimulatedPayment;
  /** Resolves once every callback is acknowledged or out of attempts. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const SNAP_PREFIX = "/snap";

interface Route {
  method: string;
  serviceCode: string;
  /** `svc` is the route's own `serviceCode`, for the response codes it answers with. */
  handle: (body: Record<string, unknown>, svc: string) => HttpAnswer | Promise<HttpAnswer>;
}

/**
 * A local Winpay: same paths (under `/snap`), same validations and codes (seed 003), signs its
 * callbacks with its private key and redelivers them until acknowledged. In-memory, one merchant.
 */
export async function startWinpaySimulator(options: WinpaySimulatorOptions): Promise<WinpaySimulator> {
  const now = options.now ?? (() => new Date());
  const merchantKey = publicKeyFrom(options.merchant.publicKey);
  const winpayKey = privateKeyFrom(options.winpayPrivateKey);
  const callbackUrl = new URL(options.merchant.callbackUrl);
  const callbackPath = callbackUrl.pathname + callbackUrl.search;
  const externalIds = new InMemoryExternalIdStore();
  const book = new WinpayBook();
  /** The VA a status or delete request names: its contract and trx, and exactly its padded number. */
  const findNamed = (lookup: { contractId: string; trxId: string; virtualAccountNo: string }) => {
    const va = book.find(lookup.contractId, lookup.trxId);
    return va?.virtualAccountNo === lookup.virtualAccountNo ? va : undefined;
  };
  const callbacks = new CallbackSender(options.callbackRetryDelaysMs ?? [5_000, 30_000]);

  function sendCallback(va: SimulatedVa, payment: SimulatedPayment): DeliveryRecord {
    const body = JSON.stringify(callbackBody(va, payment));
    return callbacks.send(() => {
      const at = now();
      const timestamp = formatSnapTimestamp(at);
      return {
        url: callbackUrl.href,
        headers: {
          "Content-Type": "application/json",
          "X-Timestamp": timestamp,
          "X-Partner-ID": options.merchant.partnerId,
          "X-Signature": signAsymmetric({ method: "POST", path: callbackPath, body, timestamp }, winpayKey),
          "X-External-ID": newExternalId(at),
          "Channel-ID": "WINPAY",
        },
        body,
      };
    });
  }

  function pay(contractId: string, amount: Rupiah | undefined, billEnforced = true): PaymentAttempt {
    const va = book.find(contractId, undefined);
    if (!va) return { ok: false, outcome: SnapOutcomes.invalidBill };
    const attempt = book.pay(va, amount, now(), options.feePerPayment ?? 2_500n, billEnforced);
    if (attempt.ok) attempt.payment.callback = sendCallback(va, attempt.payment);
    return attempt;
  }

  const paid = (attempt: PaymentAttempt): SimulatedPayment => {
    if (!attempt.ok) throw new Error(`Winpay refused the payment: ${attempt.outcome.message}`);
    return attempt.payment;
  };

  const switches = createSwitches(callbacks);

  const routes: Record<string, Route> = {
    [WinpayPath.createVa]: {
      method: "POST",
      serviceCode: SnapService.createVa,
      async handle(body, svc) {
        const order = readCreateVa(body, svc, now());
        if (book.hasTrxId(order.trxId)) return snapAnswer(SnapOutcomes.duplicateReference, svc, "Duplicate trxId");
        const { loseAnswer, payFirst, reissue } = switches.takeNextCreate();
        const va = book.open(order, reissue);
        if (payFirst !== undefined) {
          paid(pay(va.contractId, payFirst));
          await callbacks.idle();
        }
        if (loseAnswer) return LOST_CREATE_ANSWER;
        return snapAnswer(SnapOutcomes.successful, svc, "Success", { virtualAccountData: virtualAccountData(va) });
      },
    },
    [WinpayPath.inquiryVa]: {
      method: "POST",
      serviceCode: SnapService.inquiryVa,
      handle(body, svc) {
        const { contractId, trxId } = readInquiryVa(body, svc);
        const va = book.find(contractId, trxId);
        if (!va) return snapAnswer(SnapOutcomes.transactionNotFound, svc, "Transaction not found");
        return snapAnswer(SnapOutcomes.successful, svc, "Success", { virtualAccountData: inquiryData(va) });
      },
    },
    [WinpayPath.paymentStatus]: {
      method: "POST",
      serviceCode: SnapService.vaInquiryStatus,
      handle(body, svc) {
        const lookup = readPaymentStatus(body, svc);
        const va = findNamed(lookup);
        if (!va) return snapAnswer(SnapOutcomes.transactionNotFound, svc, "Transaction not found");
        return snapAnswer(SnapOutcomes.successful, svc, "Successful", paymentStatus(va));
      },
    },
    [WinpayPath.deleteVa]: {
      method: "DELETE",
      serviceCode: SnapService.deleteVa,
      handle(body, svc) {
        const lookup = readDeleteVa(body, svc);
        const va = findNamed(lookup);
        if (!va) return snapAnswer(SnapOutcomes.transactionNotFound, svc, "Transaction not found");
        const deletion = book.delete(va);
        if (!deletion.ok) return snapAnswer(deletion.outcome, svc);
        return snapAnswer(SnapOutcomes.successful, svc, "Success", {
          virtualAccountData: { trxId: va.trxId },
          additionalInfo: { contractId: va.contractId, channel: va.channel },
        });
      },
    },
    [WinpayPath.simulatePayment]: {
      method: "POST",
      serviceCode: SnapService.vaPayment,
      handle(body, svc) {
        const request = readSimulatePayment(body, svc);
        const attempt = pay(request.contractId, request.amount);
        if (!attempt.ok) return snapAnswer(attempt.outcome, svc);
        return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
          paymentRequestId: attempt.payment.paymentRequestId,
          referenceNo: String(attempt.payment.referenceNo),
          additionalInfo: { contractId: attempt.payment.contractId },
        });
      },
    },
  };

  async function handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    const path = request.path.startsWith(`${SNAP_PREFIX}/`) ? request.path.slice(SNAP_PREFIX.length) : undefined;
    const route = path === undefined ? undefined : routes[path];
    if (!path || !route || route.method !== request.method) return { status: 404, body: { error: "NOT_FOUND" } };
    const query = request.query.toString();
    const verdict = await verifyInboundSnapRequest(inboundRequest(request), {
      serviceCode: route.serviceCode,
      signedPath: query === "" ? path : `${path}?${query}`,
      credentialsOf: (partnerId) =>
        partnerId === options.merchant.partnerId ? { kind: "asymmetric", publicKey: merchantKey } : undefined,
      externalIds,
      now: now(),
    });
    if (!verdict.ok) return simulatorResponse(verdict.answer);
    return answerSnapRoute(request.rawBody, route.serviceCode, (body) => route.handle(body, route.serviceCode));
  }

  const server = await startSimulatorServer(handle, options.port);
  return {
    baseUrl: `${server.url}${SNAP_PREFIX}`,
    ledger: book.ledger,
    virtualAccount: (contractId) => book.find(contractId, undefined),
    pay: (contractId, amount) => paid(pay(contractId, amount)),
    misbehaviour: {
      ...switches.misbehaviour,
      payOtherThanBill: (contractId, amount) => paid(pay(contractId, amount, false)),
    },
    ...callbackLifecycle(server, callbacks),
  };
}

function virtualAccountData(va: SimulatedVa): WinpayVirtualAccountData {
  return {
    partnerServiceId: va.partnerServiceId,
    customerNo: va.customerNo,
    virtualAccountNo: va.virtualAccountNo,
    virtualAccountName: va.virtualAccountName,
    trxId: va.trxId,
    ...(va.totalAmount === undefined ? {} : { totalAmount: toSnapMoney(va.totalAmount) }),
    virtualAccountTrxType: va.type,
    ...(va.expiredDate === undefined ? {} : { expiredDate: va.expiredDate }),
    additionalInfo: { channel: va.channel, contractId: va.contractId },
  };
}

/** inquiry-va's `virtualAccountData` carries fewer fields than create-va's (seed 003 sample). */
function inquiryData(va: SimulatedVa): Record<string, unknown> {
  const { virtualAccountNo, virtualAccountName, trxId, totalAmount, expiredDate } = virtualAccountData(va);
  return {
    virtualAccountNo,
    virtualAccountName,
    trxId,
    ...(totalAmount === undefined ? {} : { totalAmount }),
    ...(expiredDate === undefined ? {} : { expiredDate }),
    additionalInfo: { channel: va.channel, contractId: va.contractId },
  };
}

function paymentStatus(va: SimulatedVa): Record<string, unknown> {
  const last = va.payments.at(-1);
  return {
    virtualAccountData: {
      virtualAccountNo: va.virtualAccountNo,
      virtualAccountName: va.virtualAccountName,
      paymentFlagStatus: last ? WinpayPaymentFlag.paid : WinpayPaymentFlag.unpaid,
      ...(last ? { transactionDate: formatSnapTimestamp(last.paidAt), referenceNo: String(last.referenceNo) } : {}),
      ...(last ? { totalAmount: toSnapMoney(last.amount) } : {}),
    },
    additionalInfo: { contractId: va.contractId, channel: va.channel, trxId: va.trxId },
  };
}

/** Shaped like Winpay's own sample: `paidAmount.value` without decimals, `referenceNo` a number. */
function callbackBody(va: SimulatedVa, payment: SimulatedPayment): WinpayPaymentCallback {
  return {
    partnerServiceId: va.partnerServiceId,
    customerNo: va.customerNo,
    virtualAccountNo: va.virtualAccountNo,
    virtualAccountName: va.virtualAccountName,
    trxId: va.trxId,
    paymentRequestId: payment.paymentRequestId,
    paidAmount: { value: payment.amount.toString(), currency: "IDR" },
    trxDateTime: formatSnapTimestamp(payment.paidAt),
    referenceNo: payment.referenceNo,
    additionalInfo: {
      channel: va.channel,
      contractId: va.contractId,
      feeAmount: formatRupiah2(payment.fee),
      nettAmount: formatRupiah2(payment.nett),
    },
  };
}
