import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CreateVirtualAccountRequestSchema, VaUsage } from "../src/gen/va/v1/va_pb.js";
import { signCallback } from "../src/providers/sandbox/signature.js";
import type { SeededVa } from "./protocol.js";

/** The requests the bench sends: a create request and a signed sandbox payment callback. */

/** A valid single-use fixed-amount create request with its own idempotency key. */
export function createRequest(): MessageInitShape<typeof CreateVirtualAccountRequestSchema> {
  return {
    idempotencyKey: `key-${randomUUID()}`,
    merchantReference: `order-${randomUUID().slice(0, 8)}`,
    bankCode: "BCA",
    usage: VaUsage.SINGLE,
    amount: { rule: { case: "fixed", value: { amount: 25_000n } } },
    customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
  };
}

/** A sandbox "payment.succeeded" callback for `va`, signed as the sandbox signs it, with a new payment id. */
export function signedCallback(
  secrets: { merchantId: string; webhookSecret: string },
  va: SeededVa,
  amount: bigint,
): { headers: Record<string, string>; body: string } {
  const now = new Date();
  const body = JSON.stringify({
    event: "payment.succeeded",
    payment_id: `sbpay_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    virtual_account_id: va.providerReference,
    external_id: "from-bench",
    merchant_id: secrets.merchantId,
    va_number: va.vaNumber,
    bank_code: "BNI",
    amount: amount.toString(),
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
