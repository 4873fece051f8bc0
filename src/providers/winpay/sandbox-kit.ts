import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { SandboxKitFactory } from "../sandbox-kit.js";
import { signAsymmetric } from "../snap/signature.js";
import { formatSnapTimestamp } from "../snap/timestamp.js";
import { newExternalId } from "../snap/headers.js";
import { formatRupiah2 } from "../../domain/money.js";
import { createWinpayProvider } from "./adapter.js";
import { winpayCapabilities } from "./capabilities.js";
import { startWinpaySimulator } from "./simulator.js";
import { decodeReference, paymentReference } from "./transformers.js";
import { WinpayPath } from "./wire.js";

const rsaKeys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

/** Winpay against its in-process simulator, with fresh key pairs on both sides. */
export const startWinpayKit: SandboxKitFactory = async ({ webhookUrl, now, retryDelaysMs }) => {
  const merchant = rsaKeys();
  const winpay = rsaKeys();
  const partnerId = "WINPAY-SANDBOX";
  const callbackUrl = `${webhookUrl}${WinpayPath.paymentCallback}`;
  const simulator = await startWinpaySimulator({
    merchant: { partnerId, publicKey: merchant.publicKey, callbackUrl },
    winpayPrivateKey: winpay.privateKey,
    callbackRetryDelaysMs: retryDelaysMs,
    now,
  });
  const provider = createWinpayProvider({
    baseUrl: simulator.baseUrl,
    partnerId,
    privateKey: merchant.privateKey,
    winpayPublicKey: winpay.publicKey,
    now,
  });
  return {
    provider,
    capabilities: winpayCapabilities,
    payments: () =>
      simulator.ledger.map((p) => ({
        providerPaymentRef: paymentReference(p.contractId, p.paymentRequestId),
        amount: p.amount,
      })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    forgeCallback(va, amount) {
      const { contractId, trxId } = decodeReference(va.providerReference);
      const body = JSON.stringify({
        partnerServiceId: va.vaNumber.slice(0, 8).padStart(8, " "),
        customerNo: va.vaNumber.slice(8),
        virtualAccountNo: va.vaNumber,
        virtualAccountName: "Forged",
        trxId,
        paymentRequestId: randomBytes(8).toString("hex"),
        paidAmount: { value: formatRupiah2(amount), currency: "IDR" },
        trxDateTime: formatSnapTimestamp(now()),
        referenceNo: 1,
        additionalInfo: { contractId, feeAmount: "0.00", nettAmount: formatRupiah2(amount) },
      });
      const timestamp = formatSnapTimestamp(now());
      const path = new URL(callbackUrl).pathname;
      return {
        url: callbackUrl,
        body,
        headers: {
          "content-type": "application/json",
          "x-timestamp": timestamp,
          "x-partner-id": partnerId,
          "x-external-id": newExternalId(now()),
          "x-signature": signAsymmetric({ method: "POST", path, body, timestamp }, rsaKeys().privateKey),
        },
      };
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
