import { createHmac, randomBytes, randomInt } from "node:crypto";
import { parseRupiah, type Rupiah } from "../../domain/money.js";
import { DURIANPAY_MAX_EXPIRY_MINUTES, durianpayCapabilities } from "../../providers/durianpay/capabilities.js";
import { parseJsonObject } from "../../providers/shared/wire-helpers.js";
import {
  CallbackSender,
  callbackLifecycle,
  type DeliveryRecord,
  type SimulatorRequest,
  type SimulatorResponse,
  startSimulatorServer,
} from "../simulator-kit.js";
import {
  type Body,
  expiryMinutesOf,
  type FormError,
  nonEmptyText,
  optionalFlag,
  positiveDecimal,
  positiveInteger,
  readCustomer,
  type SimulatedCustomer,
} from "./checks.js";

/**
 * A Durianpay look-alike for tests and the embedded sandbox: `POST/GET/PATCH /v1/payments/va…`, the
 * list `GET /v1/payments/va?from=&to=&skip=&limit=` and `POST /v1/payments/va/simulate` with
 * Durianpay's fields, checks, DPAY_* codes and Basic auth, and a `payment.completed` webhook retried
 * after 2, 5, 10, 90 and 210 minutes until answered 200.
 *
 * The webhook is flat, as Durianpay's published samples are (docs.durianpay.id "Webhooks Events":
 * `{id, amount (hundredths), status, is_live, currency, metadata, signature, amount_str, created_at, …}`),
 * with the VA named in `metadata` as the static-VA overview publishes it (`static_va_id`,
 * `static_va_account_number`). See test/fixtures/durianpay/SOURCES.md.
 *
 * Choices where the reference is silent [uncertain, reference §6/§10]:
 * - `virtual_account_status` is `VirtualAccountActive` until paid (`VirtualAccountSuccess`) or expired.
 * - Fetch-one lists `payments` newest first, `paymentsPageSize` per `?page=N` (from 1); the published
 *   item is cut off after `{id, order_id, payment_ref_id, …`, so each item carries the fields of the
 *   published Payment object (`status:"completed"`, `amount:"12333"`, `created_at`, `updated_at`, …).
 * - The webhook signature is hex HMAC-SHA256(server key, `id|amount_str`): Durianpay does not publish
 *   its formula, so the adapter never relies on it.
 * - The event name is not in the published body; the webhook goes to the configured URL as is.
 * - A number is free again once the VA holding it has expired (cancel = expire), so an account suffix
 *   can be reissued; a disabled VA keeps its number ("while still reserving it", patch reference).
 * - Which bank refuses which combination is not documented: none does unless `bankRestrictions` says so.
 * - Amounts must be whole rupiah (Durianpay itself shows `"12000.12"` in a sample).
 */

export type DurianpayBankRestriction =
  | "STATIC_VA"
  | "STATIC_CLOSED_VA"
  | "DYNAMIC_OPEN_VA"
  | "MIN_MAX_AMOUNT"
  | "STATIC_VA_EXPIRY_MINUTES"
  | "STATIC_VA_AUTO_DISABLING_VA"
  | "PATCHING_VA";

const RESTRICTION_MESSAGES: Record<DurianpayBankRestriction, string> = {
  STATIC_VA: "static va not supported",
  STATIC_CLOSED_VA: "static va (closed) not supported",
  DYNAMIC_OPEN_VA: "dynamic va (open) not supported",
  MIN_MAX_AMOUNT: "setting min_amount and max_amount not supported",
  STATIC_VA_EXPIRY_MINUTES: "static va (expiry_minutes) not supported",
  STATIC_VA_AUTO_DISABLING_VA: "static va: auto disabling va not supported",
  PATCHING_VA: "patching va not supported",
};

export interface DurianpaySimulatorOptions {
  /** Default `dp_test_simulator`; the simulate endpoint only works with `dp_test` keys. */
  serverKey?: string;
  callbackUrl?: string;
  /** Default 2, 5, 10, 90, 210 minutes. */
  retryDelaysMs?: readonly number[];
  bankRestrictions?: Readonly<Record<string, readonly DurianpayBankRestriction[]>>;
  paymentsPageSize?: number;
  now?: () => Date;
  port?: number;
}

