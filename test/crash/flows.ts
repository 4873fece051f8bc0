import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { type CreateVirtualAccountRequestSchema, type VaService, VaUsage } from "../../src/gen/va/v1/va_pb.js";

type CreateInit = MessageInitShape<typeof CreateVirtualAccountRequestSchema>;
type VaClient = Client<typeof VaService>;

/** One create/pay flow: its own idempotency key, a create request that never changes, its payments. */
export interface FlowPlan {
  index: number;
  key: string;
  request: CreateInit;
  /** One SimulatePayment per entry: an explicit amount, or undefined for the VA's suggested amount. */
  payments: (bigint | undefined)[];
}

export interface FlowResult {
  plan: FlowPlan;
  virtualAccountId: string;
  /** The sandbox VA id (`sbva_…`) our VA points at. */
  providerReference: string;
  /** `replayed` of the create answer that finally succeeded (true when a retry found the first attempt's result). */
  replayed: boolean;
  createAttempts: number;
  /** References SimulatePayment returned; a retried call may have paid more that we never heard of. */
  paymentRefs: string[];
  payAttempts: number;
}

const BANKS = ["BCA", "BNI", "BRI", "MANDIRI", "PERMATA", "CIMB", "BSI"];

/**
 * A mix of VA kinds: single-use fixed (paid its amount), multi-use open (paid twice) and single-use
 * range (paid inside the range). Amounts differ per flow so a payment recorded against the wrong VA
 * or with a wrong amount shows.
 */
export function planFlow(runId: string, index: number): FlowPlan {
  const key = `crash-${runId}-${index}`;
  const base = {
    idempotencyKey: key,
    merchantReference: `order-${runId}-${index}`,
    bankCode: BANKS[index % BANKS.length] as string,
    customer: { name: `Payer ${index}`, email: "payer@example.co.id", phone: "+6281234567890" },
  };
  switch (index % 3) {
    case 0:
      return {
        index,
        key,
        request: {
          ...base,
          usage: VaUsage.SINGLE,
          amount: { rule: { case: "fixed", value: { amount: BigInt(10_000 + index * 13) } } },
        },
        payments: [undefined],
      };
    case 1:
      return {
        index,
        key,
        request: { ...base, usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } },
        payments: [BigInt(5_000 + index), BigInt(7_000 + index * 3)],
      };
    default:
      return {
        index,
        key,
        request: {
          ...base,
          usage: VaUsage.SINGLE,
          amount: { rule: { case: "range", value: { min: 20_000n, max: 90_000n } } },
        },
        payments: [BigInt(20_000 + index * 17)],
      };
  }
}

/**
 * Codes a retry can get past: the service is down or restarting (connection refused or reset come
 * back as UNAVAILABLE, sometimes UNKNOWN/INTERNAL/CANCELED), our deadline, or the key still held by
 * a request that died with the process (ABORTED until the lease runs out).
 */
const RETRYABLE = new Set([
  Code.Unavailable,
  Code.Aborted,
  Code.DeadlineExceeded,
  Code.Unknown,
  Code.Internal,
  Code.Canceled,
  Code.ResourceExhausted,
]);

export class ErrorTally {
  readonly counts = new Map<string, number>();
  /** The first few distinct messages per operation and code, for the summary. */
  readonly samples = new Map<string, Set<string>>();

  add(operation: string, failure: ConnectError): void {
    const name = `${operation}:${Code[failure.code] ?? failure.code}`;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const seen = this.samples.get(name) ?? new Set<string>();
    if (seen.size < 3) seen.add(failure.rawMessage.replace(/"[^"]*"/g, '"…"').slice(0, 160));
    this.samples.set(name, seen);
  }

  toString(): string {
    return [...this.counts].map(([name, count]) => `${name}=${count}`).join(" ") || "none";
  }
}

export interface RetryOptions {
  tally: ErrorTally;
  /** A call still failing this long after its first attempt fails the run. */
  giveUpAfterMs: number;
  callTimeoutMs: number;
  /** Aborted when the run has already failed (e.g. the service did not come back): stop retrying. */
  stop?: AbortSignal;
  /** Counts calls that succeeded (the harness waits for one after each restart before it kills again). */
  progress?: { calls: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls until it succeeds; only retryable codes are retried, with capped exponential backoff and jitter. */
export async function retrying<T>(
  operation: string,
  call: (timeoutMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  const deadline = Date.now() + options.giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await call(options.callTimeoutMs);
      if (options.progress) options.progress.calls++;
      return { value, attempts: attempt };
    } catch (error) {
      const failure = ConnectError.from(error);
      options.tally.add(operation, failure);
      if (!RETRYABLE.has(failure.code)) {
        throw new Error(`${operation} failed with a non-retryable ${Code[failure.code]}: ${failure.message}`);
      }
      if (options.stop?.aborted) throw new Error(`${operation} abandoned: the run failed`);
      if (Date.now() > deadline) {
        throw new Error(`${operation} still failing after ${attempt} attempts: ${Code[failure.code]} ${failure.message}`);
      }
      const backoff = Math.min(1_000, 50 * 2 ** Math.min(attempt, 5));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
}

/** Creates the VA (same request on every retry), then pays it; SimulatePayment is retried too. */
export async function runFlow(client: VaClient, plan: FlowPlan, options: RetryOptions): Promise<FlowResult> {
  const created = await retrying("create", (timeoutMs) => client.createVirtualAccount(plan.request, { timeoutMs }), options);
  const virtualAccount = created.value.virtualAccount;
  if (!virtualAccount) throw new Error(`flow ${plan.index}: create answered without a virtual account`);
  const result: FlowResult = {
    plan,
    virtualAccountId: virtualAccount.id,
    providerReference: virtualAccount.providerReference,
    replayed: created.value.replayed,
    createAttempts: created.attempts,
    paymentRefs: [],
    payAttempts: 0,
  };
  for (const amount of plan.payments) {
    const paid = await retrying(
      "pay",
      (timeoutMs) => client.simulatePayment({ virtualAccountId: virtualAccount.id, amount }, { timeoutMs }),
      options,
    );
    result.paymentRefs.push(paid.value.providerPaymentReference);
    result.payAttempts += paid.attempts;
  }
  return result;
}

/**
 * Runs every plan on `workers` concurrent workers, each taking the next plan when it finishes one.
 * `admit(index)` may hold a worker back before it starts plan `index`.
 */
export async function runFlows(
  client: VaClient,
  plans: FlowPlan[],
  workers: number,
  options: RetryOptions,
  progress: { done: number } = { done: 0 },
  admit: (index: number) => Promise<void> = async () => undefined,
): Promise<FlowResult[]> {
  const results: FlowResult[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const plan = plans[next++];
      if (!plan) return;
      await admit(plan.index);
      results[plan.index] = await runFlow(client, plan, options);
      progress.done++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Maps `work` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      out[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** Lets flows start up to a limit that only grows; a worker past it waits. */
export class FlowGate {
  private limit: number;
  private readonly waiting: { index: number; resolve: () => void }[] = [];

  constructor(initial: number) {
    this.limit = initial;
  }

  admit(index: number): Promise<void> {
    if (index < this.limit) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ index, resolve }));
  }

  raise(limit: number): void {
    this.limit = Math.max(this.limit, limit);
    for (const waiter of this.waiting.splice(0)) {
      if (waiter.index < this.limit) waiter.resolve();
      else this.waiting.push(waiter);
    }
  }
}
