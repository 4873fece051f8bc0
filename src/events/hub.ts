import { type EventFilter, eventKeys, filterKey, type VaEvent } from "../domain/event.js";
import type { Store } from "../persistence/store.js";

const PAGE_SIZE = 500;
/** First look again after events were held back; doubles up to the poll interval. */
const FIRST_RETRY_MS = 5;

/**
 * Reads the event log once for the whole process and hands each new event to the subscribers whose
 * filter matches, in sequence order. Woken by commits (in-process, or PostgreSQL NOTIFY from other
 * replicas) and by a slow poll as a safety net. When committed events are held back behind a
 * transaction still in flight (repositories/events.ts), it looks again soon, backing off: that
 * transaction may end without a commit that wakes anyone. After each local commit that appended
 * events it also announces them to the other replicas (one at a time: announcements that pile up
 * meanwhile become one).
 */
export class EventHub {
  private position = 0n;
  /** Subscriptions by `filterKey`: an event costs the subscribers it reaches, not all of them. */
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  private count = 0;
  private pumping: Promise<void> | undefined;
  private wakeAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private announcing: Promise<void> | undefined;
  private announceAgain = false;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: { pollIntervalMs: number; maxQueuedPerSubscriber: number; onError: (e: unknown) => void },
  ) {}

  async start(): Promise<void> {
    this.position = await this.store.events.lastSequence();
    this.stopListening = this.store.onEventsCommitted(() => {
      this.wake();
      this.announce();
    });
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.stopListening?.();
    for (const group of [...this.subscriptions.values()]) for (const subscription of [...group]) subscription.close();
  }

  get subscriberCount(): number {
    return this.count;
  }

  /**
   * Starts delivering every matching event after the hub's current position. The returned
   * subscription's `startedAfter` tells the reader up to where it must replay from the log itself.
   */
  subscribe(filter: EventFilter): Subscription {
    const key = filterKey(filter);
    const subscription = new Subscription(filter, this.position, this.options.maxQueuedPerSubscriber, (s) => {
      const group = this.subscriptions.get(key);
      if (group?.delete(s)) this.count--;
      if (group?.size === 0) this.subscriptions.delete(key);
    });
    let group = this.subscriptions.get(key);
    if (!group) {
      group = new Set();
      this.subscriptions.set(key, group);
    }
    group.add(subscription);
    this.count++;
    return subscription;
  }

  /** Fetches what was committed since the last look; coalesces wake-ups that arrive meanwhile. */
  wake(): void {
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /** Resolves once the hub has caught up with everything committed before the call. */
  async settle(): Promise<void> {
    this.wake();
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      let heldBack = false;
      for (;;) {
        const page = await this.store.events.page({ after: this.position }, PAGE_SIZE);
        for (const event of page.events) {
          this.position = event.sequence;
          for (const key of eventKeys(event)) {
            const group = this.subscriptions.get(key);
            if (group) for (const subscription of group) subscription.offer(event);
          }
        }
        heldBack = page.heldBack;
        if (page.events.length < PAGE_SIZE) break;
      }
      this.failures = 0;
      this.lookAgainIf(heldBack);
    } catch (error) {
      // The poll timer retries; report once per outage rather than on every tick.
      if (this.failures++ === 0) this.options.onError(error);
    }
  }

  private announce(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = this.store.events
      .announce()
      .catch(this.options.onError)
      .finally(() => {
        this.announcing = undefined;
        if (this.announceAgain) {
          this.announceAgain = false;
          this.announce();
        }
      });
  }

  private lookAgainIf(heldBack: boolean): void {
    if (!heldBack) {
      this.retryMs = FIRST_RETRY_MS;
      return;
    }
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.wake();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, this.options.pollIntervalMs);
  }
}

/** One subscriber's queue of the live events its filter matches. */
export class Subscription {
  private queue: VaEvent[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  /** Set when the subscriber fell too far behind: it must re-read the log from its cursor. */
  overflowed = false;

  constructor(
    readonly filter: EventFilter,
    readonly startedAfter: bigint,
    private readonly maxQueued: number,
    private readonly onClose: (s: Subscription) => void,
  ) {}

  offer(event: VaEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.queue = [];
      this.overflowed = true;
    } else {
      this.queue.push(event);
    }
    this.waiter?.();
  }

  /** Takes everything queued so far (possibly nothing). */
  drain(): VaEvent[] {
    const events = this.queue;
    this.queue = [];
    return events;
  }

  /** Resolves when an event arrives, the subscription closes, `signal` aborts or `timeoutMs` passes. */
  wait(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.queue.length > 0 || this.overflowed || this.closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      this.waiter = done;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter?.();
    this.onClose(this);
  }
}
