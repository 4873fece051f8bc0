import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, ConnectError } from "@connectrpc/connect";
import {
  type CreateVirtualAccountRequestSchema,
  type PaymentEvent,
  type StreamPaymentEventsRequestSchema,
  type VaService,
  VaUsage,
} from "../../src/gen/va/v1/va_pb.js";
import { signCallback } from "../../src/providers/sandbox/signature.js";

type CreateInit = MessageInitShape<typeof CreateVirtualAccountRequestSchema>;

/** A valid single-use fixed-amount create request; override what the test is about. */
export function createRequest(overrides: Partial<CreateInit> = {}): CreateInit {
  const defaults: CreateInit = {
    idempotencyKey: `key-${randomUUID()}`,
    merchantReference: `order-${randomUUID().slice(0, 8)}`,
    bankCode: "BCA",
    usage: VaUsage.SINGLE,
    amount: { rule: { case: "fixed", value: { amount: 25_000n } } },
    customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
  };
  return { ...defaults, ...overrides } as CreateInit;
}

/**
 * Reads the event stream until `count` events (heartbeats skipped) have arrived, then cancels it.
 * Fails the test if they do not arrive within `timeoutMs`.
 */
export async function takeEvents(
  client: Client<typeof VaService>,
  request: MessageInitShape<typeof StreamPaymentEventsRequestSchema>,
  count: number,
  timeoutMs = 20_000,
): Promise<PaymentEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const events: PaymentEvent[] = [];
  try {
    for await (const message of client.streamPaymentEvents(request, { signal: abort.signal })) {
      if (message.kind.case !== "event") continue;
      events.push(message.kind.value);
      if (events.length >= count) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  if (events.length < count) throw new Error(`expected ${count} events, got ${events.length} before timeout`);
  return events;
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` (generous: a busy machine is slow). */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A payment callback exactly as the sandbox provider signs it, for driving the webhook directly. */
export function sandboxCallback(
  secrets: { merchantId: string; webhookSecret: string },
  now: Date,
  va: { providerReference: string; vaNumber: string; bankCode: string },
  payment: { id: string; amount: bigint },
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    event: "payment.succeeded",
    payment_id: payment.id,
    virtual_account_id: va.providerReference,
    external_id: "from-test",
    merchant_id: secrets.merchantId,
    va_number: va.vaNumber,
    bank_code: va.bankCode,
    amount: payment.amount.toString(),
    fee: "2500",
    paid_at: now.toISOString(),
  });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-sandbox-timestamp": timestamp,
      "x-sandbox-signature": signCallback(secrets.webhookSecret, timestamp, body),
    },
  };
}

/** `sbpay_` + 24 hex digits, unique per call. */
export const sandboxPaymentId = () => `sbpay_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** The ConnectError a call fails with; fails the test if the call succeeds. */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * Every event the stream holds for `request` right now: the stream replays the log before its first
 * heartbeat, so everything up to the first heartbeat is the stored history.
 */
export async function storedEvents(
  client: Client<typeof VaService>,
  request: MessageInitShape<typeof StreamPaymentEventsRequestSchema> = {},
): Promise<PaymentEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  const events: PaymentEvent[] = [];
  try {
    for await (const message of client.streamPaymentEvents(request, { signal: abort.signal })) {
      if (message.kind.case === "heartbeat") return events;
      if (message.kind.case === "event") events.push(message.kind.value);
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  throw new Error("the stream ended before its first heartbeat");
}
