import { DomainError } from "../../domain/errors.js";
import type { ReportedPayment } from "../../domain/payment.js";
import type { AmountRule, VaStatus, VaUsage, VirtualAccount } from "../../domain/virtual-account.js";
import type { VirtualAccountRow } from "../entities.js";
import {
  FIND_VIRTUAL_ACCOUNT,
  findDueVirtualAccounts,
  findVirtualAccountsToReconcile,
  LOCK_NEWEST_VIRTUAL_ACCOUNT_BY_NUMBER,
  LOCK_TENANT_VIRTUAL_ACCOUNT,
  LOCK_VIRTUAL_ACCOUNT,
  LOCK_VIRTUAL_ACCOUNT_FOR_PAYMENT,
  listVirtualAccounts,
  type SqlText,
  va as table,
} from "../sql.js";
import type { Statements } from "../statements.js";

/** Statuses of a VA that can still take money, so expiry and reconciliation still concern it. */
const OPEN_STATUSES = ["ACTIVE", "INQUIRED", "PAID"] as const satisfies readonly VaStatus[];

/** Filters of a VA listing; unset ones match every VA. */
export interface VirtualAccountFilter {
  statuses: VaStatus[];
  bankCode: string | undefined;
  provider: string | undefined;
  merchantReference: string | undefined;
  /** Inclusive. */
  createdFrom: Date | undefined;
  /** Exclusive. */
  createdBefore: Date | undefined;
}

/** The virtual_account table. The `lock…` reads are for change, inside a transaction. */
export class VirtualAccounts {
  constructor(private readonly statements: Statements) {}

  /** The InquiryVirtualAccount hot path: one bound statement, without an EntityManager fork, identity map or unit of work. */
  async find(tenantId: string, id: string): Promise<VirtualAccount | undefined> {
    return this.one(FIND_VIRTUAL_ACCOUNT, [id, tenantId]);
  }

  /**
   * A tenant's VAs newest first (created_at, then id, descending), strictly after `after` in that
   * order. The (tenant_id, created_at, id) index gives the order and, through the row-value bound,
   * where a page starts; the other filters only skip rows on the way.
   */
  async list(
    tenantId: string,
    filter: VirtualAccountFilter,
    after: { createdAt: Date; id: string } | undefined,
    limit: number,
  ): Promise<VirtualAccount[]> {
    const text = listVirtualAccounts({
      statuses: filter.statuses.length,
      bankCode: Boolean(filter.bankCode),
      provider: Boolean(filter.provider),
      merchantReference: Boolean(filter.merchantReference),
      createdFrom: Boolean(filter.createdFrom),
      createdBefore: Boolean(filter.createdBefore),
      after: Boolean(after),
    });
    const params = [
      tenantId,
      ...filter.statuses,
      ...[filter.bankCode, filter.provider, filter.merchantReference, filter.createdFrom, filter.createdBefore].filter(Boolean),
      ...(after ? [after.createdAt, after.id] : []),
      limit,
    ];
    const rows = await this.statements.select(table, text, params);
    return rows.map(virtualAccountFromRow);
  }

  /** Open VAs whose expiry has passed, oldest first. */
  async findDue(now: Date, limit: number): Promise<VirtualAccount[]> {
    const rows = await this.statements.select(table, findDueVirtualAccounts(OPEN_STATUSES.length), [
      ...OPEN_STATUSES,
      now,
      limit,
    ]);
    return rows.map(virtualAccountFromRow);
  }

  /**
   * VAs whose payments may have slipped past us: still open and expiring within `beforeMs`, or
   * expired within the last `afterMs`. Soonest expiry first.
   */
  async findToReconcile(now: Date, beforeMs: number, afterMs: number, limit: number): Promise<VirtualAccount[]> {
    const rows = await this.statements.select(table, findVirtualAccountsToReconcile(OPEN_STATUSES.length), [
      ...OPEN_STATUSES,
      new Date(now.getTime() + beforeMs),
      "EXPIRED" satisfies VaStatus,
      new Date(now.getTime() - afterMs),
      limit,
    ]);
    return rows.map(virtualAccountFromRow);
  }

  async insert(va: VirtualAccount): Promise<void> {
    await this.statements.insert(table, { ...virtualAccountToColumns(va), version: 1 });
  }

