import { randomBytes } from "node:crypto";
import { createDurianpayProvider } from "../../providers/durianpay/adapter.js";
import { durianpayCapabilities } from "../../providers/durianpay/capabilities.js";
import type { SandboxKitFactory } from "../kit.js";
import { startDurianpaySimulator } from "./simulator.js";

/** Durianpay against its in-process simulator (a `dp_test` key, as Durianpay's sandbox requires). */
export const startDurianpayKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const serverKey = `dp_test_${randomBytes(16).toString("hex")}`;
  const simulator = await startDurianpaySimulator({ serverKey, callbackUrl: webhookUrl, retryDelaysMs, now });
  const { misbehave } = simulator;
  return {
    provider: createDurianpayProvider({ baseUrl: simulator.url, serverKey, providerAccount: "durianpay-sandbox", now }),
    capabilities: durianpayCapabilities,
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: p.paymentId, amount: p.amount })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      // The published flat shape, naming a real VA, for a payment Durianpay never made.
      const body = JSON.stringify({
        id: `pay_${randomBytes(8).toString("hex")}`,
        amount: Number(amount * 100n),
        status: "completed",
        is_live: false,
        currency: "IDR",
        metadata: { static_va_account_number: va.vaNumber, static_va_id: va.providerReference },
        signature: randomBytes(32).toString("hex"),
        amount_str: `${amount}.00`,
        created_at: now().toISOString(),
      });
      return { url: webhookUrl, headers: { "content-type": "application/json" }, body };
    },
    muteCallbacks: (muted) => simulator.setCallbackUrl(muted ? undefined : webhookUrl),
    misbehaviour: {
      holdCallbacks: (held) => misbehave.holdWebhooks(held),
      // Durianpay's retries resend the same body (there is no timestamp in it to go stale).
      deliverHeldCallbacks: () => misbehave.deliverHeldWebhooks(),
      loseNextCreateAnswer: () => misbehave.loseNextCreateAnswer(),
      payBeforeNextCreateAnswer: (amount) => misbehave.payBeforeNextCreateAnswer(amount),
      // Numbers are bank prefix + account suffix; once the VA holding one has expired (our cancel
      // expires it), a create with the same suffix gets the number again.
      reissueNumberOnNextCreate: (vaNumber) => misbehave.reissueNumberOnNextCreate(vaNumber),
      async payOtherThanBill(va, bill) {
        // Durianpay documents no way for a closed VA to take another amount (the simulate endpoint
        // refuses it, "Invalid Amount"); this is the case of a bank crediting it anyway, paying half.
        const amount = bill / 2n > 0n ? bill / 2n : bill + 1n;
        const paid = misbehave.payIgnoringAmountRule(va.vaNumber, amount);
        return { providerPaymentRef: paid.paymentId, amount };
      },
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
