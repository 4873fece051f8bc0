import { randomBytes } from "node:crypto";
import { createSandboxProvider } from "../../providers/sandbox/adapter.js";
import { sandboxCapabilities } from "../../providers/sandbox/capabilities.js";
import { signCallback } from "../../providers/sandbox/signature.js";
import { PAYMENT_EVENT } from "../../providers/sandbox/transformers.js";
import type { SandboxKitFactory } from "../kit.js";
import { startSandboxSimulator } from "./simulator.js";

export interface SandboxCredentials {
  merchantId: string;
  apiKey: string;
  webhookSecret: string;
}

/** The sandbox provider against its in-process simulator, with the given (or fresh) credentials. */
export const startSandboxKit =
  (credentials?: SandboxCredentials): SandboxKitFactory =>
  async ({ webhookUrl, now, retryDelaysMs }) => {
    const { merchantId, apiKey, webhookSecret } = credentials ?? {
      merchantId: "M-SANDBOX",
      apiKey: randomBytes(24).toString("base64url"),
      webhookSecret: randomBytes(32).toString("base64url"),
    };
    const simulator = await startSandboxSimulator({
      merchantId,
      apiKey,
      webhookSecret,
      callbackUrl: webhookUrl,
      retryDelaysMs,
      now,
    });
    return {
      provider: createSandboxProvider({ baseUrl: simulator.url, merchantId, apiKey, webhookSecret, now }),
      capabilities: sandboxCapabilities,
      payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: p.paymentId, amount: p.amount })),
      lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
      forgeCallback(va, amount) {
        const body = JSON.stringify({
          event: PAYMENT_EVENT,
          payment_id: `sbpay_${randomBytes(12).toString("hex")}`,
          virtual_account_id: va.providerReference,
          external_id: "forged",
          merchant_id: merchantId,
          va_number: va.vaNumber,
          bank_code: va.bankCode,
          amount: amount.toString(),
          fee: "0",
          paid_at: now().toISOString(),
        });
        const timestamp = String(Math.floor(now().getTime() / 1000));
        return {
          url: webhookUrl,
          body,
          headers: {
            "content-type": "application/json",
            "x-sandbox-timestamp": timestamp,
            "x-sandbox-signature": signCallback("not-the-webhook-secret", timestamp, body),
          },
        };
      },
      muteCallbacks: (muted) => simulator.muteCallbacks(muted),
      misbehaviour: simulator.misbehaviour,
      idle: () => simulator.idle(),
      close: () => simulator.close(),
    };
  };