  /** Saves a changed VA; a concurrent change in between (its version moved) aborts. */
  async update(va: VirtualAccount): Promise<void> {
    const { id, ...columns } = virtualAccountToColumns(va);
    const updated = await this.statements.update(table, columns, { id }, { bumpVersion: "version" });
    if (updated !== 1) throw new DomainError("ABORTED", "virtual account changed concurrently; retry");
  }

  /** Reads a VA for change, by id and, when given, its tenant. */
  async lock(where: { id: string; tenantId?: string }): Promise<VirtualAccount | undefined> {
    return where.tenantId === undefined
      ? this.one(LOCK_VIRTUAL_ACCOUNT, [where.id])
      : this.one(LOCK_TENANT_VIRTUAL_ACCOUNT, [where.id, where.tenantId]);
  }

  /** The newest VA a provider knows by this number (numbers can be reissued after expiry), for change. */
  async lockByNumber(provider: string, providerAccount: string, vaNumber: string): Promise<VirtualAccount | undefined> {
    return this.one(LOCK_NEWEST_VIRTUAL_ACCOUNT_BY_NUMBER, [provider, providerAccount, vaNumber]);
  }

  /**
   * The VA a reported payment belongs to, locked for change. By the provider's own identity of the
   * VA when the report names one (and only with the number that VA has: a report whose identity and
   * number disagree matches nothing and is held for operators); a report naming an identity we do not
   * hold matches only a VA that has none recorded (made before identities were kept), never a newer
   * VA reissued the same number.
   * A report naming no identity goes by number: the newest VA that existed when it was paid, or
   * else the first made after (the create's answer can reach us after the payment).
   */
  async lockForPayment(provider: string, report: ReportedPayment): Promise<VirtualAccount | undefined> {
    const { providerAccount, providerVaId, vaNumber, paidAt } = report;
    const by = LOCK_VIRTUAL_ACCOUNT_FOR_PAYMENT;
    const account = [provider, providerAccount];
    if (providerVaId) {
      return (
        (await this.one(by.byIdentity, [...account, providerVaId, vaNumber])) ??
        (await this.one(by.byNumberWithoutIdentity, [...account, vaNumber]))
      );
    }
    return (
      (await this.one(by.byNumberBeforePayment, [...account, vaNumber, paidAt])) ??
      (await this.one(by.byNumberFirstAfter, [...account, vaNumber]))
    );
  }

  private async one(text: SqlText, params: unknown[]): Promise<VirtualAccount | undefined> {
    const row = await this.statements.selectFirst(table, text, params);
    return row ? virtualAccountFromRow(row) : undefined;
  }
}

type VirtualAccountColumns = Omit<VirtualAccountRow, "version">;

function virtualAccountToColumns(va: VirtualAccount): VirtualAccountColumns {
  const { amount, customer, providerVaId, ...rest } = va;
  return {
    ...rest,
    providerVaId: providerVaId ?? null,
    amountType: amount.type,
    amountFixed: amount.type === "FIXED" ? amount.amount : null,
    amountMin: amount.type === "RANGE" ? amount.min : null,
    amountMax: amount.type === "RANGE" ? amount.max : null,
    customerName: customer.name,
    customerEmail: customer.email,
    customerPhone: customer.phone,
  };
}

function virtualAccountFromRow(row: VirtualAccountColumns): VirtualAccount {
  return {
    id: row.id,
    tenantId: row.tenantId,
    merchantReference: row.merchantReference,
    provider: row.provider,
    providerAccount: row.providerAccount,
    providerReference: row.providerReference,
    providerVaId: row.providerVaId ?? undefined,
    bankCode: row.bankCode,
    vaNumber: row.vaNumber,
    usage: row.usage as VaUsage,
    amount: amountFromColumns(row),
    status: row.status as VaStatus,
    expiresAt: new Date(row.expiresAt),
    customer: { name: row.customerName, email: row.customerEmail, phone: row.customerPhone },
    description: row.description,
    paidAmount: BigInt(row.paidAmount),
    paymentCount: Number(row.paymentCount),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

function amountFromColumns(row: VirtualAccountColumns): AmountRule {
  switch (row.amountType) {
    case "FIXED":
      return { type: "FIXED", amount: BigInt(row.amountFixed ?? 0n) };
    case "RANGE":
      return { type: "RANGE", min: BigInt(row.amountMin ?? 0n), max: BigInt(row.amountMax ?? 0n) };
    default:
      return { type: "OPEN" };
  }
}
