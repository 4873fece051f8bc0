import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import { callProvider, parseProviderJson, type ProviderHttpRequest } from "../http.js";
import type {
  HttpAnswer,
  InboundHttpRequest,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  RecordingResult,
  VaProvider,
  WebhookResult,
} from "../provider.js";
import { durianpayError } from "./errors.js";
import {
  CANCEL_BODY,
  DURIANPAY,
  type DurianpayPatchBody,
  type DurianpayPayment,
  type DurianpayVaState,
  readCreatedVirtualAccount,
  readFetchPage,
  readWebhook,
  toCreateBody,
  toPatchBody,
  type VirtualAccountChanges,
} from "./transformers.js";
import { jsonAnswer, parseJsonObject } from "../wire-helpers.js";

export interface DurianpayConfig {
  /** `https://api.durianpay.id` (paths start with `/v1`). */
  baseUrl: string;
  /** Sent as HTTP Basic user name with an empty password; `dp_test…` keys are sandbox keys. */
  serverKey: string;
  /** Our name for the Durianpay merchant account the key belongs to; part of the payment dedupe key. */
  providerAccount: string;
  timeoutMs?: number;
  now?: () => Date;
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

export function createDurianpayProvider(config: DurianpayConfig): DurianpayProvider {
  const now = config.now ?? (() => new Date());
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

  async function findPayment(virtualAccountId: string, paymentId: string) {
    const isIt = (payment: DurianpayPayment) => payment.providerPaymentRef === paymentId;
    const state = await readVirtualAccount(virtualAccountId, new AbortController().signal, (page) => page.some(isIt));
    const payment = state.payments.find(isIt);
    return payment && { vaNumber: state.vaNumber, payment };
  }

  const patch = async (va: ProviderVaRef, body: DurianpayPatchBody, signal: AbortSignal) => {
    await call("PATCH", vaPath(va.providerReference), 200, signal, body);
  };

  return {
    name: DURIANPAY,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const created = readCreatedVirtualAccount(
        await call("POST", "/v1/payments/va", 201, signal, toCreateBody(request, now())),
      );
      checkVaNumber(created.accountNumber);
      return {
        providerAccount: config.providerAccount,
        providerReference: created.id,
        vaNumber: created.accountNumber,
      };
    },

    cancelVirtualAccount: (va, signal) => patch(va, CANCEL_BODY, signal),

    updateVirtualAccount: (va, changes, signal) => patch(va, toPatchBody(changes, now()), signal),

    setVirtualAccountDisabled: (va, disabled, signal) => patch(va, { is_disabled: disabled }, signal),

    fetchVirtualAccount: (va, signal) => fetchById(va.providerReference, signal),

    async fetchPayments(va, signal) {
      const state = await fetchById(va.providerReference, signal);
      return state.payments.map((payment) => ({
        providerAccount: config.providerAccount,
        providerPaymentRef: payment.providerPaymentRef,
        vaNumber: state.vaNumber,
        amount: payment.amount,
        fee: undefined,
        paidAt: payment.paidAt,
        rawPayload: JSON.stringify({ source: "GET /v1/payments/va/:id", payment_id: payment.providerPaymentRef, amount: payment.amount.toString(), paid_at: payment.paidAt.toISOString() }),
      }));
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
      let hint: ReturnType<typeof readWebhook>;
      try {
        hint = readWebhook(parseJsonObject(rawPayload));
      } catch (error) {
        return rejected(400, `unreadable webhook: ${(error as Error).message}`);
      }
      if (hint.kind === "other") return rejected(200, `event ${hint.event} carries no VA payment; acknowledged`);
      // The signature formula is undocumented, so the webhook is only believed once the API confirms it.
      let confirmed: Awaited<ReturnType<typeof findPayment>>;
      try {
        confirmed = await findPayment(hint.virtualAccountId, hint.paymentId);
      } catch (error) {
        if (error instanceof DomainError && error.kind === "NOT_FOUND") {
          return rejected(
            400,
            `webhook names virtual account ${hint.virtualAccountId}, which ${DURIANPAY} does not know`,
          );
        }
        return rejected(503, `could not confirm the payment with ${DURIANPAY}: ${(error as Error).message}`);
      }
      if (!confirmed || confirmed.payment.amount !== hint.amount) {
        return rejected(400, `${DURIANPAY} does not confirm payment ${hint.paymentId} of ${hint.amount}`);
      }
      const { payment, vaNumber } = confirmed;
      return {
        kind: "payment",
        notification: {
          providerAccount: config.providerAccount,
          providerPaymentRef: payment.providerPaymentRef,
          vaNumber,
          amount: payment.amount,
          fee: undefined,
          paidAt: payment.paidAt,
          rawPayload,
        },
        answer: acknowledge,
      };
    },
  };
}

/** Durianpay retries anything but 200 (2, 5, 10, 90, 210 min), so a VA we do not know yet is retried. */
function acknowledge(result: RecordingResult): HttpAnswer {
  return result === "UNKNOWN_VIRTUAL_ACCOUNT"
    ? jsonAnswer(404, { error: "virtual account unknown to this merchant" })
    : jsonAnswer(200, { status: "ok" });
}

function rejected(status: number, reason: string): WebhookResult {
  return { kind: "rejected", answer: jsonAnswer(status, { error: reason }), reason };
}
