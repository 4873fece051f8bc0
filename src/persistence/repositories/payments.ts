import type { Payment, PaymentOutcome, ReportedPayment } from "../../domain/payment.js";
import type { PaymentRow } from "../entities.js";
import { LIST_PAYMENTS, PAYMENT_EXISTS, payment as table, VIRTUAL_ACCOUNT_OF_PAYMENT } from "../sql.js";
import type { Statements } from "../statements.js";

type PaymentRef = Pick<ReportedPayment, "providerAccount" | "providerPaymentRef">;

/** The payment table: payments recorded on a VA, unique by provider reference. */
export class Payments {
  constructor(private readonly statements: Statements) {}

  /** A VA's payments in the order they were recorded. */
  async list(tenantId: string, virtualAccountId: string): Promise<Payment[]> {
    const rows = await this.statements.select(table, LIST_PAYMENTS, [tenantId, virtualAccountId]);
    return rows.map(paymentFromRow);
  }

  /** Whether a payment with this provider reference is already recorded. */
  async isRecorded(provider: string, ref: PaymentRef): Promise<boolean> {
    const rows = await this.statements.select(table, PAYMENT_EXISTS, [provider, ref.providerAccount, ref.providerPaymentRef]);
    return rows.length > 0;
  }

  /** The VA a recorded payment is on. */
  async virtualAccountIdOf(provider: string, ref: PaymentRef): Promise<string | undefined> {
    const row = await this.statements.selectFirst(table, VIRTUAL_ACCOUNT_OF_PAYMENT, [
      provider,
      ref.providerAccount,
      ref.providerPaymentRef,
    ]);
    return row?.virtualAccountId;
  }

  /** Inserts the payment unless its provider reference is already recorded. True when new. */
  async insertIfNew(payment: Payment): Promise<boolean> {
    const inserted = await this.statements.insert(table, paymentToColumns(payment), {
      onConflictDoNothing: ["provider", "providerAccount", "providerPaymentRef"],
    });
    return inserted === 1;
  }
}

function paymentToColumns(payment: Payment): PaymentRow {
  return { ...payment, fee: payment.fee ?? null };
}

function paymentFromRow(row: PaymentRow): Payment {
  return {
    id: row.id,
    tenantId: row.tenantId,
    virtualAccountId: row.virtualAccountId,
    provider: row.provider,
    providerAccount: row.providerAccount,
    providerPaymentRef: row.providerPaymentRef,
    amount: BigInt(row.amount),
    fee: row.fee === null || row.fee === undefined ? undefined : BigInt(row.fee),
    outcome: row.outcome as PaymentOutcome,
    paidAt: new Date(row.paidAt),
    recordedAt: new Date(row.recordedAt),
    rawPayload: row.rawPayload,
  };
}
