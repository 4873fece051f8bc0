import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import type {
  Confirmation,
  HttpAnswer,
  InboundHttpRequest,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  RecordingResult,
  VaProvider,
  WebhookResult,
} from "../provider.js";
import type { AdapterSettings } from "../shared/adapter-settings.js";
import { callProvider, type ProviderHttpRequest, parseProviderJson } from "../shared/http.js";
import { jsonAnswer, parseJsonObject } from "../shared/wire-helpers.js";
import { durianpayError } from "./errors.js";
import {
  CANCEL_BODY,
  DURIANPAY,
  type DurianpayListedVa,
  type DurianpayPatchBody,
  type DurianpayPayment,
  type DurianpayVaState,
  readCreatedVirtualAccount,
  readFetchPage,
  readListPage,
  readWebhook,
  toCreateBody,
  toPatchBody,
  type VirtualAccountChanges,
} from "./transformers.js";

export interface DurianpayConfig extends AdapterSettings {
  /** `https://api.durianpay.id` (paths start with `/v1`). */
  baseUrl: string;
  /** Sent as HTTP Basic user name with an empty password; `dp_test…` keys are sandbox keys. */
  serverKey: string;
  /** Our name for the Durianpay merchant account the key belongs to; part of the payment dedupe key. */
  providerAccount: string;
  /**
   * How far back a create looks for the VA an earlier attempt with the same idempotency key made
   * (default 24 h). A retry later than that makes a second VA: Durianpay has no lookup by `va_ref_id`.
   */
  adoptLookbackMs?: number;
}

export interface DurianpayProvider extends VaProvider {
  /** The VA as Durianpay has it, with every completed payment (all pages). */
  fetchVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<DurianpayVaState>;
  updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void>;
  /** Disabled VAs keep their number but refuse payments until enabled again. */
  setVirtualAccountDisabled(va: ProviderVaRef, disabled: boolean, signal: AbortSignal): Promise<void>;
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

/** Safety stop for a VA whose payment list never ends. */
const MAX_PAYMENT_PAGES = 200;
/** `GET /v1/payments/va` pages searched for an earlier attempt's VA (the documented default limit is 25). */
const LIST_PAGE_SIZE = 100;
const MAX_LIST_PAGES = 50;

const UNSIGNED = "Durianpay does not document how its webhook signature is computed; confirmed through GET /v1/payments/va/:id";

export function createDurianpayProvider(config: DurianpayConfig): DurianpayProvider {
  const now = config.now ?? (() => new Date());
  const adoptLookbackMs = config.adoptLookbackMs ?? 24 * 3_600_000;
  const authorization = `Basic ${Buffer.from(`${config.serverKey}:`).toString("base64")}`;
  const vaPath = (id: string) => `/v1/payments/va/${encodeURIComponent(id)}`;

  async function call(
    method: ProviderHttpRequest["method"],
    path: string,
    expectedStatus: number,
    signal: AbortSignal,
    body?: object,
  ): Promise<unknown> {
    const response = await callProvider({
      provider: DURIANPAY,
      method,
      url: `${config.baseUrl}${path}`,
      headers: { authorization },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: config.timeoutMs ?? 10_000,
      signal,
    });
    if (response.status !== expectedStatus) throw durianpayError(response);
    return parseProviderJson(DURIANPAY, response);
  }

  /**
   * Reads the VA page by page (payments newest first, as Durianpay lists them) until a page is empty
   * or `enough` is satisfied by the payments of the page just read.
   */
  async function readVirtualAccount(
    id: string,
    signal: AbortSignal,
    enough: (pagePayments: DurianpayPayment[]) => boolean,
  ): Promise<DurianpayVaState> {
    const payments: DurianpayPayment[] = [];
    for (let page = 1; page <= MAX_PAYMENT_PAGES; page++) {
      const result = readFetchPage(await call("GET", `${vaPath(id)}?page=${page}`, 200, signal));
      payments.push(...result.payments);
      if (result.lastPage || enough(result.payments)) return { ...result.state, payments };
    }
    throw new DomainError("UNAVAILABLE", `${DURIANPAY} listed more than ${MAX_PAYMENT_PAGES} pages of payments`, {
      provider: DURIANPAY,
    });
  }

  const fetchById = (id: string, signal: AbortSignal) => readVirtualAccount(id, signal, () => false);

  /** A payment as the callback for it is recorded: same id, Durianpay's amount, the VA's own id. */
  const toNotification = (
    state: DurianpayVaState,
    payment: DurianpayPayment,
    fallbackPaidAt: Date,
    rawPayload: string,
  ): PaymentNotification => ({
    providerAccount: config.providerAccount,
    providerPaymentRef: payment.providerPaymentRef,
    vaNumber: state.vaNumber,
    amount: payment.amount,
    fee: undefined,
    paidAt: payment.paidAt ?? fallbackPaidAt,
    rawPayload,
    providerVaId: state.providerReference,
  });

  /**
   * The VA an earlier attempt with the same `va_ref_id` made, if any. Durianpay does not treat
   * `va_ref_id` as unique and has no lookup by it, so the list API (newest first) is searched over
   * the look-back window.
   */
  async function findByRefId(vaRefId: string, signal: AbortSignal): Promise<DurianpayListedVa | undefined> {
    const to = Math.ceil(now().getTime() / 1000) + 60;
    const from = to - 60 - Math.ceil(adoptLookbackMs / 1000);
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query = `from=${from}&to=${to}&skip=${page * LIST_PAGE_SIZE}&limit=${LIST_PAGE_SIZE}`;
      const items = readListPage(await call("GET", `/v1/payments/va?${query}`, 200, signal));
      const found = items.find((item) => item.vaRefId === vaRefId);
      if (found || items.length < LIST_PAGE_SIZE) return found;
    }
    return undefined;
  }

