import { DELETE_SNAP_EXTERNAL_IDS_BEFORE, FIND_SNAP_EXTERNAL_ID, snapExternalId as table } from "../sql.js";
import type { Statements } from "../statements.js";

/** What a request id guard found: first use, a retry of the same request, or a different request. */
export type RequestIdClaim = "NEW" | "RETRY" | "CONFLICT";

/** A sender's request id (SNAP X-EXTERNAL-ID) within its scope (partner) and Jakarta day, with the body's hash. */
export interface RequestIdGuard {
  scope: string;
  day: string;
  requestId: string;
  bodyHash: string;
}

/** The snap_external_id table: the X-EXTERNAL-ID replay guard of every inbound SNAP path. */
export class SnapExternalIds {
  constructor(private readonly statements: Statements) {}

  /**
   * Claims a sender's request id with one atomic insert, remembering the body's hash: the same id
   * again with the same body is a RETRY (answered as the first time), with another body a CONFLICT.
   * Kept in the database, so every replica and restart sees the same history. Inside a transaction
   * the claim is held until commit: a concurrent claim of the same id waits, and a rollback frees it.
   */
  async claim(guard: RequestIdGuard, at: Date): Promise<RequestIdClaim> {
    const key = { partnerId: guard.scope, day: guard.day, externalId: guard.requestId };
    const inserted = await this.statements.insert(
      table,
      { ...key, claimedAt: at, bodyHash: guard.bodyHash },
      { onConflictDoNothing: ["partnerId", "day", "externalId"] },
    );
    if (inserted === 1) return "NEW";
    const row = await this.statements.selectFirst(table, FIND_SNAP_EXTERNAL_ID, [key.partnerId, key.day, key.externalId]);
    return row?.bodyHash === guard.bodyHash ? "RETRY" : "CONFLICT";
  }

  /** Drops the ids of days before `day` (`YYYY-MM-DD`); a timestamp that old is refused anyway. */
  async forgetBefore(day: string): Promise<number> {
    return this.statements.execute(DELETE_SNAP_EXTERNAL_IDS_BEFORE, [day]);
  }
}
