/**
 * Replay guard storage: SNAP requires X-EXTERNAL-ID to be unique per partner within one day
 * (a reuse is answered `409xx00`). A database-backed store implements the same interface.
 */
export interface ExternalIdStore {
  /**
   * Records that `partnerId` used `externalId` on `day` (Jakarta date, `YYYY-MM-DD`). Resolves false
   * when that partner had already used it that day. Must be atomic across concurrent callers.
   */
  claim(partnerId: string, day: string, externalId: string): Promise<boolean>;
  /** Gives a claim back when the request it protected was not carried out, so its retry is not refused. */
  release(partnerId: string, day: string, externalId: string): Promise<void>;
}

/** Process-local store; keeps the two most recent days, which covers any accepted clock skew. */
export class InMemoryExternalIdStore implements ExternalIdStore {
  private readonly days = new Map<string, Set<string>>();

  async claim(partnerId: string, day: string, externalId: string): Promise<boolean> {
    const used = this.usedOn(day);
    const key = `${partnerId}\u0000${externalId}`;
    if (used.has(key)) return false;
    used.add(key);
    return true;
  }

  async release(partnerId: string, day: string, externalId: string): Promise<void> {
    this.days.get(day)?.delete(`${partnerId}\u0000${externalId}`);
  }

  private usedOn(day: string): Set<string> {
    let used = this.days.get(day);
    if (!used) {
      used = new Set();
      this.days.set(day, used);
      const keep = [...this.days.keys()].sort().slice(-2);
      for (const known of this.days.keys()) if (!keep.includes(known)) this.days.delete(known);
    }
    return used;
  }
}
