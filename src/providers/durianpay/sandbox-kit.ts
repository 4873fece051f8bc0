import { randomBytes } from "node:crypto";
import type { SandboxKitFactory } from "../sandbox-kit.js";
import { createDurianpayProvider } from "./adapter.js";
import { durianpayCapabilities } from "./capabilities.js";
import { startDurianpaySimulator } from "./simulator.js";

/** Durianpay against its in-process simulator (a `dp_test` key, as Durianpay's sandbox requires). */
export const startDurianpayKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const serverKey = `dp_test_${randomBytes(16).toString("hex")}`;
  const simulator = await startDurianpaySimulator({ serverKey, callbackUrl: webhookUrl, retryDelaysMs, now });
  return {
    provider: createDurianpayProvider({ baseUrl: simulator.url, serverKey, providerAccount: "durianpay-sandbox", now }),
    capabilities: durianpayCapabilities,
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: p.paymentId, amount: p.amount })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      const body = JSON.stringify({
        event: "payment.completed",
        data: {
          id: `pay_${randomBytes(8).toString("hex")}`,
          virtual_account_id: va.providerReference,
          bank_code: va.bankCode,
          account_number: va.vaNumber,
          amount_str: `${amount}.00`,
          currency: "IDR",
          status: "completed",
          paid_at: now().toISOString(),
        },
      });
      return { url: webhookUrl, headers: { "content-type": "application/json" }, body };
    },
    muteCallbacks: (muted) => simulator.setCallbackUrl(muted ? undefined : webhookUrl),
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
