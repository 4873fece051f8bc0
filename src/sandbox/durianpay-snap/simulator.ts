import { randomBytes, randomInt } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer, unauthorizedAnswer } from "../../protocols/snap/answer.js";
import { InMemoryExternalIdStore } from "../../protocols/snap/external-id-store.js";
import { newExternalId, SnapHeader } from "../../protocols/snap/headers.js";
import { checkTimestamp, missingHeader, verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import { SnapOutcomes } from "../../protocols/snap/response-code.js";
import {
  privateKeyFrom,
  publicKeyFrom,
  type SnapKey,
  signAsymmetric,
  verifyAccessTokenRequest,
} from "../../protocols/snap/signature.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { PREFIX_DIGITS, SUFFIX_DIGITS } from "../../providers/durianpay-snap/capabilities.js";
import {
  DURIANPAY_CHANNEL_ID,
  DURIANPAY_UNPAID,
  type DurianpayPaymentNotification,
  DurianpaySnapPath,
  type DurianpayStatusData,
  DurianpayTransactionStatus,
  type DurianpayTrxType,
  type DurianpayVirtualAccountData,
} from "../../providers/durianpay-snap/wire.js";
import type { HttpAnswer, InboundHttpRequest } from "../../providers/provider.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
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
  SnapRefusal,
  simulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";

/** Service codes of Durianpay's VA services as SNAP numbers them. */
const Svc = { token: "73", payment: "25", status: "26", create: "27", update: "28", delete: "31" } as const;

/**
 * Bank prefixes of this simulator: 8 digits, "First 8 digits of the virtual account number". PERMATA
 * and CIMB are the legacy API's sandbox prefixes; the others are its 9-digit prefixes cut to 8.
 */
const PREFIXES: Readonly<Record<string, string>> = {
  BCA: "19006100",
  BNI: "98829100",
  BRI: "12361700",
  CIMB: "18991001",
  MANDIRI: "89022900",
  PERMATA: "88565004",
};

/** Published retry schedule: "2, 5, 10, 90, and 210 minutes" after the first delivery. */
export const DURIANPAY_RETRY_DELAYS_MS = [2, 5, 10, 90, 210].map((minutes) => minutes * 60_000);
const TOKEN_LIFETIME_MS = 900_000;

export interface DurianpaySnapSimulatorOptions {
  merchant: {
    clientKey: string;
    clientSecret: string;
    /** Verifies the merchant's token requests. */
    publicKey: SnapKey;
    /** `{merchant}/v1.0/transfer-va/payment`; its path is what notifications are signed over. */
    notificationUrl: string;
  };
  /** Signs notifications; the merchant verifies them with the public half. */
  durianpayPrivateKey: SnapKey;
  callbackRetryDelaysMs?: readonly number[];
  now?: () => Date;
  port?: number;
}

export interface SimulatedVa {
  bankCode: string;
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  trxId: string;
  type: DurianpayTrxType;
  totalAmount: Rupiah | undefined;
  expiresAt: Date;
  deleted: boolean;
  payments: SimulatedPayment[];
}

export interface SimulatedPayment {
  paymentRequestId: string;
  trxId: string;
  virtualAccountNo: string;
  amount: Rupiah;
  paidAt: Date;
}

export interface DurianpaySnapSimulator {
  baseUrl: string;
  readonly ledger: readonly SimulatedPayment[];
  readonly deliveries: readonly DeliveryRecord[];
  virtualAccount(virtualAccountNo: string, trxId: string): SimulatedVa | undefined;
  /** Pays as a bank transfer would and starts the notification; throws when Durianpay would refuse. */
  pay(virtualAccountNo: string, trxId: string, amount?: Rupiah, billEnforced?: boolean): SimulatedPayment;
  misbehaviour: NumberReissuingCreateMisbehaviour;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** `2024-05-13 08:47:36.452492159 +0000 UTC`, as the published token answer writes `expiresIn`. */
function goTime(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000000 +0000 UTC`;
}

/**
 * A local Durianpay SNAP VA service: B2B token as published (RSA-signed `clientKey|timestamp`,
 * `AUTHORIZATION_CODE`, `expiresIn` an instant), symmetric HMAC-SHA512 on every VA call, the
 * standard's VA paths and codes where Durianpay prints none, and notifications signed with its
 * private key, retried on anything but 200 after 2, 5, 10, 90 and 210 minutes.
 */
export async function startDurianpaySnapSimulator(options: DurianpaySnapSimulatorOptions): Promise<DurianpaySnapSimulator> {
  const now = options.now ?? (() => new Date());
  const merchantKey = publicKeyFrom(options.merchant.publicKey);
  const durianpayKey = privateKeyFrom(options.durianpayPrivateKey);
  const notificationUrl = new URL(options.merchant.notificationUrl);
  const notificationPath = notificationUrl.pathname + notificationUrl.search;
  const externalIds = new InMemoryExternalIdStore();
  const tokens = new Map<string, number>();
  const vas: SimulatedVa[] = [];
  const ledger: SimulatedPayment[] = [];
  const callbacks = new CallbackSender(options.callbackRetryDelaysMs ?? DURIANPAY_RETRY_DELAYS_MS);
  const switches = createSwitches(callbacks);

  const find = (virtualAccountNo: unknown, trxId: unknown) =>
    vas.find((va) => va.trxId === trxId && va.virtualAccountNo === virtualAccountNo);
  const active = (va: SimulatedVa) => !va.deleted && va.expiresAt > now() && va.payments.length === 0;

  function notify(va: SimulatedVa, payment: SimulatedPayment): void {
    const notification: DurianpayPaymentNotification = {
      partnerServiceId: va.partnerServiceId,
      customerNo: va.customerNo,
      virtualAccountNo: va.virtualAccountNo,
      trxId: va.trxId,
      paymentRequestId: payment.paymentRequestId,
      paidAmount: toSnapMoney(payment.amount),
      trxDateTime: formatSnapTimestamp(payment.paidAt),
      additionalInfo: { latestTransactionStatus: DurianpayTransactionStatus.completed, transactionStatusDesc: "completed" },
    };
    const body = JSON.stringify(notification);
    callbacks.send(() => {
      const at = now();
      const timestamp = formatSnapTimestamp(at);
      return {
        url: notificationUrl.href,
        headers: {
          "Content-Type": "application/json",
          "X-TIMESTAMP": timestamp,
          "X-SIGNATURE": signAsymmetric({ method: "POST", path: notificationPath, body, timestamp }, durianpayKey),
          "X-PARTNER-ID": options.merchant.clientKey,
          "X-EXTERNAL-ID": newExternalId(at),
          "CHANNEL-ID": DURIANPAY_CHANNEL_ID,
        },
        body,
      };
    });
  }

  function pay(va: SimulatedVa | undefined, amount: Rupiah | undefined, billEnforced = true): SimulatedPayment {
    if (!va || !active(va)) throw new SnapRefusal(snapAnswer(SnapOutcomes.invalidBill, Svc.payment));
    const paid = amount ?? va.totalAmount;
    if (paid === undefined || paid <= 0n) throw new SnapRefusal(snapAnswer(SnapOutcomes.invalidAmount, Svc.payment));
    if (billEnforced && va.totalAmount !== undefined && paid !== va.totalAmount) {
      throw new SnapRefusal(snapAnswer(SnapOutcomes.invalidAmount, Svc.payment));
    }
    const payment: SimulatedPayment = {
      paymentRequestId: `pay_${randomBytes(8).toString("hex")}`,
      trxId: va.trxId,
      virtualAccountNo: va.virtualAccountNo,
      amount: paid,
      paidAt: now(),
    };
    va.payments.push(payment);
    ledger.push(payment);
    notify(va, payment);
    return payment;
  }

  const text = (body: Record<string, unknown>, field: string, svc: string, optional = false): string | undefined => {
    const value = body[field];
    if (value === undefined && optional) return undefined;
    if (value === undefined) throw new SnapRefusal(missingFieldAnswer(svc, field));
    if (typeof value !== "string" || value === "") throw new SnapRefusal(badFieldAnswer(svc, field));
    return value;
  };
  const money = (body: Record<string, unknown>, field: string, svc: string): Rupiah | undefined => {
    if (body[field] === undefined) return undefined;
    const amount = parseSnapMoney(body[field]);
    if (amount === undefined || amount <= 0n || !/\.\d{2}$/.test(String((body[field] as { value?: unknown }).value))) {
      throw new SnapRefusal(badFieldAnswer(svc, field));
    }
    return amount;
  };
  const date = (body: Record<string, unknown>, field: string, svc: string): Date | undefined => {
    const value = text(body, field, svc, true);
    if (value === undefined) return undefined;
    const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/.test(value) ? parseSnapTimestamp(value) : undefined;
    if (!at) throw new SnapRefusal(badFieldAnswer(svc, field));
    return at;
  };
  /** The VA a request names by its full key, prefix and suffix agreeing with the number. */
  const named = (body: Record<string, unknown>, svc: string): SimulatedVa => {
    const partnerServiceId = text(body, "partnerServiceId", svc);
    const customerNo = text(body, "customerNo", svc);
    const virtualAccountNo = text(body, "virtualAccountNo", svc);
    const trxId = text(body, "trxId", svc);
    const va = find(virtualAccountNo, trxId);
    if (!va || va.partnerServiceId !== partnerServiceId || va.customerNo !== customerNo) {
      throw new SnapRefusal(snapAnswer(SnapOutcomes.transactionNotFound, svc, "Transaction Not Found"));
    }
    return va;
  };
  const data = (va: SimulatedVa): DurianpayVirtualAccountData => ({
    partnerServiceId: va.partnerServiceId,
    customerNo: va.customerNo,
    virtualAccountNo: va.virtualAccountNo,
    virtualAccountName: va.virtualAccountName,
    trxId: va.trxId,
    virtualAccountTrxType: va.type,
    expiredDate: formatSnapTimestamp(va.expiresAt),
    ...(va.totalAmount === undefined ? {} : { totalAmount: toSnapMoney(va.totalAmount) }),
    additionalInfo: { bankCode: va.bankCode },
  });

  async function create(body: Record<string, unknown>): Promise<HttpAnswer> {
    const svc = Svc.create;
    const virtualAccountName = text(body, "virtualAccountName", svc) as string;
    const trxId = text(body, "trxId", svc) as string;
    const type = text(body, "virtualAccountTrxType", svc);
    if (type !== "C" && type !== "O") throw new SnapRefusal(badFieldAnswer(svc, "virtualAccountTrxType"));
    const totalAmount = money(body, "totalAmount", svc);
    if (type === "C" && totalAmount === undefined) throw new SnapRefusal(missingFieldAnswer(svc, "totalAmount"));
    const expiresAt = date(body, "expiredDate", svc) ?? new Date(now().getTime() + 24 * 3_600_000);
    if (expiresAt <= now()) throw new SnapRefusal(badFieldAnswer(svc, "expiredDate"));
    const info = isRecord(body.additionalInfo) ? body.additionalInfo : undefined;
    if (!info) throw new SnapRefusal(missingFieldAnswer(svc, "additionalInfo"));
    const bankCode = text(info, "bankCode", svc);
    const prefix = bankCode !== undefined && Object.hasOwn(PREFIXES, bankCode) ? PREFIXES[bankCode] : undefined;
    const maxSuffix = bankCode !== undefined && Object.hasOwn(SUFFIX_DIGITS, bankCode) ? SUFFIX_DIGITS[bankCode] : undefined;
    if (!prefix || !maxSuffix || !bankCode) throw new SnapRefusal(badFieldAnswer(svc, "additionalInfo.bankCode"));
    const asked = text(body, "customerNo", svc, true);
    if (asked !== undefined && !new RegExp(`^\\d{1,${maxSuffix}}$`).test(asked))
      throw new SnapRefusal(badFieldAnswer(svc, "customerNo"));
    if (vas.some((va) => va.trxId === trxId)) return snapAnswer(SnapOutcomes.duplicateReference, svc, "Duplicate trxId");

    const { loseAnswer, payFirst, reissue } = switches.takeNextCreate();
    let partnerServiceId = prefix;
    let customerNo = asked ?? String(randomInt(10 ** (maxSuffix - 1), 10 ** maxSuffix));
    if (reissue !== undefined) {
      partnerServiceId = reissue.slice(0, PREFIX_DIGITS);
      customerNo = reissue.slice(PREFIX_DIGITS);
    } else if (vas.some((va) => va.virtualAccountNo === partnerServiceId + customerNo && active(va))) {
      return snapAnswer(SnapOutcomes.duplicateReference, svc, "Duplicate virtualAccountNo");
    }
    const va: SimulatedVa = {
      bankCode,
      partnerServiceId,
      customerNo,
      virtualAccountNo: partnerServiceId + customerNo,
      virtualAccountName,
      trxId,
      type,
      totalAmount,
      expiresAt,
      deleted: false,
      payments: [],
    };
    vas.push(va);
    if (payFirst !== undefined) {
      pay(va, payFirst);
      await callbacks.idle();
    }
    if (loseAnswer) return LOST_CREATE_ANSWER;
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", { virtualAccountData: data(va) });
  }

  function update(body: Record<string, unknown>): HttpAnswer {
    const svc = Svc.update;
    const va = named(body, svc);
    const virtualAccountName = text(body, "virtualAccountName", svc) as string;
    const expiresAt = date(body, "expiredDate", svc);
    const totalAmount = money(body, "totalAmount", svc);
    if (va.payments.length > 0) return snapAnswer(SnapOutcomes.paidBill, svc);
    if (va.deleted || va.expiresAt <= now()) return snapAnswer(SnapOutcomes.expiredBill, svc);
    if (totalAmount !== undefined && va.type !== "C") throw new SnapRefusal(badFieldAnswer(svc, "totalAmount"));
    va.virtualAccountName = virtualAccountName;
    if (expiresAt) va.expiresAt = expiresAt;
    if (totalAmount !== undefined) va.totalAmount = totalAmount;
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", { virtualAccountData: data(va) });
  }

  function remove(body: Record<string, unknown>): HttpAnswer {
    const svc = Svc.delete;
    const va = named(body, svc);
    if (va.payments.length > 0) return snapAnswer(SnapOutcomes.paidBill, svc);
    va.deleted = true;
    const { partnerServiceId, customerNo, virtualAccountNo, trxId } = va;
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
      virtualAccountData: { partnerServiceId, customerNo, virtualAccountNo, trxId },
    });
  }

  function status(body: Record<string, unknown>): HttpAnswer {
    const svc = Svc.status;
    const va = named(body, svc);
    const asked = text(body, "paymentRequestId", svc, true);
    const payment = asked === undefined ? va.payments.at(-1) : va.payments.find((p) => p.paymentRequestId === asked);
    if (asked !== undefined && !payment) return snapAnswer(SnapOutcomes.transactionNotFound, svc, "Transaction Not Found");
    const state: DurianpayStatusData = {
      partnerServiceId: va.partnerServiceId,
      customerNo: va.customerNo,
      virtualAccountNo: va.virtualAccountNo,
      trxId: va.trxId,
      ...(payment
        ? {
            paymentRequestId: payment.paymentRequestId,
            paidAmount: toSnapMoney(payment.amount),
            trxDateTime: formatSnapTimestamp(payment.paidAt),
          }
        : {}),
      additionalInfo: payment
        ? { latestTransactionStatus: DurianpayTransactionStatus.completed, transactionStatusDesc: "completed" }
        : { latestTransactionStatus: DURIANPAY_UNPAID, transactionStatusDesc: "pending" },
    };
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", { virtualAccountData: state });
  }

  function simulate(body: Record<string, unknown>): HttpAnswer {
    const svc = Svc.payment;
    const virtualAccountNo = text(body, "virtualAccountNo", svc);
    const trxId = text(body, "trxId", svc);
    const payment = pay(find(virtualAccountNo, trxId), money(body, "amount", svc));
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
      virtualAccountData: { virtualAccountNo, trxId, paymentRequestId: payment.paymentRequestId },
    });
  }

  function token(request: InboundHttpRequest): HttpAnswer {
    const svc = Svc.token;
    const missing = missingHeader(request, ["X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE"]);
    if (missing) return missingFieldAnswer(svc, missing);
    const timestamp = request.headers[SnapHeader.timestamp] ?? "";
    const clientKey = request.headers[SnapHeader.clientKey] ?? "";
    const fresh = checkTimestamp(timestamp, svc, now());
    if (!fresh.ok) return fresh.answer;
    if (clientKey !== options.merchant.clientKey) return unauthorizedAnswer(svc, "Unknown Client");
    if (!verifyAccessTokenRequest(clientKey, timestamp, request.headers[SnapHeader.signature] ?? "", merchantKey)) {
      return unauthorizedAnswer(svc, "Invalid Signature");
    }
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return snapAnswer(SnapOutcomes.badRequest, svc);
    }
    if (!isRecord(body) || body.grantType === undefined) return missingFieldAnswer(svc, "grantType");
    if (body.grantType !== "AUTHORIZATION_CODE") return badFieldAnswer(svc, "grantType");
    const accessToken = randomBytes(24).toString("base64url");
    const expiresAt = now().getTime() + TOKEN_LIFETIME_MS;
    tokens.set(accessToken, expiresAt);
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
      accessToken,
      tokenType: "BearerToken",
      expiresIn: goTime(new Date(expiresAt)),
    });
  }

  const routes: Record<
    string,
    { method: string; svc: string; handle: (body: Record<string, unknown>) => HttpAnswer | Promise<HttpAnswer> }
  > = {
    [DurianpaySnapPath.createVa]: { method: "POST", svc: Svc.create, handle: create },
    [DurianpaySnapPath.updateVa]: { method: "PUT", svc: Svc.update, handle: update },
    [DurianpaySnapPath.deleteVa]: { method: "DELETE", svc: Svc.delete, handle: remove },
    [DurianpaySnapPath.status]: { method: "POST", svc: Svc.status, handle: status },
    [DurianpaySnapPath.simulatePayment]: { method: "POST", svc: Svc.payment, handle: simulate },
  };

  async function handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    const inbound = inboundRequest(request);
    if (request.path === DurianpaySnapPath.accessToken && request.method === "POST") return simulatorResponse(token(inbound));
    const route = routes[request.path];
    if (!route || route.method !== request.method) return { status: 404, body: { error: "NOT_FOUND" } };
    const verdict = await verifyInboundSnapRequest(inbound, {
      serviceCode: route.svc,
      signedPath: request.path,
      credentialsOf: (partnerId) =>
        partnerId === options.merchant.clientKey
          ? {
              kind: "symmetric",
              clientSecret: options.merchant.clientSecret,
              clientIdOfToken: (accessToken) => {
                const expiresAt = tokens.get(accessToken);
                return expiresAt !== undefined && expiresAt > now().getTime() ? options.merchant.clientKey : undefined;
              },
            }
          : undefined,
      externalIds,
      now: now(),
    });
    if (!verdict.ok) return simulatorResponse(verdict.answer);
    return answerSnapRoute(request.rawBody, route.svc, route.handle);
  }

  const server = await startSimulatorServer(handle, options.port);
  const paid = (va: SimulatedVa | undefined, amount: Rupiah | undefined, billEnforced?: boolean) => {
    try {
      return pay(va, amount, billEnforced);
    } catch (error) {
      if (error instanceof SnapRefusal) throw new Error(`Durianpay refused the payment: ${error.answer.body}`);
      throw error;
    }
  };
  return {
    baseUrl: server.url,
    ledger,
    virtualAccount: find,
    pay: (virtualAccountNo, trxId, amount, billEnforced) => paid(find(virtualAccountNo, trxId), amount, billEnforced),
    misbehaviour: switches.misbehaviour,
    ...callbackLifecycle(server, callbacks),
  };
}
