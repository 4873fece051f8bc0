import type { HeldPayment, HeldState, HoldReason, ReportedPayment } from "../../domain/payment.js";
import type { HeldPaymentRow } from "../entities.js";
import {
  COUNT_HELD_PAYMENTS,
  FIND_DUE_HELD_PAYMENTS,
  LOCK_HELD_PAYMENT,
  listHeldPayments,
  heldPayment as table,
} from "../sql.js";
import type { Statements } from "../statements.js";

/** The held_payment table: reported payments kept until confirmed or matched to a VA. */
export class HeldPayments {
  constructor(private readonly statements: Statements) {}

  /** Keeps a reported payment for confirmation or matching; false when it is already held. */
  async hold(held: HeldPayment): Promise<boolean> {
    const inserted = await this.statements.insert(table, heldPaymentToColumns(held), {
      onConflictDoNothing: ["provider", "providerAccount", "providerPaymentRef"],
    });
    return inserted === 1;
  }

  /** Reads a held payment for change by its provider reference. */
  async lock(
    provider: string,
    report: Pick<ReportedPayment, "providerAccount" | "providerPaymentRef">,
  ): Promise<HeldPayment | undefined> {
    const row = await this.statements.selectFirst(table, LOCK_HELD_PAYMENT, [
      provider,
      report.providerAccount,
      report.providerPaymentRef,
    ]);
    return row ? heldPaymentFromRow(row) : undefined;
  }

  async update(held: HeldPayment): Promise<void> {
    const { id, ...columns } = heldPaymentToColumns(held);
    await this.statements.update(table, columns, { id });
  }

  /** Held payments due for another attempt (confirmation or matching), oldest due first. */
  async findDue(now: Date, limit: number): Promise<HeldPayment[]> {
    const rows = await this.statements.select(table, FIND_DUE_HELD_PAYMENTS, ["HELD" satisfies HeldState, now, limit]);
    return rows.map(heldPaymentFromRow);
  }

  /** Held payments for operators, newest first; by state and provider when given. */
  async list(filter: { state?: HeldState; provider?: string }, limit: number): Promise<HeldPayment[]> {
    const text = listHeldPayments({ state: Boolean(filter.state), provider: Boolean(filter.provider) });
    const params = [filter.state, filter.provider].filter(Boolean);
    const rows = await this.statements.select(table, text, [...params, limit]);
    return rows.map(heldPaymentFromRow);
  }

  /** How many payments are still held, by provider and reason. */
  async countHeld(): Promise<{ provider: string; reason: string; count: number }[]> {
    const rows = await this.statements.rows(COUNT_HELD_PAYMENTS, ["HELD" satisfies HeldState]);
    return rows.map((row) => ({ provider: String(row.provider), reason: String(row.reason), count: Number(row.count) }));
  }
}

function heldPaymentToColumns(held: HeldPayment): HeldPaymentRow {
  const { payment, ...rest } = held;
  return {
    ...rest,
    providerAccount: payment.providerAccount,
    providerPaymentRef: payment.providerPaymentRef,
    providerVaId: payment.providerVaId ?? null,
    vaNumber: payment.vaNumber,
    amount: payment.amount,
    fee: payment.fee ?? null,
    paidAt: payment.paidAt,
    rawPayload: payment.rawPayload,
    detail: rest.detail.slice(0, 255),
    resolvedAt: rest.resolvedAt ?? null,
    virtualAccountId: rest.virtualAccountId ?? null,
  };
}

function heldPaymentFromRow(row: HeldPaymentRow): HeldPayment {
  return {
    id: row.id,
    provider: row.provider,
    payment: {
      providerAccount: row.providerAccount,
      providerPaymentRef: row.providerPaymentRef,
      providerVaId: row.providerVaId ?? undefined,
      vaNumber: row.vaNumber,
      amount: BigInt(row.amount),
      fee: row.fee === null || row.fee === undefined ? undefined : BigInt(row.fee),
      paidAt: new Date(row.paidAt),
      rawPayload: row.rawPayload,
    },
    reason: row.reason as HoldReason,
    detail: row.detail,
    state: row.state as HeldState,
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(row.nextAttemptAt),
    receivedAt: new Date(row.receivedAt),
    resolvedAt: row.resolvedAt ? new Date(row.resolvedAt) : undefined,
    virtualAccountId: row.virtualAccountId ?? undefined,
  };
}
