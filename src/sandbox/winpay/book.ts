import { randomUUID } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { type SnapOutcome, SnapOutcomes } from "../../protocols/snap/response-code.js";
import { composeVirtualAccountNo, padPartnerServiceId } from "../../protocols/snap/va-number.js";
import type { WinpayVaType } from "../../providers/winpay/wire.js";
import type { DeliveryRecord } from "../simulator-kit.js";

/** The simulated Winpay's books: the VAs it issued and the ledger of payments made to them. */

/** A create-va request that passed Winpay's validation. */
export interface VaOrder {
  customerNo: string | undefined;
  virtualAccountName: string;
  trxId: string;
  totalAmount: Rupiah | undefined;
  type: WinpayVaType;
  /** As sent, `+07:00`; echoed back verbatim. */
  expiredDate: string | undefined;
  expiresAt: Date | undefined;
  channel: string;
}

export interface SimulatedVa extends VaOrder {
  contractId: string;
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  deleted: boolean;
  payments: SimulatedPayment[];
}

export interface SimulatedPayment {
  paymentRequestId: string;
  referenceNo: number;
  contractId: string;
  trxId: string;
  virtualAccountNo: string;
  amount: Rupiah;
  fee: Rupiah;
  nett: Rupiah;
  paidAt: Date;
  /** The callback for this payment: attempts made, acknowledged or not. */
  callback: DeliveryRecord | undefined;
}

/** BIN per channel; BSI's is Winpay's published `9042`, the others use the CIMB sample's `22691`. */
const binOf = (channel: string) => (channel === "BSI" ? "9042" : "22691");

export type PaymentAttempt = { ok: true; payment: SimulatedPayment } | { ok: false; outcome: SnapOutcome };

export class WinpayBook {
  readonly ledger: SimulatedPayment[] = [];
  private readonly vas = new Map<string, SimulatedVa>();
  private readonly trxIds = new Set<string>();
  private issuedNumbers = 0;

  hasTrxId(trxId: string): boolean {
    return this.trxIds.has(trxId);
  }

  /**
   * Issues the VA; one-off VAs without a requested number get a generated one. `reissue` is a
   * number issued before: Winpay's numbers are BIN + customerNo, so it comes back whenever that
   * customerNo is issued again after the old VA was paid, deleted or expired.
   */
  open(order: VaOrder, reissue?: string): SimulatedVa {
    this.issuedNumbers++;
    const bin = binOf(order.channel);
    if (reissue !== undefined && !reissue.startsWith(bin)) throw new Error(`${reissue} is not a ${order.channel} number`);
    const customerNo = reissue?.slice(bin.length) ?? order.customerNo ?? `4169${String(this.issuedNumbers).padStart(7, "0")}`;
    const partnerServiceId = padPartnerServiceId(bin);
    const va: SimulatedVa = {
      ...order,
      contractId: `${order.channel.slice(0, 1).toLowerCase()}i${randomUUID()}`,
      partnerServiceId,
      customerNo,
      virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo),
      deleted: false,
      payments: [],
    };
    this.vas.set(va.contractId, va);
    this.trxIds.add(va.trxId);
    return va;
  }

  /** The VA with this contractId, when the trxId matches too. */
  find(contractId: string, trxId: string | undefined): SimulatedVa | undefined {
    const va = this.vas.get(contractId);
    return va && (trxId === undefined || va.trxId === trxId) ? va : undefined;
  }

  /**
   * A bank transfer to the VA. Closed VAs (`c`, `r`) take exactly their bill, `c` only once;
   * open ones (`o`) any positive amount. The fee is flat, capped at the amount.
   */
  pay(va: SimulatedVa, requested: Rupiah | undefined, at: Date, flatFee: Rupiah, billEnforced = true): PaymentAttempt {
    if (va.deleted) return { ok: false, outcome: SnapOutcomes.invalidBill };
    if (va.expiresAt && at > va.expiresAt) return { ok: false, outcome: SnapOutcomes.expiredBill };
    if (va.type === "c" && va.payments.length > 0) return { ok: false, outcome: SnapOutcomes.paidBill };
    const amount = requested ?? va.totalAmount;
    if (amount === undefined || amount <= 0n) return { ok: false, outcome: SnapOutcomes.invalidAmount };
    if (billEnforced && va.totalAmount !== undefined && amount !== va.totalAmount) {
      return { ok: false, outcome: SnapOutcomes.invalidAmount };
    }
    const fee = flatFee < amount ? flatFee : amount;
    const payment: SimulatedPayment = {
      paymentRequestId: String(88_889_000 + this.ledger.length + 1),
      referenceNo: 36_000 + this.ledger.length + 1,
      contractId: va.contractId,
      trxId: va.trxId,
      virtualAccountNo: va.virtualAccountNo,
      amount,
      fee,
      nett: amount - fee,
      paidAt: at,
      callback: undefined,
    };
    va.payments.push(payment);
    this.ledger.push(payment);
    return { ok: true, payment };
  }

  /** delete-va: only while unpaid. */
  delete(va: SimulatedVa): { ok: true } | { ok: false; outcome: SnapOutcome } {
    if (va.deleted) return { ok: false, outcome: SnapOutcomes.transactionNotFound };
    if (va.payments.length > 0) return { ok: false, outcome: SnapOutcomes.paidBill };
    va.deleted = true;
    return { ok: true };
  }
}
