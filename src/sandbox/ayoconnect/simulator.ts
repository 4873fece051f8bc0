import { randomBytes, randomInt } from "node:crypto";
import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import type { AyoconnectBank } from "../../providers/ayoconnect/capabilities.js";
import type { AyoconnectVaStatus } from "../../providers/ayoconnect/transformers.js";
import { jsonObject, parseJsonObject } from "../../providers/shared/wire-helpers.js";
import type { DeliveryRecord, SimulatorRequest, SimulatorResponse } from "../simulator-kit.js";
import { callbackLifecycle, startSimulatorServer } from "../simulator-kit.js";
import { CallbacksStoppingOnClientErrors } from "./callbacks.js";
import {
  bankOf,
  checkedExpiresIn,
  checkedMoney,
  checkedName,
  checkedPhone,
  type ErrorItem,
  oneOf,
  Refusal,
  refusal,
  requiredText,
} from "./checks.js";

/**
 * An Ayoconnect legacy-API look-alike (reference §7.1–7.2): the OAuth client-credentials token,
 * `POST/GET/PATCH /api/v1/virtualAccount` with Ayoconnect's fields, header rules (Bearer token,
 * 32-character `A-Correlation-ID` kept per VA flow, `A-Merchant-Code`) and its habit of answering 401
 * for token trouble and 503 for everything else, plus unsigned payment callbacks retried after 5 s,
 * 10 s and 30 s — never after a 4xx.
 *
 * Choices where the reference is silent [uncertain, reference §7/§10]:
 * - Error bodies are `{responseCode, responseMessage, responseTime, errors:[{code, message, details}]}`
 *   with the 7-digit codes of Ayoconnect's error table; `details` starts with the wire field.
 * - `transactionId` must be new on every request; a repeat is `4092400`.
 * - `PATCH` with `expiresIn: 0` expires the VA at once (how we cancel); a later expiry reopens it.
 * - Payments are made through `simulatePayment()` or our own `POST /simulator/v1/virtualAccount/payment`
 *   (Ayoconnect has no such API). `trxRefID` counts up from 2362 (the value in Ayoconnect's sample).
 * - Bank prefixes are invented (lengths per capabilities.ts).
 * - Callbacks have exactly the keys of Ayoconnect's callback sample (no `expiredAt`); `billAmount` is
 *   the amount paid, as in that sample (12500.00 paid, `totalAmount` 25000.00). The status answer
 *   carries `billAmount` only once the VA is paid, as its samples do (the PAID status sample has it,
 *   the create and update samples do not) [uncertain: the field is not described].
 * - The update answer has the keys of Ayoconnect's update sample (no phone, no bill details).
 *
 * Misbehaviours (switches the misbehaviour matrix drives):
 * - A closed-amount VA normally takes only its bill (4042413 "Invalid Amount" otherwise), but
 *   `payOtherThanBill` pays another amount, as Ayoconnect's own callback sample shows happening.
 * - `loseNextCreateAnswer`: the VA is made, then the answer is lost; we answer 502 as a proxy does
 *   when the upstream connection drops (the simulator server cannot cut a socket).
 * - `payBeforeNextCreateAnswer`: the VA is made and paid, its callback is answered, then the create.
 * - `reissueNumberOnNextCreate`: the next VA gets a number an expired or paid VA had. Ayoconnect
 *   reissues numbers when asked for the same custom number once the older VA is inactive ("Once the VA
 *   becomes Inactive-Paid or Inactive-Expired, you may recreate a new one using the same configuration
 *   or number", API Flows page of the newer docs); a number an active VA holds is refused (4092400).
 */

export interface AyoconnectSimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  merchantCode?: string;
  callbackUrl?: string;
  /** Default 5 s, 10 s, 30 s. */
  retryDelaysMs?: readonly number[];
  tokenLifetimeSeconds?: number;
  /** `adminFee` reported on every VA; default Rp 4000 (Ayoconnect's sample). */
  adminFee?: Rupiah;
  now?: () => Date;
  port?: number;
}

