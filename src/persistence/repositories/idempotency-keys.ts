import { DomainError } from "../../domain/errors.js";
import type { IdempotencyRow } from "../entities.js";
import { DELETE_IDEMPOTENCY_KEYS_BEFORE, FIND_IDEMPOTENCY_KEY, idempotencyKey as table } from "../sql.js";
import type { Statements } from "../statements.js";

export interface IdempotencyScope {
  tenantId: string;
  operation: string;
  key: string;
}

export interface IdempotencyEntry {
  requestHash: string;
  state: "IN_FLIGHT" | "DONE";
  virtualAccountId: string | undefined;
  createdAt: Date;
}

/** A held key: its scope and when this request claimed or retook it. */
export type IdempotencyClaim = IdempotencyScope & { claimedAt: Date };

/**
 * The idempotency_key table. A key is claimed and retaken on its own (each an atomic statement that
 * commits alone), then completed or released in the transaction of the work it guards.
 */
export class IdempotencyKeys {
  constructor(private readonly statements: Statements) {}

  /**
   * Claims an idempotency key with one atomic insert of its own, not inside a transaction: its commit
   * is what makes the claim visible to a concurrent duplicate. Returns the entry holding the key when
   * someone else does; a holder that let go between our insert and our read is claimed over again.
   */
  async claim(scope: IdempotencyScope, requestHash: string, now: Date): Promise<IdempotencyEntry | undefined> {
    for (let attempt = 1; ; attempt++) {
      const inserted = await this.statements.insert(
        table,
        { ...scope, requestHash, state: "IN_FLIGHT", virtualAccountId: null, createdAt: now },
        { onConflictDoNothing: ["tenantId", "operation", "key"] },
      );
      if (inserted === 1) return undefined;
      const row = await this.statements.selectFirst(table, FIND_IDEMPOTENCY_KEY, [scope.tenantId, scope.operation, scope.key]);
      if (row) return entryFromRow(row);
      if (attempt === 3) {
        throw new DomainError("ABORTED", `idempotency_key: "${scope.key}" is changing hands; retry`, {
          field: "idempotency_key",
        });
      }
    }
  }

  /** Takes over an in-flight claim whose holder died, if nobody else did first (one atomic update). */
  async retake(scope: IdempotencyScope, seenCreatedAt: Date, now: Date): Promise<boolean> {
    const taken = await this.statements.update(
      table,
      { createdAt: now },
      { ...scope, state: "IN_FLIGHT", createdAt: seenCreatedAt },
    );
    return taken === 1;
  }

  /**
   * Marks the key done, if this request still holds it. A request that outlived its lease and lost
   * the key to a retry must not commit as well.
   */
  async complete(claim: IdempotencyClaim, virtualAccountId: string): Promise<void> {
    const { claimedAt, ...scope } = claim;
    const done = await this.statements.update(
      table,
      { state: "DONE", virtualAccountId },
      { ...scope, state: "IN_FLIGHT", createdAt: claimedAt },
    );
    if (done !== 1) {
      throw new DomainError("ABORTED", `idempotency_key: "${scope.key}" was taken over by a retry of this request`, {
        field: "idempotency_key",
      });
    }
  }

  /** Lets go of the key, if this request still holds it, so a retry can claim it. */
  async release(claim: IdempotencyClaim): Promise<void> {
    const { claimedAt, ...scope } = claim;
    await this.statements.delete(table, { ...scope, state: "IN_FLIGHT", createdAt: claimedAt });
  }

  /** Forgets finished keys older than the retention period. */
  async deleteDoneBefore(cutoff: Date): Promise<number> {
    return this.statements.execute(DELETE_IDEMPOTENCY_KEYS_BEFORE, ["DONE", cutoff]);
  }
}

function entryFromRow(row: IdempotencyRow): IdempotencyEntry {
  return {
    requestHash: row.requestHash,
    state: row.state as IdempotencyEntry["state"],
    virtualAccountId: row.virtualAccountId ?? undefined,
    createdAt: new Date(row.createdAt),
  };
}
