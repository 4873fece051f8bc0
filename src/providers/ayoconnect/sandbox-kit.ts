import { randomBytes } from "node:crypto";
import { formatRupiah2 } from "../../domain/money.js";
import type { SandboxKitFactory } from "../sandbox-kit.js";
import { createAyoconnectProvider } from "./adapter.js";
import { ayoconnectCapabilities } from "./capabilities.js";
import { startAyoconnectSimulator } from "./simulator.js";
import { callbackPaymentRef, decodeVaKey } from "./transformers.js";

/** Ayoconnect against its in-process simulator, with fresh client credentials. */
export const startAyoconnectKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const credentials = { clientId: "ayo-sandbox", clientSecret: randomBytes(16).toString("hex"), merchantCode: "AYOSBX" };
  const simulator = await startAyoconnectSimulator({ ...credentials, callbackUrl: webhookUrl, retryDelaysMs, now });
  return {
    provider: createAyoconnectProvider({ baseUrl: simulator.url, ...credentials, now }),
    capabilities: ayoconnectCapabilities,
    payments: () =>
      simulator.ledger.map((p) => ({ providerPaymentRef: callbackPaymentRef(p, p.trxRefID), amount: p.amount })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      const key = decodeVaKey(va.providerReference);
      const body = JSON.stringify({
        code: 200,
        message: "ok",
        virtualAccountData: {
          ...key,
          virtualAccountNumber: va.vaNumber,
          virtualAccountStatus: "PAID",
          paymentDetails: { trxRefID: randomBytes(8).toString("hex"), amount: formatRupiah2(amount) },
        },
      });
      return { url: webhookUrl, headers: { "content-type": "application/json" }, body };
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
