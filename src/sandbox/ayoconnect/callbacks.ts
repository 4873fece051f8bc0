import { type CallbackDelivery, CallbackSender, type DeliveryRecord } from "../simulator-kit.js";

/**
 * Ayoconnect's callback policy (reference §7.2): one attempt, then retries after 5 s, 10 s and 30 s on
 * a network failure, timeout or 5xx — but none after a 4xx. CallbackSender retries every non-2xx, so
 * each attempt here is a CallbackSender delivery without retries, and the schedule is kept here.
 * (If simulator-kit's sender learns a "retry on" rule, this reduces to one constructor call.)
 *
 * While holding, callbacks are kept instead of sent (a lost callback, or one Ayoconnect sends late);
 * `deliverHeld` sends each once, byte for byte. Legacy callbacks carry no timestamp or signature, so
 * a late one is the same bytes as a prompt one.
 */
export class CallbacksStoppingOnClientErrors {
  readonly records: DeliveryRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly held: CallbackDelivery[] = [];
  private holding = false;
  private closed = false;

  constructor(private readonly retryDelaysMs: readonly number[]) {}

  /** Sends (or holds) a callback; `firstAnswer` resolves once its first attempt has been answered. */
  send(delivery: CallbackDelivery): { record: DeliveryRecord; firstAnswer: Promise<void> } {
    const record: DeliveryRecord = { delivery, attempts: 0, acknowledged: false, lastStatus: undefined };
    if (this.holding) {
      this.held.push(delivery);
      return { record, firstAnswer: Promise.resolve() };
    }
    this.records.push(record);
    let answered = () => {};
    const firstAnswer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const run = this.run(record, answered)
      .finally(answered)
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
    return { record, firstAnswer };
  }

  hold(holding: boolean): void {
    this.holding = holding;
  }

  async deliverHeld(): Promise<{ status: number; body: string }[]> {
    const answers: { status: number; body: string }[] = [];
    for (const delivery of this.held.splice(0)) {
      const record: DeliveryRecord = { delivery, attempts: 1, acknowledged: false, lastStatus: undefined };
      this.records.push(record);
      const response = await fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body });
      record.lastStatus = response.status;
      record.acknowledged = response.ok;
      answers.push({ status: response.status, body: await response.text() });
    }
    return answers;
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  close(): void {
    this.closed = true;
  }

  private async run(record: DeliveryRecord, answered: () => void): Promise<void> {
    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelaysMs[attempt - 1]));
      if (this.closed) return;
      const oneAttempt = new CallbackSender([]);
      const sent = oneAttempt.send(() => record.delivery);
      await oneAttempt.idle();
      record.attempts++;
      record.lastStatus = sent.lastStatus;
      record.acknowledged = sent.acknowledged;
      answered();
      const clientError = sent.lastStatus !== undefined && sent.lastStatus >= 400 && sent.lastStatus < 500;
      if (sent.acknowledged || clientError) return;
    }
  }
}