  const patch = async (va: ProviderVaRef, body: DurianpayPatchBody, signal: AbortSignal) => {
    await call("PATCH", vaPath(va.providerReference), 200, signal, body);
  };

  return {
    name: DURIANPAY,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const earlier = await findByRefId(request.externalId, signal);
      const created =
        earlier ?? readCreatedVirtualAccount(await call("POST", "/v1/payments/va", 201, signal, toCreateBody(request, now())));
      checkVaNumber(created.accountNumber);
      return {
        providerAccount: config.providerAccount,
        providerReference: created.id,
        vaNumber: created.accountNumber,
        providerVaId: created.id,
      };
    },

    cancelVirtualAccount: (va, signal) => patch(va, CANCEL_BODY, signal),

    updateVirtualAccount: (va, changes, signal) => patch(va, toPatchBody(changes, now()), signal),

    setVirtualAccountDisabled: (va, disabled, signal) => patch(va, { is_disabled: disabled }, signal),

    fetchVirtualAccount: (va, signal) => fetchById(va.providerReference, signal),

    async fetchPayments(va, signal) {
      const state = await fetchById(va.providerReference, signal);
      const polledAt = now();
      return state.payments.map((payment) =>
        toNotification(
          state,
          payment,
          polledAt,
          JSON.stringify({ source: "GET /v1/payments/va/:id", payment_id: payment.providerPaymentRef }),
        ),
      );
    },

    async confirmPayment(claim: PaymentNotification, signal: AbortSignal): Promise<Confirmation> {
      if (claim.providerVaId === undefined) {
        // Every claim this adapter makes names its VA; one without cannot be looked up, so it stays held.
        throw new DomainError("UNAVAILABLE", `${DURIANPAY} payments are confirmed through their VA id`, {
          provider: DURIANPAY,
        });
      }
      const isIt = (payment: DurianpayPayment) => payment.providerPaymentRef === claim.providerPaymentRef;
      let state: DurianpayVaState;
      try {
        state = await readVirtualAccount(claim.providerVaId, signal, (page) => page.some(isIt));
      } catch (error) {
        if (error instanceof DomainError && error.kind === "NOT_FOUND") {
          return { paid: false, reason: `${DURIANPAY} does not know virtual account ${claim.providerVaId}` };
        }
        throw error;
      }
      const payment = state.payments.find(isIt);
      if (!payment) {
        return {
          paid: false,
          reason: `${DURIANPAY} lists no payment ${claim.providerPaymentRef} on ${claim.providerVaId}`,
        };
      }
      return { paid: true, notification: toNotification(state, payment, claim.paidAt, claim.rawPayload) };
    },

    async simulatePayment(va, amount, signal) {
      // The sandbox answers only "Payment Successful"; the new payment's id is read off the VA.
      const before = new Set((await fetchById(va.providerReference, signal)).payments.map((p) => p.providerPaymentRef));
      const body = { account_number: va.vaNumber, amount: amount.toString(), force_fail: false };
      await call("POST", "/v1/payments/va/simulate", 200, signal, body);
      const after = await fetchById(va.providerReference, signal);
      const made = after.payments.find((p) => !before.has(p.providerPaymentRef));
      if (!made) {
        throw new DomainError("UNAVAILABLE", `${DURIANPAY} accepted the simulated payment but does not list it`, {
          provider: DURIANPAY,
        });
      }
      return { providerPaymentRef: made.providerPaymentRef };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const rawPayload = request.rawBody.toString("utf8");
      const body = parseJsonObject(rawPayload);
      if (!body) return rejected(400, "unreadable webhook: not a JSON object");
      let claim: ReturnType<typeof readWebhook>;
      try {
        claim = readWebhook(body, request.path);
      } catch (error) {
        return rejected(400, `unreadable webhook: ${(error as Error).message}`);
      }
      if (claim.kind === "other") return rejected(200, `${claim.event} carries no VA payment; acknowledged`);
      return {
        kind: "payment",
        notification: {
          providerAccount: config.providerAccount,
          providerPaymentRef: claim.paymentId,
          vaNumber: claim.vaNumber ?? "",
          amount: claim.amount,
          fee: undefined,
          paidAt: claim.paidAt ?? now(),
          rawPayload,
          providerVaId: claim.virtualAccountId,
        },
        belief: { verified: false, doubt: UNSIGNED },
        answer: acknowledge,
      };
    },
  };
}

/**
 * Durianpay retries anything but 200 after 2, 5, 10, 90 and 210 minutes (docs.durianpay.id "Handling
 * Webhooks"). HELD is answered 200: the claim is stored and we confirm it ourselves, so retries add
 * nothing. REFUTED (Durianpay's own API denies the payment) gets a 404; Durianpay retries it, and each
 * retry is confirmed and refuted again without writing anything.
 */
function acknowledge(result: RecordingResult): HttpAnswer {
  switch (result) {
    case "REFUTED":
      return jsonAnswer(404, { error: "Durianpay does not confirm this payment" });
    case "ID_REUSED":
      return jsonAnswer(409, { error: "request id reused with another body" });
    default:
      return jsonAnswer(200, { status: "ok" });
  }
}

function rejected(status: number, reason: string): WebhookResult {
  return { kind: "rejected", answer: jsonAnswer(status, { error: reason }), reason };
}
