import { generateKeyPairSync, randomBytes } from "node:crypto";
import { newExternalId } from "../../protocols/snap/headers.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { signSymmetric } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { createDokuSnapProvider, type DokuSnapProvider } from "../../providers/doku-snap/adapter.js";
import { dokuSnapCapabilitiesFor } from "../../providers/doku-snap/capabilities.js";
import { type DokuSnapMode, decodeReference, paddedNumber, paymentReference } from "../../providers/doku-snap/transformers.js";
import { DokuSnapInbound } from "../../providers/doku-snap/wire.js";
import type { SandboxKit, SandboxKitOptions } from "../kit.js";
import type { SimulatedPayment } from "./book.js";
import { type DokuSnapSimulator, startDokuSnapSimulator } from "./simulator.js";

const rsaKeys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const refOf = (payment: SimulatedPayment) => paymentReference(payment.trxId, payment.paymentRequestId);

export interface DokuSnapSandboxKit extends SandboxKit {
  provider: DokuSnapProvider;
  simulator: DokuSnapSimulator;
  /** What the adapter was configured with, for tests that play DOKU or the SDK by hand. */
  secrets: {
    clientId: string;
    secretKey: string;
    bin: string;
    merchantPrivateKey: string;
    dokuPrivateKey: string;
    dokuPublicKey: string;
  };
}

export interface DokuSnapKitOptions extends SandboxKitOptions {
  mode?: DokuSnapMode;
  /** Our webhook root, when it is known only after the kit starts (read at each call). */
  merchantUrl?: () => string;
}

/** The sandbox kit: DGPC, DOKU numbering under the BIN of DOKU's published MGPC sample (`19008`). */
export const startDokuSnapKit = (options: SandboxKitOptions) => startDokuSnapKitWith(options);

/**
 * DOKU SNAP against its in-process simulator, fresh keys on both sides. Misbehaviours, as DOKU
 * documents them (providers.md §4.4, §4.5; DOKU "Retry Notification"):
 * - held notifications are delivered later exactly as built: first timestamp, signature, X-EXTERNAL-ID
 *   and the token of their first attempt (by then expired; we treat that as doubt and ask check status);
 * - a lost create answer leaves a VA at DOKU that a retry meets as `4092700 Conflict` (the SDK's canned
 *   answer for a used trxId) and adopts through check status by trxId;
 * - a payment of another amount than the bill: an open VA takes any amount; for a closed VA we assume
 *   a bank may let it through (the notification carries no bill) [assumption];
 * - no reissued numbers: DOKU documents none for SNAP VAs, so the switch is absent.
 */
export async function startDokuSnapKitWith(options: DokuSnapKitOptions): Promise<DokuSnapSandboxKit> {
  const merchant = rsaKeys();
  const doku = rsaKeys();
  const pem = (key: ReturnType<typeof rsaKeys>["privateKey"]) => key.export({ type: "pkcs8", format: "pem" }).toString();
  const clientId = "BRN-0001-SANDBOXSNAP";
  const secretKey = `SK-${randomBytes(12).toString("base64url")}`;
  const mode = options.mode ?? "DGPC";
  const bin = "19008";
  const merchantUrl = options.merchantUrl ?? (() => options.webhookUrl);
  const simulator = await startDokuSnapSimulator({
    merchant: { clientId, secretKey, publicKey: merchant.publicKey, bin, url: merchantUrl },
    dokuPrivateKey: doku.privateKey,
    callbackRetryDelaysMs: options.retryDelaysMs,
    now: options.now,
  });
  const provider = createDokuSnapProvider({
    baseUrl: simulator.baseUrl,
    clientId,
    secretKey,
    privateKey: merchant.privateKey,
    dokuPublicKey: doku.publicKey,
    tokenSecret: randomBytes(32),
    mode,
    bin,
    now: options.now,
  });
  const notificationUrl = () => `${merchantUrl()}${DokuSnapInbound.notification}`;
  return {
    provider,
    simulator,
    secrets: {
      clientId,
      secretKey,
      bin,
      merchantPrivateKey: pem(merchant.privateKey),
      dokuPrivateKey: pem(doku.privateKey),
      dokuPublicKey: doku.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
    capabilities: dokuSnapCapabilitiesFor({ mode, bin }),
    payments: () => simulator.ledger.map((p) => ({ providerPaymentRef: refOf(p), amount: p.amount })),
    lastDelivery: () => simulator.deliveries.at(-1)?.delivery,
    misbehaviour: {
      ...simulator.misbehaviour,
      async payOtherThanBill(va, bill) {
        const amount = bill > 1n ? bill / 2n : bill + 1n;
        const { customerNo } = decodeReference(va.providerReference);
        const attempt = await simulator.pay(paddedNumber(bin, customerNo), amount, false);
        if (!attempt.ok) throw new Error(`DOKU refused the payment: ${attempt.outcome.message}`);
        return { providerPaymentRef: refOf(attempt.payment), amount };
      },
    },
    /** Signed with a secret that is not the merchant's, under a token we never issued. */
    forgeCallback(va, amount) {
      const { trxId, customerNo } = decodeReference(va.providerReference);
      const virtualAccountNo = paddedNumber(bin, customerNo);
      const body = JSON.stringify({
        partnerServiceId: virtualAccountNo.slice(0, 8),
        customerNo,
        virtualAccountNo,
        virtualAccountName: "Forged",
        trxId,
        paymentRequestId: String(Date.now()),
        paidAmount: toSnapMoney(amount),
        virtualAccountEmail: "",
        virtualAccountPhone: "",
        additionalInfo: { channel: "VIRTUAL_ACCOUNT_BCA" },
      });
      const at = options.now();
      const timestamp = formatSnapTimestamp(at);
      const token = randomBytes(24).toString("base64url");
      const path = new URL(notificationUrl()).pathname;
      return {
        url: notificationUrl(),
        body,
        headers: {
          "content-type": "application/json",
          "x-timestamp": timestamp,
          "x-partner-id": clientId,
          "x-external-id": newExternalId(at),
          "x-signature": signSymmetric({ method: "POST", path, body, timestamp }, token, "SK-forged"),
          "channel-id": "VA004",
          authorization: `Bearer ${token}`,
        },
      };
    },
    idle: () => simulator.idle(),
    close: () => simulator.close(),
  };
}
