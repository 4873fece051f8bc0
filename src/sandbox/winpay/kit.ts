import { generateKeyPairSync, randomBytes } from "node:crypto";
import { formatRupiah2 } from "../../domain/money.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { createWinpayProvider } from "../../providers/winpay/adapter.js";
import { winpayCapabilities } from "../../providers/winpay/capabilities.js";
import { decodeReference, paymentReference } from "../../providers/winpay/transformers.js";
import { WinpayPath } from "../../providers/winpay/wire.js";
import type { SandboxKit, SandboxKitOptions } from "../kit.js";
import { type CallbackDelivery, signedSnapCallback } from "../simulator-kit.js";
import type { SimulatedPayment } from "./book.js";
import { startWinpaySimulator } from "./simulator.js";

const rsaKeys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

/** A simulated payment's key as the callback and the status API both name it. */
const refOf = (payment: SimulatedPayment) => paymentReference(payment.contractId, String(payment.referenceNo));

export interface WinpaySandboxKit extends SandboxKit {
  /** `body` as this kit's Winpay would deliver it: signed with its key, stamped `at` (default now). */
  signCallback(body: string, at?: Date): CallbackDelivery;
}

/**
 * Winpay against its in-process simulator, with fresh key pairs on both sides. Misbehaviours, as
 * Winpay documents them (seed 003, docs.winpay.id):
 * - held callbacks are sent later with their first timestamp, signature and X-EXTERNAL-ID; Winpay
 *   documents no retry timing or whether a retry is re-signed ("3x until the merchant responds");
 * - a lost create answer leaves a VA at Winpay that a retry meets as `4092701 Duplicate trxId`;
 * - a number comes back because Winpay numbers are BIN + customerNo (seed 003 sample:
 *   `22691` + `41693898987`): issuing that customerNo again after the old VA was paid (a one-off
 *   VA "is automatically deactivated after one successful payment", live page), deleted or expired.
 */
export const startWinpayKit = async ({ webhookUrl, now, retryDelaysMs }: SandboxKitOptions): Promise<WinpaySandboxKit> => {
  const merchant = rsaKeys();
  const winpay = rsaKeys();
  const partnerId = "WINPAY-SANDBOX";
  const callbackUrl = `${webhookUrl}${WinpayPath.paymentCallback}`;
  const callbackTo = { url: callbackUrl, partnerId, channelId: "WINPAY" };
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
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: refOf(p), amount: p.amount })),
    misbehaviour: {
      ...simulator.misbehaviour,
      /**
       * Seed 003 is silent on a one-off (`c`) VA paid other than its `totalAmount`: only close
       * recurring (`r`) is said to refuse the payer's own amount. We assume a bank may let it
       * through and pay half the bill, so a signed callback whose `paidAmount` is not the bill is
       * exercised; Winpay's callback carries no bill to compare with, so nothing else changes.
       */
      async payOtherThanBill(va, bill) {
        const amount = bill > 1n ? bill / 2n : bill + 1n;
        const payment = simulator.misbehaviour.payOtherThanBill(decodeReference(va.providerReference).contractId, amount);
        return { providerPaymentRef: refOf(payment), amount };
      },
    },
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    signCallback: (body, at = now()) => signedSnapCallback(callbackTo, body, at, winpay.privateKey),
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
      return signedSnapCallback(callbackTo, body, now(), rsaKeys().privateKey);
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
};
