import { randomUUID } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import {
  callbackLifecycle,
  CallbackSender,
  type DeliveryRecord,
  type SimulatorRequest,
  type SimulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";
import { DOKU_CHANNELS, type DokuChannel, type DokuNumbering, paymentCodePath } from "./channels.js";
import { isMerchantBin } from "./numbering.js";
import { bodyDigest, dokuTimestamp, signRequest } from "./signature.js";
import { authenticate } from "./simulator-auth.js";
import {
  checkMerchantNumber,
  checkPayment,
  type DokuLedgerEntry,
  DokuRefusal,
  invalidParameter,
  notificationOf,
  readPaymentCodeRequest,
  wibCompact,
} from "./simulator-rules.js";
import { dokuErrorBody, paymentReference, SIMULATED_PAYMENT_PATH, valueAt } from "./transformers.js";

export type { DokuLedgerEntry, DokuLedgerPayment } from "./simulator-rules.js";

/**
 * DOKU's non-SNAP v2 payment-code API on 127.0.0.1: the same paths, headers, signature checks,
 * field rules and Request-Id idempotency (a repeat with the same body replays the first answer with
 * HTTP 409), and signed HTTP notifications retried on DOKU's schedule until acknowledged with 2xx.
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
  /** A payer pays the VA at the bank; throws a `DokuRefusal` when the bank would refuse. */
  simulatePayment(payment: { vaNumber: string; amount: Rupiah }): SimulatedPayment;
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

type Endpoint = { kind: "create"; route: Route } | { kind: "update"; route: Route } | { kind: "pay" };

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

  function createPaymentCode(route: Route, body: unknown, requestId: string): unknown {
    const spec = readPaymentCodeRequest(body, route.channel);
    const requestedNumber = valueAt(body, "virtual_account_info", "virtual_account_number");
    const numbering: DokuNumbering = requestedNumber === undefined ? "DGPC" : "MGPC";
    if (!route.numberings.includes(numbering)) {
      const path = paymentCodePath(route.channel, numbering);
      throw invalidParameter(
        `virtual_account_info.virtual_account_number: ${numbering} payment codes are made at ${path}`,
      );
    }
    const vaNumber = numbering === "MGPC" ? checkMerchantNumber(requestedNumber, options.merchantBin) : undefined;
    if (ledger.has(spec.invoiceNumber)) {
      throw new DokuRefusal(409, "duplicate_invoice_number", "order.invoice_number already has a payment code");
    }
    if (vaNumber !== undefined && payableEntry(vaNumber) !== undefined) {
      throw new DokuRefusal(
        409,
        "duplicate_virtual_account_number",
        "virtual_account_info.virtual_account_number is in use",
      );
    }
    const createdAt = now();
    const entry: DokuLedgerEntry = {
      invoiceNumber: spec.invoiceNumber,
      channel: route.channel,
      vaNumber: vaNumber ?? nextGeneratedNumber(),
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

  function payableEntry(vaNumber: string): DokuLedgerEntry | undefined {
    const at = now().getTime();
    return [...ledger.values()].find(
      (entry) => entry.vaNumber === vaNumber && entry.status !== "DELETED" && entry.expiresAt.getTime() > at,
    );
  }

  function pay(vaNumber: string, amountValue: unknown): SimulatedPayment {
    const url = notificationUrl;
    if (url === undefined) throw new Error("doku simulator: set the notification URL before paying");
    const known =
      payableEntry(vaNumber) ?? [...ledger.values()].findLast((candidate) => candidate.vaNumber === vaNumber);
    const { entry, amount } = checkPayment(known, amountValue, now());
    paymentCount += 1;
    const paidAt = now();
    const referenceNumber = String(paymentCount).padStart(12, "0");
    const notificationRequestId = randomUUID();
    const payment = { referenceNumber, amount, paidAt, notificationRequestId };
    entry.payments.push(payment);
    if (!entry.reusable) entry.status = "PAID";
    const body = JSON.stringify(notificationOf(entry, payment));
    const delivery = sender.send(() => {
      const requestTimestamp = dokuTimestamp(now());
      const parts = {
        clientId: options.clientId,
        requestId: notificationRequestId,
        requestTimestamp,
        requestTarget: new URL(url).pathname,
        body,
      };
      return {
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
    });
    return {
      invoiceNumber: entry.invoiceNumber,
      referenceNumber,
      providerPaymentRef: paymentReference(entry.invoiceNumber, referenceNumber),
      delivery,
    };
  }

  function simulatedPaymentAnswer(body: unknown): unknown {
    const vaNumber = valueAt(body, "virtual_account_number");
    if (typeof vaNumber !== "string") throw invalidParameter("virtual_account_number is required");
    const paid = pay(vaNumber, valueAt(body, "amount"));
    return {
      order: { invoice_number: paid.invoiceNumber, amount: valueAt(body, "amount") },
      virtual_account_info: { virtual_account_number: vaNumber },
      virtual_account_payment: { reference_number: paid.referenceNumber },
    };
  }

  function endpointOf(request: SimulatorRequest): Endpoint {
    if (request.path === SIMULATED_PAYMENT_PATH && request.method === "POST") return { kind: "pay" };
    const route = routes.get(request.path);
    if (route !== undefined && request.method === "POST") return { kind: "create", route };
    if (route !== undefined && request.method === "PATCH") return { kind: "update", route };
    throw new DokuRefusal(404, "not_found", "no such endpoint");
  }

  function dispatch(endpoint: Endpoint, body: unknown, requestId: string): unknown {
    switch (endpoint.kind) {
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
      const digest = bodyDigest(request.rawBody);
      const replay = replays.get(requestId);
      if (replay !== undefined) {
        if (replay.bodyDigest !== digest) {
          throw new DokuRefusal(409, "duplicate_request_id", "Request-Id has been used for another request");
        }
        return { status: 409, body: replay.answer };
      }
      const answer = dispatch(endpoint, parseJsonBody(request.rawBody), requestId);
      replays.set(requestId, { bodyDigest: digest, answer });
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
    simulatePayment: ({ vaNumber, amount }) => pay(vaNumber, Number(amount)),
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
