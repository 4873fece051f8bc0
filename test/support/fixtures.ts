import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import {
  type CreateVirtualAccountRequestSchema,
  type PaymentEvent,
  type StreamPaymentEventsRequestSchema,
  VaUsage,
  type VaService,
} from "../../src/gen/va/v1/va_pb.js";

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
  timeoutMs = 10_000,
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

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