export interface AyoconnectLedgerEntry {
  trxRefID: string;
  virtualAccountId: string;
  correlationId: string;
  virtualAccountNumber: string;
  amount: Rupiah;
  paidAt: Date;
}

export interface AyoconnectSimulator {
  url: string;
  setCallbackUrl(url: string | undefined): void;
  /** Every payment the simulator accepted, oldest first. */
  ledger: readonly AyoconnectLedgerEntry[];
  deliveries: readonly DeliveryRecord[];
  /** Every request received, for asserting routes and wire fields. */
  requests: ReadonlyArray<{ method: string; path: string; body: string }>;
  /** Pays a VA as a bank would; throws `Error("<code> <details>")` when Ayoconnect would refuse. */
  simulatePayment(virtualAccountNumber: string, amount: Rupiah): AyoconnectLedgerEntry;
  /** Pays a closed-amount VA an amount other than its bill (see the misbehaviours above). */
  payOtherThanBill(virtualAccountNumber: string, amount: Rupiah): AyoconnectLedgerEntry;
  holdCallbacks(held: boolean): void;
  deliverHeldCallbacks(): Promise<{ status: number; body: string }[]>;
  loseNextCreateAnswer(): void;
  payBeforeNextCreateAnswer(amount: Rupiah): void;
  reissueNumberOnNextCreate(virtualAccountNumber: string): void;
  /**
   * A VA made outside our flows (e.g. the one in a published sample), as Ayoconnect would hold it;
   * `paid` makes it paid without a callback.
   */
  addVirtualAccount(va: ForeignVirtualAccount): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface ForeignVirtualAccount {
  virtualAccountId: string;
  customerId: string;
  correlationId: string;
  virtualAccountNumber: string;
  bankCode: string;
  totalAmount: Rupiah;
  paid?: Rupiah;
}

const PREFIX: Readonly<Record<string, string>> = { "009": "9881", "002": "12871", "008": "89508", "014": "11711" };

interface SimulatedVa {
  virtualAccountId: string;
  bank: AyoconnectBank;
  virtualAccountNumber: string;
  name: string;
  phone: string;
  customerId: string;
  correlationId: string;
  type: "dynamic" | "static";
  amountType: "closed" | "open";
  totalAmount: Rupiah;
  billDetails: unknown;
  /** Before expiry; EXPIRED is read off the clock. */
  status: Exclude<AyoconnectVaStatus, "EXPIRED">;
  expiredAt: Date;
  /** The last payment's amount, shown as `billAmount` once paid. */
  paidAmount: Rupiah | undefined;
}

type Body = Record<string, unknown>;

const STATUS_MESSAGES: Readonly<Record<number, string>> = {
  400: "bad request",
  401: "unauthorized",
  503: "service unavailable",
};
export async function startAyoconnectSimulator(options: AyoconnectSimulatorOptions = {}): Promise<AyoconnectSimulator> {
  const clientId = options.clientId ?? "ayo-simulator-client";
  const clientSecret = options.clientSecret ?? "ayo-simulator-secret";
  const merchantCode = options.merchantCode ?? "AYOSIM";
  const now = options.now ?? (() => new Date());
  const adminFee = options.adminFee ?? 4_000n;
  const callbacks = new CallbacksStoppingOnClientErrors(options.retryDelaysMs ?? [5_000, 10_000, 30_000]);
  let callbackUrl = options.callbackUrl;
  const tokens = new Map<string, number>();
  const accounts = new Map<string, SimulatedVa>();
  const usedTransactionIds = new Set<string>();
  const ledger: AyoconnectLedgerEntry[] = [];
  const requests: Array<{ method: string; path: string; body: string }> = [];
  let nextTrxRef = 2362;
  let loseNextAnswer = false;
  let payBeforeAnswer: Rupiah | undefined;
  let reissueNumber: string | undefined;

  const statusOf = (va: SimulatedVa): AyoconnectVaStatus =>
    va.status !== "INACTIVE" && va.expiredAt.getTime() <= now().getTime() ? "EXPIRED" : va.status;

  /** The VA as Ayoconnect shows it, in its samples' key order; `billAmount` once something is paid. */
  function vaData(va: SimulatedVa, paidAmount = va.paidAmount) {
    return {
      virtualAccountId: va.virtualAccountId,
      virtualAccountNumber: va.virtualAccountNumber,
      virtualAccountStatus: statusOf(va),
      virtualAccountName: va.name,
      virtualAccountPhone: va.phone,
      correlationId: va.correlationId,
      customerId: va.customerId,
      totalAmount: money(va.totalAmount),
      ...(paidAmount === undefined ? {} : { billAmount: money(paidAmount) }),
      adminFee: money(adminFee),
      ...(va.billDetails === undefined ? {} : { billDetails: va.billDetails }),
      expiredAt: jakartaTime(va.expiredAt),
    };
  }

  /** Ayoconnect's update sample: the VA without phone and bill details. */
  function updatedData(va: SimulatedVa) {
    const { virtualAccountPhone: _, billDetails: __, ...data } = vaData(va);
    return data;
  }

  function answer(status: number, responseCode: number, message: string, extra: Body = {}): SimulatorResponse {
    return {
      status,
      body: {
        responseCode,
        responseMessage: message,
        responseTime: jakartaTime(now()).slice(0, 19).replace(/[-T:]/g, ""),
        ...extra,
      },
    };
  }

  const failure = (status: number, errors: ErrorItem[]) => answer(status, status, STATUS_MESSAGES[status] ?? "error", { errors });

  function issueToken(request: SimulatorRequest): SimulatorResponse {
    if (request.query.get("grant_type") !== "client_credentials") {
      throw refusal("4007302", "grant_type: must be client_credentials", 400);
    }
    if (!request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
      throw refusal("4007300", "Content-Type: must be application/x-www-form-urlencoded", 400);
    }
    const form = new URLSearchParams(request.rawBody.toString("utf8"));
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      throw refusal("4017300", "client_id: invalid client credentials", 401);
    }
    const token = randomBytes(21).toString("base64url").replace(/[-_]/g, "A");
    const lifetime = options.tokenLifetimeSeconds ?? 3_599;
    tokens.set(token, now().getTime() + lifetime * 1_000);
    return {
      status: 200,
      body: {
        apiProductList: '["virtual-account"]',
        organizationName: "ayoconnect-open-finance",
        "developer.email": "sandbox@ayoconnect.example",
        tokenType: "BearerToken",
        responseTime: jakartaTime(now()).slice(0, 19).replace(/[-T:]/g, ""),
        clientId,
        accessToken: token,
        expiresIn: String(lifetime),
      },
    };
  }

