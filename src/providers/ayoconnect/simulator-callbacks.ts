import { type CallbackDelivery, CallbackSender, type DeliveryRecord } from "../simulator-kit.js";

/**
 * Ayoconnect's callback policy (reference §7.2): one attempt, then retries after 5 s, 10 s and 30 s on
 * a network failure, timeout or 5xx — but none after a 4xx. CallbackSender retries every non-2xx, so
 * each attempt here is a CallbackSender delivery without retries, and the schedule is kept here.
 * (If simulator-kit's sender learns a "retry on" rule, this reduces to one constructor call.)
 */
export class CallbacksStoppingOnClientErrors {
  readonly records: DeliveryRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly retryDelaysMs: readonly number[]) {}

  send(delivery: CallbackDelivery): DeliveryRecord {
    const record: DeliveryRecord = { delivery, attempts: 0, acknowledged: false, lastStatus: undefined };
    this.records.push(record);
    const run = this.run(record).finally(() => this.pending.delete(run));
    this.pending.add(run);
    return record;
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  close(): void {
    this.closed = true;
  }

  private async run(record: DeliveryRecord): Promise<void> {
    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelaysMs[attempt - 1]));
      if (this.closed) return;
      const oneAttempt = new CallbackSender([]);
      const sent = oneAttempt.send(() => record.delivery);
      await oneAttempt.idle();
      record.attempts++;
      record.lastStatus = sent.lastStatus;
      record.acknowledged = sent.acknowledged;
      const clientError = sent.lastStatus !== undefined && sent.lastStatus >= 400 && sent.lastStatus < 500;
      if (sent.acknowledged || clientError) return;
    }
  }
}
