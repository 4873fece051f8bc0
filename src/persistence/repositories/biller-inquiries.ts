import type { Rupiah } from "../../domain/money.js";
import type { BillerInquiryRow } from "../entities.js";
import { BILLER_INQUIRIES_TO_RESOLVE, FIND_BILLER_INQUIRY, LOCK_BILLER_INQUIRY, billerInquiry as table } from "../sql.js";
import type { Statements } from "../statements.js";

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
type InquiryChanges = Partial<Omit<BillerInquiry, "partnerId" | "inquiryRequestId">>;

/** The biller_inquiry table: bank inquiries of the SNAP biller flow, with their timer and stored answers. */
export class BillerInquiries {
  constructor(private readonly statements: Statements) {}

  /** Inserts a new inquiry; false when the bank already used this inquiryRequestId. */
  async insert(inquiry: BillerInquiry): Promise<boolean> {
    const inserted = await this.statements.insert(table, inquiryColumns(inquiry), {
      onConflictDoNothing: ["partnerId", "inquiryRequestId"],
    });
    return inserted === 1;
  }

  async find(key: BillerInquiryKey): Promise<BillerInquiry | undefined> {
    const row = await this.statements.selectFirst(table, FIND_BILLER_INQUIRY, [key.partnerId, key.inquiryRequestId]);
    return row ? inquiryFromRow(row) : undefined;
  }

  /** Reads an inquiry for change. */
  async lock(key: BillerInquiryKey): Promise<BillerInquiry | undefined> {
    const row = await this.statements.selectFirst(table, LOCK_BILLER_INQUIRY, [key.partnerId, key.inquiryRequestId]);
    return row ? inquiryFromRow(row) : undefined;
  }

  async update(key: BillerInquiryKey, changes: InquiryChanges): Promise<void> {
    await this.statements.update(table, inquiryColumns(changes), {
      partnerId: key.partnerId,
      inquiryRequestId: key.inquiryRequestId,
    });
  }

  /**
   * Inquiries whose timer ran out `graceMs` ago without a payment, not asked about since
   * `askedBefore`: the ones whose outcome only the bank knows.
   */
  async findToResolve(now: Date, graceMs: number, askedBefore: Date, limit: number): Promise<BillerInquiry[]> {
    const rows = await this.statements.select(table, BILLER_INQUIRIES_TO_RESOLVE, [
      "INQUIRED" satisfies BillerInquiryState,
      new Date(now.getTime() - graceMs),
      askedBefore,
      limit,
    ]);
    return rows.map(inquiryFromRow);
  }
}

/** The given fields as columns, unset ones as null. */
function inquiryColumns(changes: InquiryChanges): Partial<Record<keyof BillerInquiryRow, unknown>> {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) columns[key] = value === undefined ? null : value;
  return columns;
}

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
