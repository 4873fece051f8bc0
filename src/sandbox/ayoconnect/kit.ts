import { randomBytes } from "node:crypto";
import { formatRupiah2 } from "../../domain/money.js";
import { createAyoconnectProvider } from "../../providers/ayoconnect/adapter.js";
import { ayoconnectCapabilities } from "../../providers/ayoconnect/capabilities.js";
import { callbackPaymentRef, decodeVaKey } from "../../providers/ayoconnect/transformers.js";
import type { SandboxKit, SandboxKitFactory } from "../kit.js";
import { type AyoconnectSimulator, startAyoconnectSimulator } from "./simulator.js";

/** The kit, with its simulator for tests that replay Ayoconnect's published samples against it. */
export interface AyoconnectKit extends SandboxKit {
  simulator: AyoconnectSimulator;
}

/** Ayoconnect against its in-process simulator, with fresh client credentials. */
export const startAyoconnectKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const credentials = { clientId: "ayo-sandbox", clientSecret: randomBytes(16).toString("hex"), merchantCode: "AYOSBX" };
  const simulator = await startAyoconnectSimulator({ ...credentials, callbackUrl: webhookUrl, retryDelaysMs, now });
  const kit: AyoconnectKit = {
    simulator,
    provider: createAyoconnectProvider({ baseUrl: simulator.url, ...credentials, now }),
    capabilities: ayoconnectCapabilities,
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: callbackPaymentRef(p, p.trxRefID), amount: p.amount })),
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
    misbehaviour: {
      holdCallbacks: (held) => simulator.holdCallbacks(held),
      deliverHeldCallbacks: () => simulator.deliverHeldCallbacks(),
      loseNextCreateAnswer: () => simulator.loseNextCreateAnswer(),
      payBeforeNextCreateAnswer: (amount) => simulator.payBeforeNextCreateAnswer(amount),
      reissueNumberOnNextCreate: (vaNumber) => simulator.reissueNumberOnNextCreate(vaNumber),
      // Ayoconnect's callback sample: 12500.00 paid against a totalAmount of 25000.00, half the bill.
      async payOtherThanBill(va, bill) {
        const entry = simulator.payOtherThanBill(va.vaNumber, bill / 2n);
        return { providerPaymentRef: callbackPaymentRef(entry, entry.trxRefID), amount: entry.amount };
      },
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
  return kit;
};
