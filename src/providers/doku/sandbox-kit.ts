import { randomBytes, randomUUID } from "node:crypto";
import type { SandboxKitFactory } from "../sandbox-kit.js";
import { createDokuProvider } from "./adapter.js";
import { dokuCapabilities } from "./capabilities.js";
import { dokuTimestamp, signRequest } from "./signature.js";
import { startDokuSimulator } from "./simulator.js";
import { paymentReference } from "./transformers.js";

/** DOKU (DOKU-generated numbers) against its in-process simulator, with a fresh secret key. */
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
        entry.payments.map((p) => ({
          providerPaymentRef: paymentReference(entry.invoiceNumber, p.referenceNumber),
          amount: p.amount,
        })),
      ),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      const body = JSON.stringify({
        service: { id: "VIRTUAL_ACCOUNT" },
        transaction: { status: "SUCCESS", date: dokuTimestamp(now()) },
        order: { invoice_number: va.providerReference, amount: Number(amount) },
        virtual_account_info: { virtual_account_number: va.vaNumber },
        virtual_account_payment: { reference_number: "999999999999" },
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
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
