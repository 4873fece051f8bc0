import { generateKeyPairSync, randomBytes } from "node:crypto";
import { formatRupiah2 } from "../../domain/money.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { padPartnerServiceId } from "../../protocols/snap/va-number.js";
import { type AyoconnectSnapProvider, createAyoconnectSnapProvider } from "../../providers/ayoconnect-snap/adapter.js";
import { ayoconnectSnapCapabilities } from "../../providers/ayoconnect-snap/capabilities.js";
import { decodeReference, paymentReference } from "../../providers/ayoconnect-snap/transformers.js";
import { CALLBACK_PATH, encodeSignature, type SignatureEncoding } from "../../providers/ayoconnect-snap/wire.js";
import type { SandboxKit, SandboxKitOptions } from "../kit.js";
import { type CallbackDelivery, signedSnapCallback } from "../simulator-kit.js";
import { type AyoconnectSnapSimulator, type SimulatedPayment, startAyoconnectSnapSimulator } from "./simulator.js";

const rsaKeys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const refOf = (payment: SimulatedPayment) => paymentReference(payment.trxId, payment.paidAt);

export interface AyoconnectSnapKit extends SandboxKit {
  provider: AyoconnectSnapProvider;
  simulator: AyoconnectSnapSimulator;
  /** `body` as this kit's Ayoconnect would sign it, stamped `at` (default now). */
  signCallback(body: string, at?: Date): CallbackDelivery;
}

/**
 * Ayoconnect SNAP against its in-process simulator, fresh keys on both sides. `signatureEncoding`
 * picks the reading of X-SIGNATURE both sides use (base64 by default; tests run hex too).
 * Misbehaviours, as Ayoconnect documents them:
 * - held callbacks go out later byte for byte (first timestamp, signature, X-EXTERNAL-ID);
 *   Ayoconnect retries after 5, 10 and 30 s, never after a 4xx (payment-callback page);
 * - a lost create answer leaves a VA that a retry meets as `4092400` (its trxId is taken);
 * - a number comes back once its VA is paid or expired ("you may recreate a new one using the same
 *   configuration or number", API Flows page);
 * - a closed VA paid half its bill, as the legacy callback sample shows a partial payment.
 */
export async function startAyoconnectSnapKitWith(
  { webhookUrl, now, retryDelaysMs }: SandboxKitOptions,
  signatureEncoding: SignatureEncoding = "base64",
): Promise<AyoconnectSnapKit> {
  const merchant = rsaKeys();
  const ayoconnect = rsaKeys();
  const credentials = { clientId: "ayo-snap-sandbox", clientSecret: randomBytes(24).toString("hex"), partnerId: "AYOSNP" };
  const callbackUrl = `${webhookUrl}${CALLBACK_PATH}`;
  const simulator = await startAyoconnectSnapSimulator({
    merchant: { ...credentials, publicKey: merchant.publicKey, callbackUrl },
    ayoconnectPrivateKey: ayoconnect.privateKey,
    signatureEncoding,
    ...(retryDelaysMs ? { callbackRetryDelaysMs: retryDelaysMs } : {}),
    now,
  });
  const provider = createAyoconnectSnapProvider({
    baseUrl: simulator.url,
    ...credentials,
    privateKey: merchant.privateKey,
    ayoconnectPublicKey: ayoconnect.publicKey,
    signatureEncoding,
    now,
  });
  const signed = (body: string, at: Date, key = ayoconnect.privateKey): CallbackDelivery =>
    signedSnapCallback({ url: callbackUrl, partnerId: credentials.partnerId, channelId: "95221" }, body, at, key, {
      externalId: randomBytes(16).toString("hex"),
      encodeSignature: (signature) => encodeSignature(signature, signatureEncoding),
    });
  return {
    simulator,
    provider,
    capabilities: ayoconnectSnapCapabilities,
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: refOf(p), amount: p.amount })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    signCallback: (body, at = now()) => signed(body, at),
    forgeCallback(va, amount) {
      const { trxId, customerNo, partnerServiceId } = decodeReference(va.providerReference);
      const padded = padPartnerServiceId(partnerServiceId);
      const body = JSON.stringify({
        responseCode: "2003400",
        responseMessage: "Successful",
        virtualAccountData: {
          partnerServiceId: padded,
          customerNo,
          virtualAccountNo: padded + va.vaNumber.slice(partnerServiceId.length),
          virtualAccountName: "Forged",
          trxId,
          totalAmount: { value: formatRupiah2(amount), currency: "IDR" },
          latestPaidAmount: { value: formatRupiah2(amount), currency: "IDR" },
          latestPaidTime: formatSnapTimestamp(now()),
          additionalInfo: { isSingleUse: "Y" },
        },
      });
      return signed(body, now(), rsaKeys().privateKey);
    },
    misbehaviour: {
      ...simulator.misbehaviour,
      async payOtherThanBill(va, bill) {
        const amount = bill > 1n ? bill / 2n : bill + 1n;
        const payment = simulator.misbehaviour.payOtherThanBill(decodeReference(va.providerReference).trxId, amount);
        return { providerPaymentRef: refOf(payment), amount };
      },
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
}

export const startAyoconnectSnapKit = (options: SandboxKitOptions) => startAyoconnectSnapKitWith(options);