export interface DurianpayLedgerEntry {
  paymentId: string;
  virtualAccountId: string;
  accountNumber: string;
  amount: Rupiah;
  paidAt: Date;
}

export interface DurianpaySimulator {
  url: string;
  setCallbackUrl(url: string | undefined): void;
  /** Every payment the simulator accepted, oldest first. */
  ledger: readonly DurianpayLedgerEntry[];
  deliveries: readonly DeliveryRecord[];
  /** Every API request received, for asserting routes and wire fields. */
  requests: ReadonlyArray<{ method: string; path: string; body: string }>;
  /** Pays a VA as a bank would; throws `Error(reason)` with Durianpay's refusal reason. */
  simulatePayment(accountNumber: string, amount: Rupiah): DurianpayLedgerEntry;
  /** What the misbehaviour matrix drives; see `ProviderMisbehaviour` in ../kit.ts. */
  misbehave: {
    holdWebhooks(held: boolean): void;
    deliverHeldWebhooks(): Promise<{ status: number; body: string }[]>;
    /** The next create makes the VA, then answers 502 with an HTML page: the answer never reaches us. */
    loseNextCreateAnswer(): void;
    /** The next create makes the VA and pays it, waiting for the webhook's answer before answering. */
    payBeforeNextCreateAnswer(amount: Rupiah): void;
    /** The next create gets this number; the VA holding it is expired first, as a reissue needs. */
    reissueNumberOnNextCreate(accountNumber: string): void;
    /** Pays past the closed-amount check (Durianpay documents no such payment; see the kit). */
    payIgnoringAmountRule(accountNumber: string, amount: Rupiah): DurianpayLedgerEntry;
  };
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Bank prefixes in front of the suffix: PERMATA and BRI from Durianpay's samples, the rest invented. */
const ACCOUNT_PREFIX: Readonly<Record<string, string>> = {
  BCA: "39011",
  BRI: "123617005",
  MANDIRI: "88908001",
  PERMATA: "88565004",
  CIMB: "93800012",
};

const MINUTE = 60_000;
const MERCHANT_ID = "mer_simulator00001";

interface SimulatedPayment {
  id: string;
  orderId: string;
  amount: Rupiah;
  paidAt: Date;
}

interface SimulatedVa {
  id: string;
  bankCode: string;
  accountNumber: string;
  name: string;
  isClosed: boolean;
  amount: Rupiah;
  minAmount: Rupiah | undefined;
  maxAmount: Rupiah | undefined;
  isReusable: boolean;
  autoDisable: boolean;
  isDisabled: boolean;
  isPaid: boolean;
  vaRefId: string;
  customer: SimulatedCustomer;
  createdAt: Date;
  expiryAt: Date;
  /** Oldest first. */
  payments: SimulatedPayment[];
}

export async function startDurianpaySimulator(options: DurianpaySimulatorOptions = {}): Promise<DurianpaySimulator> {
  const serverKey = options.serverKey ?? "dp_test_simulator";
  const expectedAuthorization = `Basic ${Buffer.from(`${serverKey}:`).toString("base64")}`;
  const now = options.now ?? (() => new Date());
  const pageSize = options.paymentsPageSize ?? 10;
  const sender = new CallbackSender(options.retryDelaysMs ?? [2, 5, 10, 90, 210].map((m) => m * MINUTE));
  let callbackUrl = options.callbackUrl;
  const accounts = new Map<string, SimulatedVa>();
  const ledger: DurianpayLedgerEntry[] = [];
  const requests: Array<{ method: string; path: string; body: string }> = [];

  const restricted = (bankCode: string, restriction: DurianpayBankRestriction) =>
    options.bankRestrictions?.[bankCode]?.includes(restriction) ?? false;
  const isExpired = (va: SimulatedVa) => va.expiryAt.getTime() <= now().getTime();
  // Newest first, so a reissued number finds its current holder.
  const byAccountNumber = (accountNumber: string) =>
    [...accounts.values()].reverse().find((va) => va.accountNumber === accountNumber);
  const liveHolder = (accountNumber: string) =>
    [...accounts.values()].find((va) => va.accountNumber === accountNumber && !isExpired(va));
  let loseNextCreate = false;
  let payBeforeAnswer: Rupiah | undefined;
  let reissueNext: string | undefined;

  function view(va: SimulatedVa, page: number) {
    const newestFirst = [...va.payments].reverse().slice((page - 1) * pageSize, page * pageSize);
    return {
      data: {
        virtual_account: {
          id: va.id,
          bank_code: va.bankCode,
          account_number: va.accountNumber,
          name: va.name,
          is_closed: va.isClosed,
          amount: Number(va.amount),
          currency: "IDR",
          customer_id: va.customer.id,
          is_sandbox: true,
          created_at: va.createdAt.toISOString(),
          expiry_at: va.expiryAt.toISOString(),
          metadata: {},
          is_disabled: va.isDisabled,
          is_paid: va.isPaid,
          is_reusable: va.isReusable,
          min_amount: va.minAmount === undefined ? null : Number(va.minAmount),
          max_amount: va.maxAmount === undefined ? null : Number(va.maxAmount),
          va_ref_id: va.vaRefId,
          auto_disable_after_payment: va.autoDisable,
        },
        virtual_account_status: isExpired(va)
          ? "VirtualAccountExpired"
          : va.isPaid
            ? "VirtualAccountSuccess"
            : "VirtualAccountActive",
        customer: { ...va.customer, customer_ref_id: "", middle_name: "", sur_name: "" },
        payments: newestFirst.map((p) => ({
          id: p.id,
          order_id: p.orderId,
          payment_ref_id: va.vaRefId,
          amount: p.amount.toString(),
          currency: "IDR",
          status: "completed",
          is_live: false,
          payment_details_type: "va_details",
          created_at: p.paidAt.toISOString(),
          updated_at: p.paidAt.toISOString(),
          metadata: {},
        })),
      },
    };
  }

  async function create(body: Body): Promise<SimulatorResponse> {
    const errors: FormError[] = [];
    const bankCode = typeof body.bank_code === "string" ? body.bank_code : "";
    const suffixLimit = durianpayCapabilities.banks.find((b) => b.bankCode === bankCode)?.maxSuffixDigits;
    if (bankCode === "") errors.push({ field: "bank_code", message: "can't be blank" });
    else if (suffixLimit === undefined) errors.push({ field: "bank_code", message: "is not supported" });
    const name = nonEmptyText(body.name);
    if (!name) errors.push({ field: "name", message: "can't be blank" });
    const customer = readCustomer(body.customer, errors, () => randomId("cus_"));
    const isClosed = optionalFlag(body, "is_closed", false, errors);
    const isReusable = optionalFlag(body, "is_reusable", true, errors);
    const autoDisable = optionalFlag(body, "auto_disable_after_payment", false, errors);
    const amount = isClosed ? positiveDecimal(body.amount, "amount", errors) : 0n;
    const minAmount = isClosed ? undefined : positiveInteger(body.min_amount, "min_amount", errors);
    const maxAmount = isClosed ? undefined : positiveInteger(body.max_amount, "max_amount", errors);
    if (minAmount !== undefined && maxAmount !== undefined && maxAmount < minAmount) {
      errors.push({ field: "max_amount", message: "can't be less than min_amount" });
    }
    const expiryMinutes = expiryMinutesOf(body.expiry_minutes, 1, errors);
    const suffix = body.account_suffix;
    if (suffix !== undefined && (typeof suffix !== "string" || !/^[0-9]+$/.test(suffix))) {
      errors.push({ field: "account_suffix", message: "must contain digits only" });
    } else if (typeof suffix === "string" && suffixLimit !== undefined && suffix.length > suffixLimit) {
      errors.push({ field: "account_suffix", message: `length can't be more than ${suffixLimit}` });
    }
    if (body.va_ref_id !== undefined && typeof body.va_ref_id !== "string") {
      errors.push({ field: "va_ref_id", message: "must be a string" });
    }
    if (errors.length > 0 || suffixLimit === undefined) return formErrors(errors);

    const refusal = (
      [
        ["STATIC_VA", isReusable],
        ["STATIC_CLOSED_VA", isReusable && isClosed],
        ["DYNAMIC_OPEN_VA", !isReusable && !isClosed],
        ["MIN_MAX_AMOUNT", minAmount !== undefined || maxAmount !== undefined],
        ["STATIC_VA_EXPIRY_MINUTES", isReusable && expiryMinutes !== undefined],
        ["STATIC_VA_AUTO_DISABLING_VA", isReusable && autoDisable],
      ] as const
    ).find(([restriction, applies]) => applies && restricted(bankCode, restriction));
    if (refusal) return dpayError(400, `DPAY_${refusal[0]}_NOT_SUPPORTED`, RESTRICTION_MESSAGES[refusal[0]]);

    const prefix = ACCOUNT_PREFIX[bankCode] ?? "";
    const reissued = reissueNext;
    reissueNext = undefined;
    const holder = reissued === undefined ? undefined : liveHolder(reissued);
    if (holder) holder.expiryAt = now();
    const accountNumber = reissued ?? (typeof suffix === "string" ? prefix + suffix : unusedNumber(prefix, suffixLimit));
    if (liveHolder(accountNumber)) return dpayError(400, "DPAY_INTERNAL_ERROR", "pq: VA Already Created");
    const createdAt = now();
    const minutes = expiryMinutes ?? (isReusable ? 1440 : DURIANPAY_MAX_EXPIRY_MINUTES);
    const va: SimulatedVa = {
      id: randomId("va_"),
      bankCode,
      accountNumber,
      name: name ?? "",
      isClosed,
      amount: amount ?? 0n,
      minAmount,
      maxAmount,
      isReusable,
      autoDisable,
      isDisabled: false,
      isPaid: false,
      vaRefId: typeof body.va_ref_id === "string" ? body.va_ref_id : "",
      customer,
      createdAt,
      expiryAt: new Date(createdAt.getTime() + minutes * MINUTE),
      payments: [],
    };
    accounts.set(va.id, va);
    const { virtual_account } = view(va, 1).data;
    if (payBeforeAnswer !== undefined) {
      const amount = payBeforeAnswer;
      payBeforeAnswer = undefined;
      pay(va, amount);
      await sender.idle();
    }
    if (loseNextCreate) {
      loseNextCreate = false;
      return { status: 502, body: "<html><body>502 Bad Gateway</body></html>", headers: { "content-type": "text/html" } };
    }
    return { status: 201, body: { data: { customer_id: va.customer.id, virtual_account } } };
  }

  /** `GET /v1/payments/va`: newest first, `from`/`to` unix seconds on `created_at`, `skip`/`limit`. */
  function list(query: URLSearchParams): SimulatorResponse {
    const number = (name: string, fallback: number) => {
      const value = query.get(name);
      return value === null ? fallback : Number(value);
    };
    const [from, to, skip, limit] = [
      number("from", 0),
      number("to", Number.MAX_SAFE_INTEGER),
      number("skip", 0),
      number("limit", 25),
    ];
    if (![from, to, skip, limit].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      return formErrors([{ field: "query", message: "from, to, skip and limit must be whole numbers" }]);
    }
    const inWindow = [...accounts.values()]
      .filter((va) => va.createdAt.getTime() >= from * 1000 && va.createdAt.getTime() <= to * 1000)
      .reverse()
      .slice(skip, skip + limit);
    return { status: 200, body: { data: { virtual_accounts: inWindow.map((va) => view(va, 1).data.virtual_account) } } };
  }

  function unusedNumber(prefix: string, digits: number): string {
    for (;;) {
      const candidate = prefix + Array.from({ length: digits }, () => randomInt(10)).join("");
      if (!byAccountNumber(candidate)) return candidate;
    }
  }

  function patch(va: SimulatedVa, body: Body): SimulatorResponse {
    const errors: FormError[] = [];
    const expiryMinutes = expiryMinutesOf(body.expiry_minutes, 0, errors);
    const amount = positiveInteger(body.amount, "amount", errors);
    const minAmount = positiveInteger(body.min_amount, "min_amount", errors);
    const maxAmount = positiveInteger(body.max_amount, "max_amount", errors);
    if (amount !== undefined && !va.isClosed) errors.push({ field: "amount", message: "only for a closed VA" });
    if ((minAmount ?? maxAmount) !== undefined && va.isClosed) {
      errors.push({ field: minAmount === undefined ? "max_amount" : "min_amount", message: "only for an open VA" });
    }
    const newMin = minAmount ?? va.minAmount;
    const newMax = maxAmount ?? va.maxAmount;
    if (newMin !== undefined && newMax !== undefined && newMax < newMin) {
      errors.push({ field: "max_amount", message: "can't be less than min_amount" });
    }
    if (body.is_disabled !== undefined && typeof body.is_disabled !== "boolean") {
      errors.push({ field: "is_disabled", message: "must be a boolean" });
    }
    if (errors.length > 0) return formErrors(errors);
    if (restricted(va.bankCode, "PATCHING_VA")) {
      return dpayError(400, "DPAY_PATCHING_VA_NOT_SUPPORTED", RESTRICTION_MESSAGES.PATCHING_VA);
    }
    if (va.isPaid && !va.isReusable) return dpayError(400, "DPAY_CANNOT_PATCH_PAID_VA", "cannot patch paid va");
    if (expiryMinutes !== undefined) va.expiryAt = new Date(now().getTime() + expiryMinutes * MINUTE);
    if (amount !== undefined) va.amount = amount;
    va.minAmount = newMin;
    va.maxAmount = newMax;
    if (typeof body.is_disabled === "boolean") va.isDisabled = body.is_disabled;
    if (typeof body.va_ref_id === "string") va.vaRefId = body.va_ref_id;
    return { status: 200, body: view(va, 1) };
  }

  function payable(accountNumber: string): SimulatedVa {
    const va = byAccountNumber(accountNumber);
    if (!va) throw new Error("VA Not found");
    if (isExpired(va)) throw new Error("VA Expired");
    if (va.isDisabled) throw new Error("VA Disabled");
    if (va.isPaid && !va.isReusable) throw new Error("VA Already Paid");
    return va;
  }

  function simulatePayment(accountNumber: string, amount: Rupiah): DurianpayLedgerEntry {
    const va = payable(accountNumber);
    if (amount <= 0n || (va.isClosed && amount !== va.amount)) throw new Error("Invalid Amount");
    if (va.minAmount !== undefined && amount < va.minAmount) throw new Error("Amount Below Minimum");
    if (va.maxAmount !== undefined && amount > va.maxAmount) throw new Error("Amount Above Maximum");
    return pay(va, amount);
  }

  function pay(va: SimulatedVa, amount: Rupiah): DurianpayLedgerEntry {
    const { accountNumber } = va;
    const payment: SimulatedPayment = { id: randomId("pay_"), orderId: randomId("ord_"), amount, paidAt: now() };
    va.payments.push(payment);
    va.isPaid = true;
    if (va.isReusable && va.autoDisable) va.isDisabled = true;
    const entry = { paymentId: payment.id, virtualAccountId: va.id, accountNumber, amount, paidAt: payment.paidAt };
    ledger.push(entry);
    if (callbackUrl) sendWebhook(callbackUrl, va, payment);
    return entry;
  }

  function sendWebhook(url: string, va: SimulatedVa, payment: SimulatedPayment): void {
    const amountText = `${payment.amount}.00`;
    const body = JSON.stringify({
      id: payment.id,
      amount: Number(payment.amount * 100n),
      status: "completed",
      is_live: false,
      currency: "IDR",
      metadata: {
        order_ref_id: payment.orderId,
        payment_ref_id: va.vaRefId,
        static_va_account_number: va.accountNumber,
        static_va_id: va.id,
      },
      signature: createHmac("sha256", serverKey).update(`${payment.id}|${amountText}`).digest("hex"),
      amount_str: amountText,
      created_at: payment.paidAt.toISOString(),
      customer_id: va.customer.id,
      description: "",
      expiry_date: va.expiryAt.toISOString(),
      merchant_id: MERCHANT_ID,
      payment_link_url: "",
    });
    sender.send(() => ({ url, headers: { "content-type": "application/json" }, body }));
  }

  function simulateOverHttp(body: Body): SimulatorResponse {
    if (!serverKey.startsWith("dp_test")) {
      return dpayError(403, "DPAY_UNAUTHORIZED_ACCESS", "simulation is only available with sandbox keys");
    }
    const accountNumber = typeof body.account_number === "string" ? body.account_number : "";
    const amount = typeof body.amount === "string" ? parseRupiah(body.amount) : undefined;
    const refused = (reason: string) => ({
      status: 422,
      body: { data: { status: "Payment Unsuccessful", reason } },
    });
    if (body.force_fail === true) return refused("Payment forced to fail");
    if (amount === undefined) return refused("Invalid Amount");
    try {
      simulatePayment(accountNumber, amount);
    } catch (error) {
      return refused((error as Error).message);
    }
    return { status: 200, body: { data: { status: "Payment Successful" } } };
  }

  function route(request: SimulatorRequest): SimulatorResponse | Promise<SimulatorResponse> {
    requests.push({ method: request.method, path: request.path, body: request.rawBody.toString("utf8") });
    if (request.headers.authorization !== expectedAuthorization) {
      return {
        status: 401,
        body: { error: "invalid Authorization header in request", error_code: "DPAY_UNAUTHORIZED_ACCESS" },
      };
    }
    let body: Body = {};
    if (request.method === "POST" || request.method === "PATCH") {
      const parsed = parseJsonObject(request.rawBody);
      if (!parsed) return formErrors([{ field: "body", message: "must be a JSON object" }]);
      body = parsed;
    }
    if (request.path === "/v1/payments/va/simulate" && request.method === "POST") return simulateOverHttp(body);
    if (request.path === "/v1/payments/va" && request.method === "POST") return create(body);
    if (request.path === "/v1/payments/va" && request.method === "GET") return list(request.query);
    const match = /^\/v1\/payments\/va\/([^/]+)$/.exec(request.path);
    const va = match?.[1] ? accounts.get(decodeURIComponent(match[1])) : undefined;
    if (match && !va) return dpayError(404, "DPAY_INTERNAL_ERROR", "record not found");
    if (va && request.method === "GET") {
      const page = Number(request.query.get("page") ?? "1");
      if (!Number.isSafeInteger(page) || page < 1) return formErrors([{ field: "page", message: "must be 1 or more" }]);
      return { status: 200, body: view(va, page) };
    }
    if (va && request.method === "PATCH") return patch(va, body);
    return { status: 404, body: { error: "route not found" } };
  }

  const server = await startSimulatorServer(route, options.port);
  return {
    url: server.url,
    setCallbackUrl: (url) => {
      callbackUrl = url;
    },
    ledger,
    requests,
    simulatePayment,
    misbehave: {
      holdWebhooks: (held) => sender.hold(held),
      deliverHeldWebhooks: () => sender.deliverHeld(),
      loseNextCreateAnswer: () => {
        loseNextCreate = true;
      },
      payBeforeNextCreateAnswer: (amount) => {
        payBeforeAnswer = amount;
      },
      reissueNumberOnNextCreate: (accountNumber) => {
        reissueNext = accountNumber;
      },
      payIgnoringAmountRule: (accountNumber, amount) => pay(payable(accountNumber), amount),
    },
    ...callbackLifecycle(server, sender),
  };
}

function formErrors(errors: FormError[]): SimulatorResponse {
  return { status: 400, body: { error_code: "DPAY_INVALID_REQUEST", request_id: randomId("dp_"), errors } };
}

function dpayError(status: number, code: string, error: string): SimulatorResponse {
  return { status, body: { error, error_code: code, request_id: randomId("dp_") } };
}

/** Durianpay-style ids: prefix + 10 letters/digits + 4 digits (`va_iz2tvf9UiH4986`). */
function randomId(prefix: string): string {
  const letters = randomBytes(10).toString("base64url").replace(/[-_]/g, "x").slice(0, 10);
  return `${prefix}${letters}${String(randomInt(10_000)).padStart(4, "0")}`;
}
