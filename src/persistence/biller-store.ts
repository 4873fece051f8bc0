import { LockMode } from "@mikro-orm/core";
import type { SqlEntityManager as EntityManager } from "@mikro-orm/knex";
import type { Rupiah } from "../domain/money.js";
import { BillerInquiryRow, SnapExternalIdRow } from "./entities.js";
import type { Database } from "./orm.js";

/**
 * Storage of the SNAP biller flow (banks call our inquiry/payment endpoints): the X-EXTERNAL-ID
 * replay guard and the inquiries with their timer and stored answers. Reached through
 * `StoreTransaction.biller()` so every write shares the transaction of the work it belongs to.
 */

/** INQUIRED: timer running or lapsed unresolved; PAID: a payment was recorded; UNPAID: the bank said none came. */
export type BillerInquiryState = "INQUIRED" | "PAID" | "UNPAID" | "UNRESOLVED";

export interface BillerInquiry {
  partnerId: string;
  inquiryRequestId: string;
  virtualAccountId: string;
  /** As the bank sent it: 8-character space-padded partnerServiceId + customerNo. */
  virtualAccountNo: string;
  amount: Rupiah | undefined;
  state: BillerInquiryState;
  inquiredAt: Date;
  /** The inquiry timer: a payment after this instant is refused. */
  payBy: Date;
  inquiryAnswer: string;
  paymentFingerprint: string | undefined;
  paymentStatus: number | undefined;
  paymentAnswer: string | undefined;
  paidAmount: Rupiah | undefined;
  paidAt: Date | undefined;
  statusChecks: number;
  statusCheckedAt: Date | undefined;
}

export type BillerInquiryKey = Pick<BillerInquiry, "partnerId" | "inquiryRequestId">;

function inquiryFromRow(row: BillerInquiryRow): BillerInquiry {
  const optionalDate = (value: Date | string | null | undefined) => (value ? new Date(value) : undefined);
  const optionalBigint = (value: bigint | number | string | null | undefined) =>
    value === null || value === undefined ? undefined : BigInt(value);
  return {
    partnerId: row.partnerId,
    inquiryRequestId: row.inquiryRequestId,
    virtualAccountId: row.virtualAccountId,
    virtualAccountNo: row.virtualAccountNo,
    amount: optionalBigint(row.amount),
    state: row.state as BillerInquiryState,
    inquiredAt: new Date(row.inquiredAt),
    payBy: new Date(row.payBy),
    inquiryAnswer: row.inquiryAnswer,
    paymentFingerprint: row.paymentFingerprint ?? undefined,
    paymentStatus: row.paymentStatus === null || row.paymentStatus === undefined ? undefined : Number(row.paymentStatus),
    paymentAnswer: row.paymentAnswer ?? undefined,
    paidAmount: optionalBigint(row.paidAmount),
    paidAt: optionalDate(row.paidAt),
    statusChecks: Number(row.statusChecks),
    statusCheckedAt: optionalDate(row.statusCheckedAt),
  };
}

type InquiryColumns = Partial<Omit<BillerInquiryRow, "partnerId" | "inquiryRequestId">>;

function inquiryColumns(changes: Partial<Omit<BillerInquiry, "partnerId" | "inquiryRequestId">>): InquiryColumns {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) columns[key] = value === undefined ? null : value;
  return columns as InquiryColumns;
}

export class BillerTransaction {
  constructor(
    private readonly em: EntityManager,
    private readonly dialect: Database["dialect"],
  ) {}

  /**
   * Claims X-EXTERNAL-ID for this partner and Jakarta day with the request body's hash. NEW: first
   * use; RETRY: used before for the same body (answer it as the first time); CONFLICT: used for
   * another body. Held until commit: a concurrent claim of the same id waits, and a rolled-back
   * attempt frees it.
   */
  async claimExternalId(
    partnerId: string,
    day: string,
    externalId: string,
    bodyHash: string,
    at: Date,
  ): Promise<"NEW" | "RETRY" | "CONFLICT"> {
    const key = { partnerId, day, externalId };
    const result = await this.em
      .createQueryBuilder(SnapExternalIdRow)
      .insert({ ...key, claimedAt: at, bodyHash })
      .onConflict(["partnerId", "day", "externalId"])
      .ignore()
      .execute("run");
    if ((result as { affectedRows: number }).affectedRows === 1) return "NEW";
    const row = await this.em.findOne(SnapExternalIdRow, key, { refresh: true });
    return row?.bodyHash === bodyHash ? "RETRY" : "CONFLICT";
  }

  /** Inserts a new inquiry; false when the bank already used this inquiryRequestId. */
  async insertInquiry(inquiry: BillerInquiry): Promise<boolean> {
    const result = await this.em
      .createQueryBuilder(BillerInquiryRow)
      .insert({ ...inquiryColumns(inquiry), partnerId: inquiry.partnerId, inquiryRequestId: inquiry.inquiryRequestId } as BillerInquiryRow)
      .onConflict(["partnerId", "inquiryRequestId"])
      .ignore()
      .execute("run");
    return (result as { affectedRows: number }).affectedRows === 1;
  }

  /** Reads an inquiry for change (row-locked until commit on PostgreSQL; SQLite serialises writers). */
  async lockInquiry(key: BillerInquiryKey): Promise<BillerInquiry | undefined> {
    const row = await this.em.findOne(BillerInquiryRow, key, {
      lockMode: this.dialect === "postgresql" ? LockMode.PESSIMISTIC_WRITE : undefined,
    });
    return row ? inquiryFromRow(row) : undefined;
  }

  async updateInquiry(
    key: BillerInquiryKey,
    changes: Partial<Omit<BillerInquiry, "partnerId" | "inquiryRequestId">>,
  ): Promise<void> {
    await this.em.nativeUpdate(BillerInquiryRow, key, inquiryColumns(changes));
  }

  /** Drops replay-guard rows of days before `day` (`YYYY-MM-DD`); a timestamp that old is refused anyway. */
  async forgetExternalIdsBefore(day: string): Promise<number> {
    return this.em.nativeDelete(SnapExternalIdRow, { day: { $lt: day } });
  }
}

/** Reads outside any transaction. */
export class BillerReads {
  constructor(private readonly database: Database) {}

  /**
   * Inquiries whose timer ran out `graceMs` ago without a payment, not asked about since
   * `askedBefore`: the ones whose outcome only the bank knows.
   */
  async inquiriesToResolve(now: Date, graceMs: number, askedBefore: Date, limit: number): Promise<BillerInquiry[]> {
    const rows = await this.database.orm.em.fork().find(
      BillerInquiryRow,
      {
        state: "INQUIRED",
        payBy: { $lte: new Date(now.getTime() - graceMs) },
        $or: [{ statusCheckedAt: null }, { statusCheckedAt: { $lte: askedBefore } }],
      },
      { orderBy: { payBy: "asc" }, limit },
    );
    return rows.map(inquiryFromRow);
  }

  async inquiry(key: BillerInquiryKey): Promise<BillerInquiry | undefined> {
    const row = await this.database.orm.em.fork().findOne(BillerInquiryRow, key);
    return row ? inquiryFromRow(row) : undefined;
  }
}
