import { randomBytes, randomUUID } from "node:crypto";
import { createDokuProvider } from "../../providers/doku/adapter.js";
import { dokuCapabilities } from "../../providers/doku/capabilities.js";
import { dokuTimestamp, signRequest } from "../../providers/doku/signature.js";
import type { SandboxKitFactory } from "../kit.js";
import { startDokuSimulator } from "./simulator.js";

/**
 * DOKU (DOKU-generated numbers) against its in-process simulator, with a fresh secret key. Its
 * misbehaviours, and the source for each:
 * - late notifications carry their first Request-Timestamp: DOKU retries 30 min, 6 h and 12 h later
 *   ("Retry Notification") and nowhere says a retry is signed anew;
 * - a lost create answer: DOKU made the code, we got a gateway timeout (its idempotency replays only
 *   the same Request-Id with the same body, "Idempotency Request");
 * - a reissued number: DOKU's docs are silent on reusing DOKU-generated codes; merchant-generated ones
 *   are BIN + our suffix (seed 001), so a number can come back once its code is paid, expired or deleted;
 * - an amount other than the bill: seed 001 says each acquirer has its own rules and some do not
 *   support billing types, so a bank may take another amount than a FIX_BILL code's; the kit pays half.
 */
export const startDokuKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const clientId = "BRN-SANDBOX-0001";
  const secretKey = `SK-${randomBytes(16).toString("hex")}`;
  const simulator = await startDokuSimulator({ clientId, secretKey, retryDelaysMs, now });
  simulator.setNotificationUrl(webhookUrl);
  return {
    provider: createDokuProvider({ baseUrl: simulator.url, clientId, secretKey, mode: "DGPC", now }),
    capabilities: dokuCapabilities,
    payments: () =>
      [...simulator.ledger.values()].flatMap((entry) =>
        entry.payments.map((p) => ({ providerPaymentRef: p.providerPaymentRef, amount: p.amount })),
      ),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      const body = JSON.stringify({
        service: { id: "VIRTUAL_ACCOUNT" },
        transaction: { status: "SUCCESS", date: dokuTimestamp(now()) },
        order: { invoice_number: va.providerReference, amount: Number(amount) },
        virtual_account_info: { virtual_account_number: va.vaNumber },
        virtual_account_payment: { identifier: [{ name: "REFERENCE", value: "999999999999" }] },
      });
      const requestId = randomUUID();
      const requestTimestamp = dokuTimestamp(now());
      const requestTarget = new URL(webhookUrl).pathname;
      return {
        url: webhookUrl,
        body,
        headers: {
          "content-type": "application/json",
          "Client-Id": clientId,
          "Request-Id": requestId,
          "Request-Timestamp": requestTimestamp,
          Signature: signRequest({ clientId, requestId, requestTimestamp, requestTarget, body }, "SK-not-the-secret"),
        },
      };
    },
    misbehaviour: {
      holdCallbacks: (held) => simulator.holdNotifications(held),
      deliverHeldCallbacks: () => simulator.deliverHeldNotifications(),
      loseNextCreateAnswer: () => simulator.loseNextCreateAnswer(),
      payBeforeNextCreateAnswer: (amount) => simulator.payBeforeNextCreateAnswer(amount),
      reissueNumberOnNextCreate: (vaNumber) => simulator.reissueNumberOnNextCreate(vaNumber),
      async payOtherThanBill(va, bill) {
        const amount = bill / 2n > 0n ? bill / 2n : bill + 1n;
        const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount, holdToBill: false });
        return { providerPaymentRef: paid.providerPaymentRef, amount };
      },
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
