import { randomInt } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import { type SnapOutcome, SnapOutcomes } from "../../protocols/snap/response-code.js";
import { composeVirtualAccountNo } from "../../protocols/snap/va-number.js";
import type { DokuSnapTrxType } from "../../providers/doku-snap/wire.js";
import type { DeliveryRecord } from "../simulator-kit.js";

/** The simulated DOKU's books: the VAs it knows and the payments made to them. */

export interface VaTerms {
  virtualAccountName: string;
  virtualAccountEmail: string | undefined;
  virtualAccountPhone: string | undefined;
  trxId: string;
  totalAmount: Rupiah;
  trxType: DokuSnapTrxType;
  reusable: boolean;
  minAmount: Rupiah | undefined;
  maxAmount: Rupiah | undefined;
  /** As sent; echoed back verbatim. */
  expiredDate: string | undefined;
  expiresAt: Date | undefined;
  channel: string;
}

export interface SimulatedVa extends VaTerms {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  /** DIPC: known from the merchant's inquiry answer only; asked again before every payment. */
  direct: boolean;
  active: boolean;
  deleted: boolean;
  payments: SimulatedPayment[];
}

export interface SimulatedPayment {
  paymentRequestId: string;
  inquiryRequestId: string | undefined;
  trxId: string;
  virtualAccountNo: string;
  amount: Rupiah;
  paidAt: Date;
  notification: DeliveryRecord | undefined;
}

export type PaymentAttempt = { ok: true; payment: SimulatedPayment } | { ok: false; outcome: SnapOutcome; message?: string };

export class DokuSnapBook {
  readonly ledger: SimulatedPayment[] = [];
  private readonly byNumber = new Map<string, SimulatedVa>();
  private readonly byTrxId = new Map<string, SimulatedVa>();
  private issued = 0;

  findByNumber(virtualAccountNo: string): SimulatedVa | undefined {
    return this.byNumber.get(virtualAccountNo);
  }

  findByTrxId(trxId: string): SimulatedVa | undefined {
    return this.byTrxId.get(trxId);
  }

  /** DGPC: DOKU picks 10 digits after the BIN. */
  nextCustomerNo(): string {
    this.issued++;
    return `${String(randomInt(1, 10))}${String(this.issued).padStart(9, "0")}`;
  }

  open(partnerServiceId: string, customerNo: string, terms: VaTerms, direct = false): SimulatedVa {
    const va: SimulatedVa = {
      ...terms,
      partnerServiceId,
      customerNo,
      virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo),
      direct,
      active: true,
      deleted: false,
      payments: this.byNumber.get(composeVirtualAccountNo(partnerServiceId, customerNo))?.payments ?? [],
    };
    this.byNumber.set(va.virtualAccountNo, va);
    this.byTrxId.set(va.trxId, va);
    return va;
  }

  /**
   * A bank transfer: `C` takes exactly its bill, `O` any positive amount within min/max; a VA that is
   * not reusable only once.
   */
  pay(va: SimulatedVa, requested: Rupiah | undefined, at: Date, inquiryRequestId?: string, billEnforced = true): PaymentAttempt {
    if (va.deleted || !va.active) return { ok: false, outcome: SnapOutcomes.invalidBill, message: "Bill not found" };
    if (va.expiresAt && at > va.expiresAt) return { ok: false, outcome: SnapOutcomes.expiredBill, message: "Bill expired" };
    if (!va.reusable && va.payments.some((p) => p.trxId === va.trxId)) {
      return { ok: false, outcome: SnapOutcomes.paidBill, message: "Bill has been paid" };
    }
    const amount = requested ?? (va.trxType === "C" ? va.totalAmount : undefined);
    if (amount === undefined || amount <= 0n) return { ok: false, outcome: SnapOutcomes.invalidAmount };
    if (billEnforced) {
      if (va.trxType === "C" && amount !== va.totalAmount) return { ok: false, outcome: SnapOutcomes.invalidAmount };
      if ((va.minAmount !== undefined && amount < va.minAmount) || (va.maxAmount !== undefined && amount > va.maxAmount)) {
        return { ok: false, outcome: SnapOutcomes.invalidAmount };
      }
    }
    const payment: SimulatedPayment = {
      paymentRequestId: inquiryRequestId ?? String(70_000_000_000 + this.ledger.length + 1),
      inquiryRequestId,
      trxId: va.trxId,
      virtualAccountNo: va.virtualAccountNo,
      amount,
      paidAt: at,
      notification: undefined,
    };
    va.payments.push(payment);
    this.ledger.push(payment);
    return { ok: true, payment };
  }
}
