import { generateKeyPairSync, randomBytes } from "node:crypto";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { createDurianpaySnapProvider } from "../../providers/durianpay-snap/adapter.js";
import { durianpaySnapCapabilities, PREFIX_DIGITS } from "../../providers/durianpay-snap/capabilities.js";
import { decodeReference } from "../../providers/durianpay-snap/transformers.js";
import { DURIANPAY_CHANNEL_ID, DurianpaySnapPath } from "../../providers/durianpay-snap/wire.js";
import type { SandboxKit, SandboxKitOptions } from "../kit.js";
import { type CallbackDelivery, signedSnapCallback } from "../simulator-kit.js";
import { startDurianpaySnapSimulator } from "./simulator.js";

const rsaKeys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

export interface DurianpaySnapSandboxKit extends SandboxKit {
  /** `body` as this kit's Durianpay would deliver it: signed with its key, stamped `at` (default now). */
  signNotification(body: string, at?: Date): CallbackDelivery;
}

/**
 * Durianpay SNAP against its in-process simulator, fresh key pairs on both sides. Misbehaviours:
 * - held notifications go out later with their first timestamp, signature and X-EXTERNAL-ID
 *   (Durianpay documents the retry times, 2, 5, 10, 90, 210 min, not whether a retry is re-signed);
 * - a lost create answer leaves a VA whose trxId a retry meets as `4092701`;
 * - a number comes back: Durianpay numbers are prefix + suffix and the merchant may ask for a
 *   suffix ("Account suffix… If not provided, a random suffix"), so a suffix may be given again
 *   once the VA holding it has expired or been paid;
 * - a payment other than a closed VA's bill: Durianpay documents none (it prints "Invalid Amount"
 *   nowhere for SNAP VAs); the switch pays half the bill past the check so that a signed
 *   notification whose `paidAmount` is not the bill is exercised.
 */
export const startDurianpaySnapKit = async ({
  webhookUrl,
  now,
  retryDelaysMs,
}: SandboxKitOptions): Promise<DurianpaySnapSandboxKit> => {
  const merchant = rsaKeys();
  const durianpay = rsaKeys();
  const clientKey = "DP-SNAP-SANDBOX";
  const clientSecret = randomBytes(32).toString("hex");
  const notificationUrl = `${webhookUrl}${DurianpaySnapPath.paymentNotification}`;
  const simulator = await startDurianpaySnapSimulator({
    merchant: { clientKey, clientSecret, publicKey: merchant.publicKey, notificationUrl },
    durianpayPrivateKey: durianpay.privateKey,
    callbackRetryDelaysMs: retryDelaysMs,
    now,
  });
  const provider = createDurianpaySnapProvider({
    baseUrl: simulator.baseUrl,
    clientKey,
    clientSecret,
    privateKey: merchant.privateKey,
    durianpayPublicKey: durianpay.publicKey,
    now,
  });
  const sign = (body: string, at: Date, key = durianpay.privateKey): CallbackDelivery =>
    signedSnapCallback({ url: notificationUrl, partnerId: clientKey, channelId: DURIANPAY_CHANNEL_ID }, body, at, key);
  return {
    provider,
    capabilities: durianpaySnapCapabilities,
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: p.paymentRequestId, amount: p.amount })),
    misbehaviour: {
      ...simulator.misbehaviour,
      async payOtherThanBill(va, bill) {
        const amount = bill > 1n ? bill / 2n : bill + 1n;
        const { trxId } = decodeReference(va.providerReference);
        const payment = simulator.pay(va.vaNumber, trxId, amount, false);
        return { providerPaymentRef: payment.paymentRequestId, amount };
      },
    },
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    signNotification: (body, at = now()) => sign(body, at),
    forgeCallback(va, amount) {
      const { trxId } = decodeReference(va.providerReference);
      const body = JSON.stringify({
        partnerServiceId: va.vaNumber.slice(0, PREFIX_DIGITS),
        customerNo: va.vaNumber.slice(PREFIX_DIGITS),
        virtualAccountNo: va.vaNumber,
        trxId,
        paymentRequestId: `pay_${randomBytes(8).toString("hex")}`,
        paidAmount: toSnapMoney(amount),
        trxDateTime: formatSnapTimestamp(now()),
        additionalInfo: { latestTransactionStatus: "00", transactionStatusDesc: "completed" },
      });
      return sign(body, now(), rsaKeys().privateKey);
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
