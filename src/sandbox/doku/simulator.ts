import { randomUUID } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { DOKU_CHANNELS, type DokuChannel, type DokuNumbering, paymentCodePath } from "../../providers/doku/channels.js";
import { isMerchantBin } from "../../providers/doku/numbering.js";
import { bodyDigest, dokuTimestamp, signRequest } from "../../providers/doku/signature.js";
import { dokuErrorBody, readNotification, SIMULATED_PAYMENT_PATH, valueAt } from "../../providers/doku/transformers.js";
import {
  CallbackSender,
  callbackLifecycle,
  type DeliveryRecord,
  type SimulatorRequest,
  type SimulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";
import { authenticate } from "./auth.js";
import {
  checkMerchantNumber,
  checkPayment,
  checkStatusOf,
  type DokuLedgerEntry,
  DokuRefusal,
  invalidParameter,
  notificationOf,
  readPaymentCodeRequest,
  wibCompact,
} from "./rules.js";

export type { DokuLedgerEntry, DokuLedgerPayment } from "./rules.js";

/**
 * DOKU's non-SNAP v2 payment-code API on 127.0.0.1: the same paths, headers, signature checks,
 * field rules and Request-Id idempotency (a repeat with the same body replays the first answer with
 * HTTP 409), check status, and signed HTTP notifications retried on DOKU's schedule until
 * acknowledged with 2xx. A retry is the first attempt again, byte for byte, with its original
 * Request-Timestamp: DOKU's "Retry Notification" page never says a retry is signed anew.
 */
export interface DokuSimulatorOptions {
  clientId: string;
  secretKey: string;
  /** BIN registered for merchant-generated numbers; without one, MGPC requests are refused. */
  merchantBin?: string;
  /** DOKU General BIN that DGPC numbers start with (6 digits). */
  generalBin?: string;
  /** Pauses between notification attempts; DOKU's are `DOKU_RETRY_DELAYS_MS`. */
  retryDelaysMs?: readonly number[];
  now?: () => Date;
  port?: number;
}

export interface SimulatedPayment {
  invoiceNumber: string;
  referenceNumber: string;
  providerPaymentRef: string;
  delivery: DeliveryRecord;
}

export interface DokuSimulator {
  url: string;
  /** Where notifications go; its path is the Request-Target DOKU signs. */
  setNotificationUrl(url: string): void;
  /** Payment codes by invoice number. */
  ledger: ReadonlyMap<string, DokuLedgerEntry>;
  deliveries: readonly DeliveryRecord[];
  /**
   * A payer pays the VA at the bank; throws a `DokuRefusal` when the bank would refuse. `holdToBill`
   * false: the acquirer does not enforce the bill (seed 001: "each acquirer has its own rules").
   */
  simulatePayment(payment: { vaNumber: string; amount: Rupiah; holdToBill?: boolean }): SimulatedPayment;
  /** Notifications are built and signed at payment time but kept, to be delivered late. */
  holdNotifications(held: boolean): void;
  /** Sends each kept notification once, as first signed (a retry of DOKU's, hours later). */
  deliverHeldNotifications(): Promise<{ status: number; body: string }[]>;
  /** The next create makes its payment code, then its answer is lost on the way back. */
  loseNextCreateAnswer(): void;
  /** The next create's code is paid, and its notification answered, before the create is answered. */
  payBeforeNextCreateAnswer(amount: Rupiah): void;
  /** The next DOKU-generated code is this number again (a paid, expired or deleted code's). */
  reissueNumberOnNextCreate(vaNumber: string): void;
  /** Resolves when every notification is acknowledged or out of retries. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** DOKU retries 30 min, 6 h and 12 h after the first attempt (reference §4.4): these are the pauses. */
export const DOKU_RETRY_DELAYS_MS: readonly number[] = [30 * MINUTE_MS, 5.5 * HOUR_MS, 6 * HOUR_MS];

const DEFAULT_GENERAL_BIN = "190060";
const DGPC_CODE_DIGITS = 10;

interface Route {
  channel: DokuChannel;
  /** Numberings this path takes: BCA has a separate endpoint for merchant-generated numbers. */
  numberings: readonly DokuNumbering[];
}

type Endpoint =
  | { kind: "create"; route: Route }
  | { kind: "update"; route: Route }
  | { kind: "pay" }
  | { kind: "status"; invoiceNumber: string };

const CHECK_STATUS_PREFIX = "/orders/v1/status/";

interface Replay {
  bodyDigest: string;
  answer: unknown;
}

export async function startDokuSimulator(options: DokuSimulatorOptions): Promise<DokuSimulator> {
  const generalBin = options.generalBin ?? DEFAULT_GENERAL_BIN;
  if (!/^[0-9]{6}$/.test(generalBin)) throw new Error("doku simulator: the General BIN has 6 digits");
  if (options.merchantBin !== undefined && !isMerchantBin(options.merchantBin)) {
    throw new Error("doku simulator: a merchant BIN has 5 digits (Direct) or 9 to 22 (DOKU Exclusive)");
  }
  const now = options.now ?? (() => new Date());
  const routes = paymentCodeRoutes();
  const ledger = new Map<string, DokuLedgerEntry>();
  const replays = new Map<string, Replay>();
  const sender = new CallbackSender(options.retryDelaysMs ?? DOKU_RETRY_DELAYS_MS);
  let notificationUrl: string | undefined;
  let generatedCodes = 0;
  let paymentCount = 0;
  const armed: { loseCreateAnswer: boolean; payBeforeAnswer: Rupiah | undefined; reissue: string | undefined } = {
    loseCreateAnswer: false,
    payBeforeAnswer: undefined,
    reissue: undefined,
  };

  async function createPaymentCode(route: Route, body: unknown, requestId: string): Promise<unknown> {
    const spec = readPaymentCodeRequest(body, route.channel);
    const requestedNumber = valueAt(body, "virtual_account_info", "virtual_account_number");
    const numbering: DokuNumbering = requestedNumber === undefined ? "DGPC" : "MGPC";
    if (!route.numberings.includes(numbering)) {
      const path = paymentCodePath(route.channel, numbering);
      throw invalidParameter(`virtual_account_info.virtual_account_number: ${numbering} payment codes are made at ${path}`);
    }
    const vaNumber = numbering === "MGPC" ? checkMerchantNumber(requestedNumber, options.merchantBin) : undefined;
    if (ledger.has(spec.invoiceNumber)) {
      throw new DokuRefusal(409, "duplicate_invoice_number", "order.invoice_number already has a payment code");
    }
    if (vaNumber !== undefined && payableEntry(vaNumber) !== undefined) {
      throw new DokuRefusal(409, "duplicate_virtual_account_number", "virtual_account_info.virtual_account_number is in use");
    }
    const createdAt = now();
    const entry: DokuLedgerEntry = {
      invoiceNumber: spec.invoiceNumber,
      channel: route.channel,
      vaNumber: vaNumber ?? reissuedNumber() ?? nextGeneratedNumber(),
      numbering,
      billingType: spec.billingType,
      amount: spec.amount,
      reusable: spec.reusable,
      customer: spec.customer,
      createRequestId: requestId,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + spec.expiredMinutes * MINUTE_MS),
      status: "ACTIVE",
      payments: [],
    };
    ledger.set(entry.invoiceNumber, entry);
    const payBeforeAnswer = armed.payBeforeAnswer;
    armed.payBeforeAnswer = undefined;
    if (payBeforeAnswer !== undefined) {
      pay(entry.vaNumber, Number(payBeforeAnswer), true);
      await sender.idle();
    }
    return {
      order: valueAt(body, "order"),
      virtual_account_info: {
        virtual_account_number: entry.vaNumber,
        how_to_pay_page: `${server.url}/how-to-pay/${route.channel.segment}/${entry.vaNumber}`,
        created_date: wibCompact(entry.createdAt),
        expired_date: wibCompact(entry.expiresAt),
        reusable_status: entry.reusable,
      },
      customer: valueAt(body, "customer"),
    };
  }

  /** DOKU never says its generated codes come back; the switch assumes a used-up code's number may. */
  function reissuedNumber(): string | undefined {
    const number = armed.reissue;
    armed.reissue = undefined;
    if (number !== undefined && payableEntry(number) !== undefined) {
      throw new Error("doku simulator: a payable code still has the number to reissue");
    }
    return number;
  }

  function nextGeneratedNumber(): string {
    generatedCodes += 1;
    return generalBin + String(generatedCodes).padStart(DGPC_CODE_DIGITS, "0");
  }

  /** Only deletion is simulated among DOKU's payment-code updates. */
  function updatePaymentCode(route: Route, body: unknown): unknown {
    if (valueAt(body, "virtual_account_info", "status") !== "DELETE") {
      throw invalidParameter("virtual_account_info.status: the simulator only updates payment codes to DELETE");
    }
    if (!route.channel.canCancel) {
      throw invalidParameter(`virtual_account_info.status DELETE is not offered at ${route.channel.bankCode}`);
    }
    const invoiceNumber = valueAt(body, "order", "invoice_number");
    const vaNumber = valueAt(body, "virtual_account_info", "virtual_account_number");
    const entry = typeof invoiceNumber === "string" ? ledger.get(invoiceNumber) : undefined;
    if (entry === undefined || entry.vaNumber !== vaNumber || entry.channel !== route.channel) {
      throw new DokuRefusal(404, "not_found", "no payment code with this invoice number and virtual account number");
    }
    if (entry.status === "PAID") throw new DokuRefusal(409, "already_paid", "payment code has been paid");
    entry.status = "DELETED";
    return {
      order: { invoice_number: entry.invoiceNumber },
      virtual_account_info: { virtual_account_number: entry.vaNumber, status: "DELETE" },
    };
  }

  /** The code a payer reaches by this number: active (unpaid or reusable) and not expired. */
  function payableEntry(vaNumber: string): DokuLedgerEntry | undefined {
    const at = now().getTime();
    return [...ledger.values()].find(
      (entry) => entry.vaNumber === vaNumber && entry.status === "ACTIVE" && entry.expiresAt.getTime() > at,
    );
  }

  function pay(vaNumber: string, amountValue: unknown, holdToBill: boolean): SimulatedPayment {
    const url = notificationUrl;
    if (url === undefined) throw new Error("doku simulator: set the notification URL before paying");
    const known = payableEntry(vaNumber) ?? [...ledger.values()].findLast((candidate) => candidate.vaNumber === vaNumber);
    const { entry, amount } = checkPayment(known, amountValue, now(), holdToBill);
    paymentCount += 1;
    const paidAt = now();
    const referenceNumber = String(paymentCount).padStart(12, "0");
    const notificationRequestId = randomUUID();
    const notification = notificationOf(entry, { referenceNumber, amount, paidAt, notificationRequestId });
    const body = JSON.stringify(notification);
    const reading = readNotification(body);
    if (reading.kind !== "payment") throw new Error(`doku simulator: unreadable notification: ${JSON.stringify(reading)}`);
    const { providerPaymentRef } = reading.payment;
    entry.payments.push({ referenceNumber, amount, paidAt, notificationRequestId, providerPaymentRef });
    if (!entry.reusable) entry.status = "PAID";
    const requestTimestamp = dokuTimestamp(now());
    const parts = {
      clientId: options.clientId,
      requestId: notificationRequestId,
      requestTimestamp,
      requestTarget: new URL(url).pathname,
      body,
    };
    const signed = {
      url,
      headers: {
        "content-type": "application/json",
        "Client-Id": options.clientId,
        "Request-Id": notificationRequestId,
        "Request-Timestamp": requestTimestamp,
        Signature: signRequest(parts, options.secretKey),
      },
      body,
    };
    const delivery = sender.send(() => signed);
    return { invoiceNumber: entry.invoiceNumber, referenceNumber, providerPaymentRef, delivery };
  }

  /** Simulator only: answers with the payment's notification body, from which the adapter reads its ref. */
  function simulatedPaymentAnswer(body: unknown): unknown {
    const vaNumber = valueAt(body, "virtual_account_number");
    if (typeof vaNumber !== "string") throw invalidParameter("virtual_account_number is required");
    const paid = pay(vaNumber, valueAt(body, "amount"), true);
    return JSON.parse(paid.delivery.delivery.body);
  }

  function checkStatus(invoiceNumber: string): unknown {
    const entry = ledger.get(invoiceNumber);
    if (entry === undefined) throw new DokuRefusal(404, "not_found", "no transaction with this invoice number");
    return checkStatusOf(entry, now());
  }

  function endpointOf(request: SimulatorRequest): Endpoint {
    if (request.path === SIMULATED_PAYMENT_PATH && request.method === "POST") return { kind: "pay" };
    if (request.path.startsWith(CHECK_STATUS_PREFIX) && request.method === "GET") {
      return { kind: "status", invoiceNumber: decodeURIComponent(request.path.slice(CHECK_STATUS_PREFIX.length)) };
    }
    const route = routes.get(request.path);
    if (route !== undefined && request.method === "POST") return { kind: "create", route };
    if (route !== undefined && request.method === "PATCH") return { kind: "update", route };
    throw new DokuRefusal(404, "not_found", "no such endpoint");
  }

  async function dispatch(endpoint: Endpoint, body: unknown, requestId: string): Promise<unknown> {
    switch (endpoint.kind) {
      case "status":
        return checkStatus(endpoint.invoiceNumber);
      case "create":
        return createPaymentCode(endpoint.route, body, requestId);
      case "update":
        return updatePaymentCode(endpoint.route, body);
      case "pay":
        return simulatedPaymentAnswer(body);
    }
  }

  async function handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    try {
      const endpoint = endpointOf(request);
      const requestId = authenticate(request, { clientId: options.clientId, secretKey: options.secretKey, now: now() });
      if (endpoint.kind === "status") return { status: 200, body: await dispatch(endpoint, undefined, requestId) };
      const digest = bodyDigest(request.rawBody);
      const replay = replays.get(requestId);
      if (replay !== undefined) {
        if (replay.bodyDigest !== digest) {
          throw new DokuRefusal(409, "duplicate_request_id", "Request-Id has been used for another request");
        }
        return { status: 409, body: replay.answer };
      }
      const answer = await dispatch(endpoint, parseJsonBody(request.rawBody), requestId);
      replays.set(requestId, { bodyDigest: digest, answer });
      if (endpoint.kind === "create" && armed.loseCreateAnswer) {
        armed.loseCreateAnswer = false;
        // DOKU made the code; what comes back is a gateway timeout from between us, not DOKU's answer.
        return { status: 504, body: "<html><body>504 Gateway Time-out</body></html>", headers: { "content-type": "text/html" } };
      }
      return { status: 200, body: answer };
    } catch (error) {
      if (error instanceof DokuRefusal) return { status: error.status, body: dokuErrorBody(error.code, error.message) };
      throw error;
    }
  }

  const server = await startSimulatorServer(handle, options.port);

  return {
    url: server.url,
    setNotificationUrl: (url) => {
      notificationUrl = url;
    },
    ledger,
    simulatePayment: ({ vaNumber, amount, holdToBill }) => pay(vaNumber, Number(amount), holdToBill ?? true),
    holdNotifications: (held) => sender.hold(held),
    deliverHeldNotifications: () => sender.deliverHeld(),
    loseNextCreateAnswer: () => {
      armed.loseCreateAnswer = true;
    },
    payBeforeNextCreateAnswer: (amount) => {
      armed.payBeforeAnswer = amount;
    },
    reissueNumberOnNextCreate: (vaNumber) => {
      armed.reissue = vaNumber;
    },
    ...callbackLifecycle(server, sender),
  };
}

function paymentCodeRoutes(): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const channel of DOKU_CHANNELS) {
    for (const numbering of ["DGPC", "MGPC"] as const) {
      const path = paymentCodePath(channel, numbering);
      const numberings = routes.get(path)?.numberings ?? [];
      routes.set(path, { channel, numberings: [...numberings, numbering] });
    }
  }
  return routes;
}

function parseJsonBody(rawBody: Buffer): unknown {
  try {
    const body: unknown = JSON.parse(rawBody.toString("utf8"));
    if (typeof body === "object" && body !== null) return body;
  } catch {
    // answered below
  }
  throw invalidParameter("request body is not a JSON object");
}
