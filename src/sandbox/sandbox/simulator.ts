import { createHash, randomBytes, randomInt } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { MAX_LIFETIME_MS, MIN_LIFETIME_MS } from "../../domain/virtual-account.js";
import { BANKS, type BankRule } from "../../providers/sandbox/banks.js";
import {
  apiKeyAuthorization,
  SIGNATURE_HEADER,
  secretsEqual,
  signCallback,
  TIMESTAMP_HEADER,
} from "../../providers/sandbox/signature.js";
import {
  PAYMENT_EVENT,
  parseIsoInstant,
  WIRE_AMOUNT,
  type WireAmountFields,
  type WireAmountType,
  type WireError,
  type WirePaymentAccepted,
  type WirePaymentCallback,
  type WireUsage,
  type WireVaStatus,
  type WireVirtualAccount,
} from "../../providers/sandbox/transformers.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import type { ProviderMisbehaviour } from "../kit.js";
import {
  CallbackSender,
  callbackLifecycle,
  type DeliveryRecord,
  type SimulatorRequest,
  type SimulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";

export interface SandboxSimulatorOptions {
  merchantId: string;
  apiKey: string;
  webhookSecret: string;
  /** Where payment callbacks go; without one, payments are still made but nobody is called. */
  callbackUrl?: string;
  retryDelaysMs?: number[];
  port?: number;
  now?: () => Date;
}

export interface SimulatedPayment {
  paymentId: string;
  virtualAccountId: string;
  vaNumber: string;
  amount: Rupiah;
  fee: Rupiah;
  paidAt: Date;
}

export interface SandboxSimulator {
  url: string;
  setCallbackUrl(url: string): void;
  /** Every payment the simulator made, in order. */
  readonly ledger: readonly SimulatedPayment[];
  readonly deliveries: readonly DeliveryRecord[];
  /** Resolves once every callback has been acknowledged or has run out of retries. */
  idle(): Promise<void>;
  /** While muted, payments are made but no callback is sent: a lost callback, for reconciliation tests. */
  muteCallbacks(muted: boolean): void;
  /** The sandbox's misbehaviours (see the kit); the sandbox is ours, so each is our own rule. */
  misbehaviour: ProviderMisbehaviour;
  close(): Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000];

const EXTERNAL_ID = /^[A-Za-z0-9._:-]{1,64}$/u;
const PRINTABLE_NAME = /^[^\p{C}]{1,100}$/u;
const DIGITS = /^[0-9]+$/;
const FLAT_FEE: Rupiah = 2500n;

/** The create fields whose values decide whether a repeated external_id is the same request. */
const REQUEST_KEY_FIELDS = [
  "external_id",
  "bank_code",
  "name",
  "usage",
  "amount_type",
  "amount",
  "min_amount",
  "max_amount",
  "expires_at",
  "suffix",
  "description",
] as const;

interface StoredVa {
  wire: WireVirtualAccount;
  expiresAt: Date;
  /** The create request's fields, to tell an idempotent retry from a conflicting reuse. */
  requestKey: string;
}

/** Thrown by a handler to answer with the sandbox's error shape. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: WireError,
  ) {
    super(body.message);
  }
}

function refuse(status: number, errorCode: string, message: string, field?: string): never {
  throw new Refusal(status, { error_code: errorCode, message, ...(field === undefined ? {} : { field }) });
}

function invalid(field: string, message: string): never {
  return refuse(400, "VALIDATION_ERROR", message, field);
}

/** An HTTP server speaking the sandbox API, holding its VAs in memory and calling back on payments. */
export async function startSandboxSimulator(options: SandboxSimulatorOptions): Promise<SandboxSimulator> {
  const now = options.now ?? (() => new Date());
  const expectedAuthorization = apiKeyAuthorization(options.apiKey);
  const merchantCode = merchantCodeOf(options.merchantId);
  const sender = new CallbackSender(options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS);
  const accounts = new Map<string, StoredVa>();
  const byExternalId = new Map<string, StoredVa>();
  const ledger: SimulatedPayment[] = [];
  let callbackUrl = options.callbackUrl;
  let callbacksMuted = false;
  let loseNextCreateAnswer = false;
  let payBeforeNextCreateAnswer: Rupiah | undefined;
  let reissueNumber: string | undefined;

  /** Reads the VA with its status brought up to date: an open VA past its expiry has expired. */
  const current = (va: StoredVa): StoredVa => {
    if (isOpen(va.wire.status) && va.expiresAt.getTime() <= now().getTime()) va.wire.status = "EXPIRED";
    return va;
  };
  const find = (id: string): StoredVa => current(accounts.get(id) ?? refuse(404, "NOT_FOUND", "virtual account not found"));
  /** VAs by number, so checking a number does not scan every VA ever issued. */
  const byNumber = new Map<string, StoredVa[]>();
  const numberInUse = (vaNumber: string) => (byNumber.get(vaNumber) ?? []).some((va) => isOpen(current(va).wire.status));

  function allocateNumber(bank: BankRule, suffix: string | undefined): string {
    if (reissueNumber !== undefined) {
      const reissued = reissueNumber;
      reissueNumber = undefined;
      return reissued;
    }
    const stem = `${bank.prefix}${merchantCode}`;
    const room = bank.digits - stem.length;
    if (suffix !== undefined) {
      const requested = stem + suffix.padStart(room, "0");
      if (numberInUse(requested)) refuse(409, "VA_NUMBER_IN_USE", "number is in use by another open VA", "suffix");
      return requested;
    }
    for (;;) {
      const candidate = stem + Array.from({ length: room }, () => randomInt(10)).join("");
      if (!numberInUse(candidate)) return candidate;
    }
  }

  function create(body: Record<string, unknown>): SimulatorResponse | Promise<SimulatorResponse> {
    const externalId = body.external_id;
    if (typeof externalId !== "string" || !EXTERNAL_ID.test(externalId)) {
      return invalid("external_id", "must be 1-64 characters of A-Z a-z 0-9 . _ : -");
    }
    const requestKey = JSON.stringify(REQUEST_KEY_FIELDS.map((field) => body[field] ?? null));
    const existing = byExternalId.get(externalId);
    if (existing !== undefined) {
      if (existing.requestKey !== requestKey) {
        refuse(409, "DUPLICATE_EXTERNAL_ID", "external_id was already used with a different request", "external_id");
      }
      return { status: 200, body: current(existing).wire };
    }
    const request = validateCreate(body, now());
    const createdAt = now();
    const va: StoredVa = {
      wire: {
        id: `sbva_${randomBytes(12).toString("hex")}`,
        external_id: externalId,
        merchant_id: options.merchantId,
        bank_code: request.bankCode,
        va_number: allocateNumber(request.bank, request.suffix),
        name: request.name,
        usage: request.usage,
        amount_type: request.amountType,
        ...request.amounts,
        expires_at: request.expiresAt.toISOString(),
        status: "ACTIVE",
        created_at: createdAt.toISOString(),
      },
      expiresAt: request.expiresAt,
      requestKey,
    };
    accounts.set(va.wire.id, va);
    byNumber.set(va.wire.va_number, [...(byNumber.get(va.wire.va_number) ?? []), va]);
    byExternalId.set(externalId, va);
    return answerCreate(va, { status: 201, body: va.wire });
  }

  /** The create's answer, after whatever the misbehaviour switches make happen first. */
  async function answerCreate(va: StoredVa, created: SimulatorResponse): Promise<SimulatorResponse> {
    const early = payBeforeNextCreateAnswer;
    payBeforeNextCreateAnswer = undefined;
    if (early !== undefined) {
      pay(va, early);
      await sender.idle();
    }
    if (loseNextCreateAnswer) {
      loseNextCreateAnswer = false;
      // What a proxy in front of the sandbox answers when the connection to it drops mid-answer.
      return { status: 502, body: { error: "BAD_GATEWAY" } };
    }
    return created;
  }

  /** Finds a VA by the merchant's own id, to recover from a create whose answer was lost. */
  function lookUp(externalId: string | null): SimulatorResponse {
    if (externalId === null) return invalid("external_id", "query parameter is required");
    const found = byExternalId.get(externalId);
    return { status: 200, body: { data: found === undefined ? [] : [current(found).wire] } };
  }

  function cancel(va: StoredVa): SimulatorResponse {
    const { status, usage } = va.wire;
    if (status === "COMPLETED" && usage === "single") refuse(409, "ALREADY_PAID", "single-use VA is already paid");
    if (status === "EXPIRED") refuse(409, "VA_INACTIVE", "virtual account has expired");
    va.wire.status = "CANCELLED";
    return { status: 200, body: va.wire };
  }

  function simulatePayment(va: StoredVa, body: Record<string, unknown>): SimulatorResponse {
    const { amount, force } = body;
    if (typeof amount !== "string" || !WIRE_AMOUNT.test(amount)) {
      return invalid("amount", "must be a whole-rupiah decimal string of at most 12 digits");
    }
    if (force !== undefined && typeof force !== "boolean") return invalid("force", "must be a boolean");
    if (!isOpen(va.wire.status) && force !== true) {
      refuse(409, "VA_INACTIVE", `virtual account is ${va.wire.status.toLowerCase()}`);
    }
    const payment = pay(va, BigInt(amount));
    const accepted: WirePaymentAccepted = { payment_id: payment.paymentId, status: "PENDING_CALLBACK" };
    return { status: 202, body: accepted };
  }

  /** The money arrives: the payment is on the ledger and its callback goes out. */
  function pay(va: StoredVa, paid: Rupiah): SimulatedPayment {
    const payment: SimulatedPayment = {
      paymentId: `sbpay_${randomBytes(12).toString("hex")}`,
      virtualAccountId: va.wire.id,
      vaNumber: va.wire.va_number,
      amount: paid,
      fee: paid <= FLAT_FEE ? 0n : FLAT_FEE,
      paidAt: now(),
    };
    ledger.push(payment);
    if (isOpen(va.wire.status)) va.wire.status = va.wire.usage === "single" ? "COMPLETED" : "PAID";
    sendCallback(va.wire, payment);
    return payment;
  }

  /** One payment by its id, as its callback reported it: what a merchant confirms a callback with. */
  function findPayment(paymentId: string): SimulatorResponse {
    const payment = ledger.find((p) => p.paymentId === paymentId) ?? refuse(404, "NOT_FOUND", "payment not found");
    const va = accounts.get(payment.virtualAccountId) ?? refuse(404, "NOT_FOUND", "payment not found");
    return { status: 200, body: callbackOf(va.wire, payment) };
  }

  function callbackOf(va: WireVirtualAccount, payment: SimulatedPayment): WirePaymentCallback {
    return {
      event: PAYMENT_EVENT,
      payment_id: payment.paymentId,
      virtual_account_id: va.id,
      external_id: va.external_id,
      merchant_id: va.merchant_id,
      va_number: va.va_number,
      bank_code: va.bank_code,
      amount: payment.amount.toString(),
      fee: payment.fee.toString(),
      paid_at: payment.paidAt.toISOString(),
    };
  }

  function sendCallback(va: WireVirtualAccount, payment: SimulatedPayment): void {
    if (callbackUrl === undefined || callbacksMuted) return;
    const body = JSON.stringify(callbackOf(va, payment));
    let url = callbackUrl;
    sender.send(() => {
      url = callbackUrl ?? url; // each attempt goes to the URL configured at the time
      const timestamp = String(Math.floor(now().getTime() / 1000));
      return {
        url,
        headers: {
          "content-type": "application/json",
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signCallback(options.webhookSecret, timestamp, body),
        },
        body,
      };
    });
  }

  function route(request: SimulatorRequest): SimulatorResponse | Promise<SimulatorResponse> {
    const authorization = request.headers.authorization;
    if (authorization === undefined || !secretsEqual(authorization, expectedAuthorization)) {
      refuse(401, "UNAUTHORIZED", "invalid API key");
    }
    const paymentPath = /^\/v1\/payments\/([^/]+)$/.exec(request.path);
    if (paymentPath?.[1] !== undefined && request.method === "GET") return findPayment(decodeURIComponent(paymentPath[1]));
    const match = /^\/v1\/virtual-accounts(?:\/([^/]+)(?:\/(cancel|simulate-payment|payments))?)?$/.exec(request.path);
    if (!match) return refuse(404, "NOT_FOUND", "no such endpoint");
    const [, id, action] = match;
    const { method } = request;
    if (id === undefined && method === "POST") return create(jsonObject(request.rawBody));
    if (id === undefined && method === "GET") return lookUp(request.query.get("external_id"));
    if (id !== undefined && action === undefined && method === "GET") return { status: 200, body: find(id).wire };
    if (id !== undefined && action === "cancel" && method === "POST") return cancel(find(id));
    if (id !== undefined && action === "payments" && method === "GET") {
      const va = find(id).wire;
      return { status: 200, body: { data: ledger.filter((p) => p.virtualAccountId === va.id).map((p) => callbackOf(va, p)) } };
    }
    if (id !== undefined && action === "simulate-payment" && method === "POST") {
      return simulatePayment(find(id), jsonObject(request.rawBody));
    }
    return refuse(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`);
  }

  const server = await startSimulatorServer(async (request) => {
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof Refusal) return { status: error.status, body: error.body };
      throw error;
    }
  }, options.port);

  return {
    url: server.url,
    setCallbackUrl(url) {
      callbackUrl = url;
    },
    ledger,
    muteCallbacks(muted) {
      callbacksMuted = muted;
    },
    misbehaviour: {
      holdCallbacks: (held) => sender.hold(held),
      deliverHeldCallbacks: () => sender.deliverHeld(),
      loseNextCreateAnswer() {
        loseNextCreateAnswer = true;
      },
      payBeforeNextCreateAnswer(amount) {
        payBeforeNextCreateAnswer = amount;
      },
      // The sandbox gives a number to a new VA once no open VA holds it (see allocateNumber); this
      // makes the next create take a given one, as after its first VA expired or was cancelled.
      reissueNumberOnNextCreate(vaNumber) {
        reissueNumber = vaNumber;
      },
      // The sandbox takes any amount a payer sends (simulate-payment): half the bill, like a partial transfer.
      async payOtherThanBill(ref, bill) {
        const payment = pay(find(ref.providerReference), bill > 1n ? bill / 2n : bill + 1n);
        return { providerPaymentRef: payment.paymentId, amount: payment.amount };
      },
    },
    ...callbackLifecycle(server, sender),
  };
}

/** Three digits every number of the merchant carries after the bank prefix. */
function merchantCodeOf(merchantId: string): string {
  const hash = createHash("sha256").update(merchantId).digest();
  return String(hash.readUInt32BE(0) % 1000).padStart(3, "0");
}

const isOpen = (status: WireVaStatus) => status === "ACTIVE" || status === "PAID";

function jsonObject(rawBody: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString("utf8"));
  } catch {
    return refuse(400, "VALIDATION_ERROR", "body must be a JSON object");
  }
  return isRecord(body) ? body : refuse(400, "VALIDATION_ERROR", "body must be a JSON object");
}

interface ValidCreate {
  bankCode: string;
  bank: BankRule;
  name: string;
  usage: WireUsage;
  amountType: WireAmountType;
  amounts: WireAmountFields;
  expiresAt: Date;
  suffix: string | undefined;
}

/** Every create rule the sandbox enforces, checked in field order; the first failure is answered. */
function validateCreate(body: Record<string, unknown>, now: Date): ValidCreate {
  const { bank_code, name, usage, amount_type, expires_at, suffix, description } = body;
  if (typeof bank_code !== "string" || bank_code === "") return invalid("bank_code", "is required");
  const bank = BANKS.get(bank_code);
  if (bank === undefined) refuse(400, "BANK_NOT_SUPPORTED", `bank ${bank_code} is not supported`, "bank_code");
  if (typeof name !== "string" || !PRINTABLE_NAME.test(name)) {
    return invalid("name", "must be 1-100 printable characters");
  }
  if (usage !== "single" && usage !== "multi") return invalid("usage", "must be single or multi");
  if (amount_type !== "fixed" && amount_type !== "open" && amount_type !== "range") {
    return invalid("amount_type", "must be fixed, open or range");
  }
  const amounts = validateAmounts(body, amount_type);
  const expiresAt = parseIsoInstant(expires_at) ?? invalid("expires_at", "must be an ISO-8601 instant");
  const lifetimeMs = expiresAt.getTime() - now.getTime();
  if (lifetimeMs < MIN_LIFETIME_MS || lifetimeMs > MAX_LIFETIME_MS) {
    return invalid("expires_at", "must be between 1 minute and 90 days from now");
  }
  if (suffix !== undefined && (typeof suffix !== "string" || !DIGITS.test(suffix))) {
    return invalid("suffix", "must contain digits only");
  }
  if (suffix !== undefined && suffix.length > bank.maxSuffixDigits) {
    refuse(400, "SUFFIX_TOO_LONG", `${bank_code} takes at most ${bank.maxSuffixDigits} suffix digits`, "suffix");
  }
  if (description !== undefined && typeof description !== "string") return invalid("description", "must be a string");
  return { bankCode: bank_code, bank, name, usage, amountType: amount_type, amounts, expiresAt, suffix };
}

function validateAmounts(body: Record<string, unknown>, amountType: WireAmountType): WireAmountFields {
  const allowed: Record<WireAmountType, readonly (keyof WireAmountFields)[]> = {
    fixed: ["amount"],
    open: [],
    range: ["min_amount", "max_amount"],
  };
  const amounts: WireAmountFields = {};
  for (const field of ["amount", "min_amount", "max_amount"] as const) {
    const value = body[field];
    if (!allowed[amountType].includes(field)) {
      if (value !== undefined) invalid(field, `is not allowed for amount_type ${amountType}`);
      continue;
    }
    if (typeof value !== "string" || !WIRE_AMOUNT.test(value)) {
      return invalid(field, "must be a whole-rupiah decimal string of at most 12 digits");
    }
    amounts[field] = value;
  }
  const { min_amount, max_amount } = amounts;
  if (min_amount !== undefined && max_amount !== undefined && BigInt(min_amount) >= BigInt(max_amount)) {
    invalid("max_amount", "must be greater than min_amount");
  }
  return amounts;
}
