import { randomBytes } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { createAccessTokenIssuer } from "../../protocols/snap/access-token-issuer.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer } from "../../protocols/snap/answer.js";
import { InMemoryExternalIdStore } from "../../protocols/snap/external-id-store.js";
import { SnapHeader } from "../../protocols/snap/headers.js";
import { verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import { type SnapOutcome, SnapOutcomes } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey, signAsymmetric } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { padPartnerServiceId } from "../../protocols/snap/va-number.js";
import {
  AYOCONNECT_SNAP_BANKS,
  type AyoconnectSnapBank,
  bankByAyoconnectCode,
} from "../../providers/ayoconnect-snap/capabilities.js";
import {
  type AyoconnectSnapCallback,
  AyoconnectSnapService,
  type AyoconnectSnapVirtualAccountData,
  DEFAULT_AYOCONNECT_SNAP_PATHS,
  encodeSignature,
  type IsSingleUse,
  SIMULATE_PAYMENT_PATH,
  type SignatureEncoding,
  signatureAsBase64,
} from "../../providers/ayoconnect-snap/wire.js";
import type { HttpAnswer } from "../../providers/provider.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import { CallbacksStoppingOnClientErrors } from "../ayoconnect/callbacks.js";
import {
  answerSnapRoute,
  callbackLifecycle,
  createSwitches,
  type DeliveryRecord,
  inboundRequest,
  LOST_CREATE_ANSWER,
  type SimulatorRequest,
  type SimulatorResponse,
  SnapRefusal,
  simulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";

export interface AyoconnectSnapSimulatorOptions {
  merchant: {
    clientId: string;
    clientSecret: string;
    partnerId: string;
    /** Verifies the merchant's B2B token requests. */
    publicKey: SnapKey;
    /** The registered callback URL; its path is what callbacks are signed over. */
    callbackUrl: string;
  };
  /** Signs callbacks. */
  ayoconnectPrivateKey: SnapKey;
  signatureEncoding?: SignatureEncoding;
  /** "retry the callback up to 3 times with intervals of 5 seconds, 10 seconds, and 30 seconds" (not after a 4xx). */
  callbackRetryDelaysMs?: readonly number[];
  now?: () => Date;
}

export interface SimulatedPayment {
  trxId: string;
  amount: Rupiah;
  paidAt: Date;
  callback: DeliveryRecord | undefined;
}

export interface SimulatedVa {
  trxId: string;
  referenceNo: string;
  bank: AyoconnectSnapBank;
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  virtualAccountName: string;
  isSingleUse: IsSingleUse;
  totalAmount: Rupiah | undefined;
  expiresAt: Date;
  payments: SimulatedPayment[];
}

/** Bank prefixes (the callback sample's `14629` for BCA; the others made up, 5 digits, 4 for BNI). */
const PREFIX: Record<string, string> = { BCA: "14629", BRI: "12581", BNI: "8662", MANDIRI: "89610" };

/**
 * A local Ayoconnect SNAP VA service: B2B token, Create / Update / Inquiry VA on the SNAP standard
 * paths, symmetric signatures checked over the exact bytes (in the configured encoding), signed
 * payment callbacks with Ayoconnect's retry policy, and the bank matrix of the Create VA page.
 */
export async function startAyoconnectSnapSimulator(options: AyoconnectSnapSimulatorOptions) {
  const now = options.now ?? (() => new Date());
  const encoding = options.signatureEncoding ?? "base64";
  const merchantKey = publicKeyFrom(options.merchant.publicKey);
  const ayoconnectKey = privateKeyFrom(options.ayoconnectPrivateKey);
  const callbackUrl = new URL(options.merchant.callbackUrl);
  const issuer = createAccessTokenIssuer({
    clientPublicKeyOf: (clientId) => (clientId === options.merchant.clientId ? merchantKey : undefined),
    tokenSecret: randomBytes(32),
    now,
  });
  const externalIds = new InMemoryExternalIdStore();
  const callbacks = new CallbacksStoppingOnClientErrors(options.callbackRetryDelaysMs ?? [5_000, 10_000, 30_000]);
  const byTrxId = new Map<string, SimulatedVa>();
  /** The most recent VA per full padded number (Inquiry VA "returns the most recent VA record"). */
  const byNumber = new Map<string, SimulatedVa>();
  const ledger: SimulatedPayment[] = [];
  const switches = createSwitches(callbacks);
  let issued = 0;

  const isActive = (va: SimulatedVa, at: Date) => at <= va.expiresAt && !(va.isSingleUse === "Y" && va.payments.length > 0);

  function callbackBody(va: SimulatedVa, payment: SimulatedPayment): AyoconnectSnapCallback {
    return {
      responseCode: "2003400",
      responseMessage: "Successful",
      virtualAccountData: {
        partnerServiceId: va.partnerServiceId,
        customerNo: va.customerNo,
        virtualAccountNo: va.virtualAccountNo,
        virtualAccountName: va.virtualAccountName,
        trxId: va.trxId,
        totalAmount: toSnapMoney(va.totalAmount ?? 0n),
        latestPaidAmount: toSnapMoney(payment.amount),
        latestPaidTime: formatSnapTimestamp(payment.paidAt),
        additionalInfo: { isSingleUse: va.isSingleUse },
      },
    };
  }

  function sendCallback(va: SimulatedVa, payment: SimulatedPayment) {
    const body = JSON.stringify(callbackBody(va, payment));
    const timestamp = formatSnapTimestamp(now());
    const path = callbackUrl.pathname + callbackUrl.search;
    const signature = signAsymmetric({ method: "POST", path, body, timestamp }, ayoconnectKey);
    return callbacks.send({
      url: callbackUrl.href,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": encodeSignature(signature, encoding),
        "X-PARTNER-ID": options.merchant.partnerId,
        "X-EXTERNAL-ID": randomBytes(16).toString("hex"),
        "CHANNEL-ID": "95221",
      },
      body,
    });
  }

  type PaymentAttempt = { ok: true; payment: SimulatedPayment; firstAnswer: Promise<void> } | { ok: false; outcome: SnapOutcome };

  /** A bank transfer: closed VAs take exactly their bill (unless `billEnforced` is off), single-payment VAs once. */
  function pay(trxId: string, requested: Rupiah | undefined, billEnforced = true): PaymentAttempt {
    const va = byTrxId.get(trxId);
    if (!va) return { ok: false, outcome: SnapOutcomes.invalidBill };
    const at = now();
    if (at > va.expiresAt) return { ok: false, outcome: SnapOutcomes.expiredBill };
    if (va.isSingleUse === "Y" && va.payments.length > 0) return { ok: false, outcome: SnapOutcomes.paidBill };
    const amount = requested ?? va.totalAmount;
    if (amount === undefined || amount <= 0n) return { ok: false, outcome: SnapOutcomes.invalidAmount };
    if (billEnforced && va.totalAmount !== undefined && amount !== va.totalAmount)
      return { ok: false, outcome: SnapOutcomes.invalidAmount };
    // `latestPaidTime` has whole seconds: two payments to one VA never share one.
    const last = va.payments.at(-1)?.paidAt.getTime() ?? 0;
    const paidAt = new Date(Math.max(Math.floor(at.getTime() / 1000) * 1000, last + 1000));
    const payment: SimulatedPayment = { trxId, amount, paidAt, callback: undefined };
    va.payments.push(payment);
    ledger.push(payment);
    const sent = sendCallback(va, payment);
    payment.callback = sent.record;
    return { ok: true, payment, firstAnswer: sent.firstAnswer };
  }

  const money = (value: unknown, field: string, svc: string): Rupiah | undefined => {
    if (value === undefined) return undefined;
    const amount = parseSnapMoney(value);
    if (amount === undefined) throw new SnapRefusal(badFieldAnswer(svc, field));
    return amount;
  };
  const text = (body: Record<string, unknown>, field: string, svc: string, pattern: RegExp): string => {
    const value = body[field];
    if (value === undefined || value === "") throw new SnapRefusal(missingFieldAnswer(svc, field));
    if (typeof value !== "string" || !pattern.test(value)) throw new SnapRefusal(badFieldAnswer(svc, field));
    return value;
  };
  const expiry = (body: Record<string, unknown>, svc: string): Date => {
    if (body.expiredDate === undefined) return new Date(now().getTime() + 10 * 60_000); // "default expiry of 10 minutes"
    const at =
      typeof body.expiredDate === "string" && body.expiredDate.length === 25 ? parseSnapTimestamp(body.expiredDate) : undefined;
    if (!at || at <= now()) throw new SnapRefusal(badFieldAnswer(svc, "expiredDate"));
    return at;
  };

  function findNamed(body: Record<string, unknown>, svc: string): SimulatedVa {
    const partnerServiceId = text(body, "partnerServiceId", svc, /^ {0,7}\d{1,8}$/);
    const customerNo = text(body, "customerNo", svc, /^[A-Za-z0-9]{6,20}$/);
    const virtualAccountNo = text(body, "virtualAccountNo", svc, /^ {0,7}\d{12,26}$/);
    // The trxId is checked for shape only: Inquiry VA answers the number's most recent VA (API Flows).
    text(body, "trxId", svc, /^[A-Za-z0-9]{32}$/);
    if (partnerServiceId.length !== 8) throw new SnapRefusal(badFieldAnswer(svc, "partnerServiceId"));
    const va = byNumber.get(virtualAccountNo);
    if (!va || va.partnerServiceId !== partnerServiceId || va.customerNo !== customerNo) {
      throw new SnapRefusal(snapAnswer(SnapOutcomes.invalidBill, svc, "Invalid Bill or VA"));
    }
    return va;
  }

  function vaData(va: SimulatedVa, withPayment: boolean): AyoconnectSnapVirtualAccountData {
    const latest = va.payments.at(-1);
    const at = now();
    const status = isActive(va, at)
      ? va.payments.length > 0
        ? "PAID"
        : "ACTIVE"
      : va.payments.length > 0 && va.isSingleUse === "Y"
        ? "INACTIVE"
        : "EXPIRED";
    return {
      partnerServiceId: va.partnerServiceId,
      customerNo: va.customerNo,
      virtualAccountNo: va.virtualAccountNo,
      virtualAccountName: va.virtualAccountName,
      trxId: va.trxId,
      totalAmount: toSnapMoney(va.totalAmount ?? 0n),
      expiredDate: formatSnapTimestamp(va.expiresAt),
      ...(withPayment ? { virtualAccountStatus: status } : {}),
      ...(withPayment && latest
        ? { latestPaidAmount: toSnapMoney(latest.amount), latestPaidTime: formatSnapTimestamp(latest.paidAt) }
        : {}),
      additionalInfo: { isSingleUse: va.isSingleUse, bankCode: va.bank.ayoconnectCode },
    };
  }

  async function createVa(body: Record<string, unknown>, externalId: string): Promise<HttpAnswer> {
    const svc = AyoconnectSnapService.createVa;
    const customerNo = text(body, "customerNo", svc, /^[A-Za-z0-9]{6,20}$/);
    const trxId = text(body, "trxId", svc, /^[A-Za-z0-9]{32}$/);
    const virtualAccountName = text(body, "virtualAccountName", svc, /^.{1,100}$/);
    const info = isRecord(body.additionalInfo) ? body.additionalInfo : undefined;
    if (!info) throw new SnapRefusal(missingFieldAnswer(svc, "additionalInfo"));
    if (info.isSingleUse !== "Y" && info.isSingleUse !== "N")
      throw new SnapRefusal(badFieldAnswer(svc, "additionalInfo.isSingleUse"));
    const bank = typeof info.bankCode === "string" ? bankByAyoconnectCode(info.bankCode) : undefined;
    if (!bank) throw new SnapRefusal(badFieldAnswer(svc, "additionalInfo.bankCode"));
    const total = money(body.totalAmount, "totalAmount", svc);
    const totalAmount = total === 0n ? undefined : total;
    if (totalAmount !== undefined && info.isSingleUse === "N" && !bank.multiPaymentClosedAmount) {
      throw new SnapRefusal(badFieldAnswer(svc, "additionalInfo.isSingleUse"));
    }
    if (
      body.virtualAccountPhone !== undefined &&
      (typeof body.virtualAccountPhone !== "string" || !/^62\d{8,13}$/.test(body.virtualAccountPhone))
    ) {
      throw new SnapRefusal(badFieldAnswer(svc, "virtualAccountPhone"));
    }
    const expiresAt = expiry(body, svc);
    if (byTrxId.has(trxId)) return snapAnswer(SnapOutcomes.conflict, svc, "External ID Conflict");
    const { loseAnswer, payFirst, reissue } = switches.takeNextCreate();
    const prefix = PREFIX[bank.bankCode] ?? "14629";
    let custom: string;
    if (reissue !== undefined) {
      if (!reissue.startsWith(prefix)) throw new Error(`${reissue} is not a ${bank.bankCode} number`);
      custom = reissue.slice(prefix.length);
    } else if (body.virtualAccountNo !== undefined) {
      const range = bank.customDigits;
      custom = text(body, "virtualAccountNo", svc, new RegExp(`^\\d{${range.min},${range.max}}$`));
    } else {
      issued++;
      custom = `7${String(Date.now() % 10_000).padStart(4, "0")}${String(issued).padStart(6, "0")}`
        .padEnd(bank.customDigits.min, "0")
        .slice(0, bank.customDigits.min);
    }
    const partnerServiceId = padPartnerServiceId(prefix);
    const virtualAccountNo = partnerServiceId + custom;
    const current = byNumber.get(virtualAccountNo);
    // "Each VA number can only maintain one active state at a time".
    if (current && isActive(current, now())) return snapAnswer(SnapOutcomes.conflict, svc, "External ID Conflict");
    const va: SimulatedVa = {
      trxId,
      referenceNo: externalId,
      bank,
      partnerServiceId,
      customerNo,
      virtualAccountNo,
      virtualAccountName,
      isSingleUse: info.isSingleUse,
      totalAmount,
      expiresAt,
      payments: [],
    };
    byTrxId.set(trxId, va);
    byNumber.set(virtualAccountNo, va);
    if (payFirst !== undefined) {
      const attempt = pay(trxId, payFirst);
      if (attempt.ok) await attempt.firstAnswer;
    }
    if (loseAnswer) return LOST_CREATE_ANSWER;
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
      referenceNo: externalId,
      virtualAccountData: vaData(va, false),
    });
  }

  function updateVa(body: Record<string, unknown>): HttpAnswer {
    const svc = AyoconnectSnapService.updateVa;
    const va = findNamed(body, svc);
    if (body.trxId !== va.trxId || body.originalReferenceNo !== va.referenceNo) {
      throw new SnapRefusal(snapAnswer(SnapOutcomes.invalidBill, svc, "Invalid Bill or VA"));
    }
    if (va.isSingleUse === "Y" && va.payments.length > 0) return snapAnswer(SnapOutcomes.paidBill, svc, "Paid Bill");
    va.virtualAccountName = text(body, "virtualAccountName", svc, /^.{1,100}$/);
    const total = money(body.totalAmount, "totalAmount", svc);
    va.totalAmount = total === 0n ? undefined : total;
    va.expiresAt = expiry(body, svc);
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", { virtualAccountData: vaData(va, false) });
  }

  function inquiryVa(body: Record<string, unknown>): HttpAnswer {
    const svc = AyoconnectSnapService.inquiryVa;
    const va = findNamed(body, svc);
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", { virtualAccountData: vaData(va, true) });
  }

  function simulatePayment(body: Record<string, unknown>): HttpAnswer {
    const svc = AyoconnectSnapService.payment;
    const trxId = text(body, "trxId", svc, /^[A-Za-z0-9]{32}$/);
    const attempt = pay(trxId, money(body.amount, "amount", svc));
    if (!attempt.ok) return snapAnswer(attempt.outcome, svc);
    return snapAnswer(SnapOutcomes.successful, svc, "Successful", {
      latestPaidAmount: toSnapMoney(attempt.payment.amount),
      latestPaidTime: formatSnapTimestamp(attempt.payment.paidAt),
    });
  }

  const routes: Record<
    string,
    {
      method: string;
      svc: string;
      handle: (body: Record<string, unknown>, externalId: string) => HttpAnswer | Promise<HttpAnswer>;
    }
  > = {
    [DEFAULT_AYOCONNECT_SNAP_PATHS.createVa]: { method: "POST", svc: AyoconnectSnapService.createVa, handle: createVa },
    [DEFAULT_AYOCONNECT_SNAP_PATHS.updateVa]: { method: "PUT", svc: AyoconnectSnapService.updateVa, handle: updateVa },
    [DEFAULT_AYOCONNECT_SNAP_PATHS.inquiryVa]: { method: "POST", svc: AyoconnectSnapService.inquiryVa, handle: inquiryVa },
    [SIMULATE_PAYMENT_PATH]: { method: "POST", svc: AyoconnectSnapService.payment, handle: simulatePayment },
  };

  async function handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    const inbound = inboundRequest(request);
    if (request.path === DEFAULT_AYOCONNECT_SNAP_PATHS.accessToken && request.method === "POST") {
      return simulatorResponse(issuer.issue(inbound));
    }
    const route = routes[request.path];
    if (!route || route.method !== request.method) return { status: 404, body: { error: "NOT_FOUND" } };
    const received = inbound.headers[SnapHeader.signature];
    const asBase64 = received === undefined ? undefined : (signatureAsBase64(received, encoding) ?? "");
    const externalId = inbound.headers[SnapHeader.externalId] ?? "";
    if (externalId !== "" && !/^[A-Za-z0-9]{32}$/.test(externalId))
      return simulatorResponse(badFieldAnswer(route.svc, "X-EXTERNAL-ID"));
    const query = request.query.toString();
    const verdict = await verifyInboundSnapRequest(
      { ...inbound, headers: { ...inbound.headers, [SnapHeader.signature]: asBase64 } },
      {
        serviceCode: route.svc,
        signedPath: query === "" ? request.path : `${request.path}?${query}`,
        credentialsOf: (partnerId) =>
          partnerId === options.merchant.partnerId
            ? {
                kind: "symmetric",
                clientSecret: options.merchant.clientSecret,
                clientIdOfToken: (token) =>
                  issuer.clientIdOfToken(token) === options.merchant.clientId ? options.merchant.partnerId : undefined,
              }
            : undefined,
        externalIds,
        now: now(),
      },
    );
    if (!verdict.ok) return simulatorResponse(verdict.answer);
    return answerSnapRoute(request.rawBody, route.svc, (body) => route.handle(body, externalId));
  }

  const server = await startSimulatorServer(handle);
  const paid = (attempt: PaymentAttempt): SimulatedPayment => {
    if (!attempt.ok) throw new Error(`Ayoconnect refused the payment: ${attempt.outcome.message}`);
    return attempt.payment;
  };
  return {
    url: server.url,
    ledger: ledger as readonly SimulatedPayment[],
    virtualAccount: (trxId: string) => byTrxId.get(trxId),
    pay: (trxId: string, amount?: Rupiah) => paid(pay(trxId, amount)),
    misbehaviour: {
      ...switches.misbehaviour,
      payOtherThanBill: (trxId: string, amount: Rupiah) => paid(pay(trxId, amount, false)),
    },
    ...callbackLifecycle(server, callbacks),
  };
}

export type AyoconnectSnapSimulator = Awaited<ReturnType<typeof startAyoconnectSnapSimulator>>;

export { AYOCONNECT_SNAP_BANKS };