  /** Token and header rules of every VA call; the correlation id on success. */
  function authorise(request: SimulatorRequest): string {
    const token = /^bearer (\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const expiry = token === undefined ? undefined : tokens.get(token);
    if (expiry === undefined || expiry <= now().getTime()) {
      throw refusal("4012401", "Authorization: the access token is expired, invalid, or missing", 401);
    }
    const correlationId = header(request, "a-correlation-id");
    if (!/^[A-Za-z0-9]{32}$/.test(correlationId)) throw refusal("4002400", "A-Correlation-ID: must be 32 alphanumerics");
    if (header(request, "a-merchant-code") !== merchantCode) throw refusal("4002400", "A-Merchant-Code: unknown merchant");
    return correlationId;
  }

  function claimTransactionId(value: unknown): void {
    const id = requiredText(value, "transactionId");
    if (!/^[A-Za-z0-9]{32}$/.test(id)) throw refusal("4002401", "transactionId: must be exactly 32 alphanumerics");
    if (usedTransactionIds.has(id)) throw refusal("4092400", "transactionId: already used by another request");
    usedTransactionIds.add(id);
  }

  async function create(body: Body, correlationId: string): Promise<SimulatorResponse> {
    const name = checkedName(body.virtualAccountName);
    const phone = checkedPhone(body.virtualAccountPhone);
    const bank = bankOf(body.bankCode);
    const config = jsonObject(body.virtualAccountConfig);
    if (!config) throw refusal("4002402", "virtualAccountConfig: is mandatory");
    const type = oneOf(config.virtualAccountType, ["dynamic", "static"], "virtualAccountConfig.virtualAccountType");
    const amountType = oneOf(config.amountType, ["closed", "open"], "virtualAccountConfig.amountType");
    if (!bank.multiPaymentClosedAmount && type === "static" && amountType === "closed") {
      throw refusal(
        "4002401",
        `virtualAccountConfig: static (multi-payment) closed-amount VAs are not offered by bank ${bank.ayoconnectCode}`,
      );
    }
    const totalAmount = checkedMoney(body.totalAmount, "totalAmount");
    if (amountType === "closed" && totalAmount === 0n)
      throw refusal("4002401", "totalAmount: must be above 0 for a closed amount");
    if (amountType === "open" && totalAmount !== 0n) throw refusal("4002401", "totalAmount: must be 0.00 for an open amount");
    const expiresIn = checkedExpiresIn(body.expiresIn, 1);
    const custom = body.virtualAccountNumber;
    const { min, max } = bank.customDigits;
    if (custom !== undefined && (typeof custom !== "string" || !new RegExp(`^[0-9]{${min},${max}}$`).test(custom))) {
      throw refusal(
        "4002401",
        `virtualAccountNumber: must be ${min === max ? min : `${min}-${max}`} digits for bank ${bank.ayoconnectCode}`,
      );
    }
    if (body.billDetails !== undefined && !Array.isArray(body.billDetails)) {
      throw refusal("4002401", "billDetails: must be a list");
    }
    claimTransactionId(body.transactionId);
    const prefix = PREFIX[bank.ayoconnectCode] ?? "";
    const reissued = reissueNumber;
    reissueNumber = undefined;
    const virtualAccountNumber = reissued ?? (typeof custom === "string" ? prefix + custom : unusedNumber(prefix, min));
    const active = [...accounts.values()].find(
      (va) => va.virtualAccountNumber === virtualAccountNumber && !["EXPIRED", "INACTIVE"].includes(statusOf(va)),
    );
    if (active) throw refusal("4092400", "virtualAccountNumber: already in use by an active virtual account");
    const va: SimulatedVa = {
      virtualAccountId: newVirtualAccountId(now()),
      bank,
      virtualAccountNumber,
      name,
      phone,
      customerId: `AYOAPP-${randomBytes(6).toString("hex").toUpperCase().slice(0, 8)}`,
      correlationId,
      type,
      amountType,
      totalAmount,
      billDetails: body.billDetails,
      // Ayoconnect's create sample for BNI (009) answers INQUIRED; UNUSED is "not used for BNI".
      status: bank.ayoconnectCode === "009" ? "INQUIRED" : "UNUSED",
      expiredAt: new Date(now().getTime() + expiresIn * 60_000),
      paidAmount: undefined,
    };
    accounts.set(va.virtualAccountId, va);
    if (loseNextAnswer) {
      loseNextAnswer = false;
      return { status: 502, body: "" };
    }
    const early = payBeforeAnswer;
    payBeforeAnswer = undefined;
    if (early !== undefined) {
      await pay(va, early).firstAnswer;
    }
    return answer(201, 201, "created", {
      referenceNumber: randomBytes(16).toString("hex"),
      transactionId: body.transactionId,
      virtualAccountData: vaData(va),
    });
  }

  function unusedNumber(prefix: string, digits: number): string {
    for (;;) {
      const candidate = prefix + Array.from({ length: digits }, () => randomInt(10)).join("");
      if (![...accounts.values()].some((va) => va.virtualAccountNumber === candidate)) return candidate;
    }
  }

  /** GET and PATCH name the VA by id + customer + bank, within the VA's own flow. */
  function findInFlow(fields: Body, correlationId: string): SimulatedVa {
    const virtualAccountId = requiredText(fields.virtualAccountId, "virtualAccountId");
    const customerId = requiredText(fields.customerId, "customerId");
    const bank = bankOf(fields.bankCode);
    const va = accounts.get(virtualAccountId);
    if (!va || va.customerId !== customerId || va.bank !== bank) {
      throw refusal("4042412", "virtualAccountId: no such virtual account");
    }
    if (va.correlationId !== correlationId) {
      throw refusal("4002401", "A-Correlation-ID: does not belong to this virtual account flow");
    }
    return va;
  }

  function status(request: SimulatorRequest, correlationId: string): SimulatorResponse {
    const fields = Object.fromEntries(request.query);
    const va = findInFlow(fields, correlationId);
    claimTransactionId(fields.transactionId);
    return answer(200, 200, "ok", {
      referenceNumber: randomBytes(16).toString("hex"),
      transactionId: fields.transactionId,
      virtualAccountData: vaData(va),
    });
  }

  function update(body: Body, correlationId: string): SimulatorResponse {
    const va = findInFlow(body, correlationId);
    claimTransactionId(body.transactionId);
    if (va.status === "INACTIVE") throw refusal("4042414", "virtualAccountId: the bill has already been paid");
    const expiresIn = body.expiresIn === undefined ? undefined : checkedExpiresIn(body.expiresIn, 0);
    const totalAmount = body.totalAmount === undefined ? undefined : checkedMoney(body.totalAmount, "totalAmount");
    if (totalAmount !== undefined && va.bank.ayoconnectCode === "009" && totalAmount < va.totalAmount) {
      throw refusal("4042413", "totalAmount: may only stay equal or increase for bank 009");
    }
    if (body.virtualAccountName !== undefined) va.name = checkedName(body.virtualAccountName);
    if (body.virtualAccountPhone !== undefined) va.phone = checkedPhone(body.virtualAccountPhone);
    if (totalAmount !== undefined) va.totalAmount = totalAmount;
    if (expiresIn !== undefined) va.expiredAt = new Date(now().getTime() + expiresIn * 60_000);
    // Ayoconnect's sample answers an update with responseCode 201 under HTTP 200.
    return answer(200, 201, "updated", {
      referenceNumber: randomBytes(16).toString("hex"),
      transactionId: body.transactionId,
      virtualAccountData: updatedData(va),
    });
  }

  function payableVa(virtualAccountNumber: string): SimulatedVa {
    const va = [...accounts.values()].reverse().find((v) => v.virtualAccountNumber === virtualAccountNumber);
    if (!va) throw refusal("4042412", "virtualAccountNumber: no such virtual account");
    const current = statusOf(va);
    if (current === "EXPIRED") throw refusal("4042519", "virtualAccountNumber: the virtual account has expired");
    if (current === "INACTIVE") throw refusal("4042414", "virtualAccountNumber: the bill has already been paid");
    return va;
  }

  function simulatePayment(virtualAccountNumber: string, amount: Rupiah): AyoconnectLedgerEntry {
    const va = payableVa(virtualAccountNumber);
    if (amount <= 0n || (va.amountType === "closed" && amount !== va.totalAmount)) {
      throw refusal("4042413", "amount: does not match the bill");
    }
    return pay(va, amount).entry;
  }

  function payOtherThanBill(virtualAccountNumber: string, amount: Rupiah): AyoconnectLedgerEntry {
    const va = payableVa(virtualAccountNumber);
    if (amount <= 0n || amount === va.totalAmount) throw new Error("payOtherThanBill needs an amount other than the bill");
    return pay(va, amount).entry;
  }

  function pay(va: SimulatedVa, amount: Rupiah): { entry: AyoconnectLedgerEntry; firstAnswer: Promise<void> } {
    va.status = va.type === "static" ? "PAID" : "INACTIVE";
    va.paidAmount = amount;
    const entry = {
      trxRefID: String(nextTrxRef++),
      virtualAccountId: va.virtualAccountId,
      correlationId: va.correlationId,
      virtualAccountNumber: va.virtualAccountNumber,
      amount,
      paidAt: now(),
    };
    ledger.push(entry);
    const firstAnswer = callbackUrl ? sendCallback(callbackUrl, va, entry) : Promise.resolve();
    return { entry, firstAnswer };
  }

  /** The body of Ayoconnect's callback sample, key for key: the VA with this payment's details in place of its expiry. */
  function sendCallback(url: string, va: SimulatedVa, entry: AyoconnectLedgerEntry): Promise<void> {
    const { expiredAt: _, ...data } = vaData(va, entry.amount);
    const body = JSON.stringify({
      code: 200,
      message: "ok",
      virtualAccountData: { ...data, paymentDetails: { trxRefID: entry.trxRefID, amount: formatRupiah2(entry.amount) } },
    });
    const headers = { accept: "application/json", "content-type": "application/json" };
    return callbacks.send({ url, headers, body }).firstAnswer;
  }

  function addVirtualAccount(foreign: ForeignVirtualAccount): void {
    accounts.set(foreign.virtualAccountId, {
      virtualAccountId: foreign.virtualAccountId,
      bank: bankOf(foreign.bankCode),
      virtualAccountNumber: foreign.virtualAccountNumber,
      name: "Ayoconnect",
      phone: "62796335646",
      customerId: foreign.customerId,
      correlationId: foreign.correlationId,
      type: "dynamic",
      amountType: "closed",
      totalAmount: foreign.totalAmount,
      billDetails: undefined,
      status: foreign.paid === undefined ? "UNUSED" : "INACTIVE",
      expiredAt: new Date(now().getTime() + 3_600_000),
      paidAmount: foreign.paid,
    });
  }

  function payOverHttp(body: Body): SimulatorResponse {
    const entry = simulatePayment(
      requiredText(body.virtualAccountNumber, "virtualAccountNumber"),
      checkedMoney(body.amount, "amount"),
    );
    return answer(200, 200, "ok", {
      virtualAccountId: entry.virtualAccountId,
      paymentDetails: { trxRefID: entry.trxRefID, amount: formatRupiah2(entry.amount) },
    });
  }

  async function route(request: SimulatorRequest): Promise<SimulatorResponse> {
    const rawBody = request.rawBody.toString("utf8");
    requests.push({ method: request.method, path: request.path, body: rawBody });
    try {
      if (request.path === "/v1/oauth/client_credential/accesstoken" && request.method === "POST") {
        return issueToken(request);
      }
      const correlationId = authorise(request);
      const body = request.method === "GET" ? {} : parseJsonObject(rawBody);
      if (!body) throw refusal("4002400", "body: must be a JSON object");
      if (request.path === "/api/v1/virtualAccount") {
        if (request.method === "POST") return await create(body, correlationId);
        if (request.method === "GET") return status(request, correlationId);
        if (request.method === "PATCH") return update(body, correlationId);
      }
      if (request.path === "/simulator/v1/virtualAccount/payment" && request.method === "POST") return payOverHttp(body);
      return answer(404, 404, "not found");
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return failure(error.httpStatus, [error.item]);
    }
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
    payOtherThanBill,
    holdCallbacks: (held) => callbacks.hold(held),
    deliverHeldCallbacks: () => callbacks.deliverHeld(),
    loseNextCreateAnswer: () => {
      loseNextAnswer = true;
    },
    payBeforeNextCreateAnswer: (amount) => {
      payBeforeAnswer = amount;
    },
    reissueNumberOnNextCreate: (virtualAccountNumber) => {
      reissueNumber = virtualAccountNumber;
    },
    addVirtualAccount,
    ...callbackLifecycle(server, callbacks),
  };
}

function header(request: SimulatorRequest, name: string): string {
  const value = request.headers[name];
  return typeof value === "string" ? value : "";
}

function money(amount: Rupiah) {
  return { value: formatRupiah2(amount), currency: "IDR" };
}

/** Ayoconnect writes times in Jakarta time with the offset: `2023-04-11T13:17:14+07:00`. */
function jakartaTime(date: Date): string {
  return `${new Date(date.getTime() + 7 * 3_600_000).toISOString().slice(0, 19)}+07:00`;
}

/** 27 characters like Ayoconnect's `230411110614699649123IRGG6Q`: time, digits, upper-case letters. */
function newVirtualAccountId(at: Date): string {
  const stamp = jakartaTime(at).slice(2, 19).replace(/[-T:]/g, "");
  const digits = Array.from({ length: 9 }, () => randomInt(10)).join("");
  const letters = Array.from({ length: 6 }, () => String.fromCharCode(65 + randomInt(26))).join("");
  return stamp + digits + letters;
}
