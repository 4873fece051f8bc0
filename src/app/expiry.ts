import { isDue } from "../domain/virtual-account.js";
import type { Store } from "../persistence/store.js";

/**
 * Closes VAs whose expiry has passed. Safe on several replicas at once: each VA is re-read under
 * lock and only changed if still due, so a VA is expired (and its event written) once.
 */
export class ExpirySweeper {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly batchSize = 200,
  ) {}

  /** Returns how many VAs this run expired. */
  async runOnce(): Promise<number> {
    const now = this.clock();
    const due = await this.store.virtualAccounts.findDue(now, this.batchSize);
    let expired = 0;
    for (const candidate of due) {
      const changed = await this.store.transaction(async (tx) => {
        const va = await tx.virtualAccounts.lock({ id: candidate.id });
        if (!va || !isDue(va, now)) return false;
        const updated = { ...va, status: "EXPIRED" as const, updatedAt: now };
        await tx.saveChange(updated, "VIRTUAL_ACCOUNT_EXPIRED", "SWEEPER");
        return true;
      });
      if (changed) expired++;
    }
    return expired;
  }
}
