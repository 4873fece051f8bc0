import { type EventFilter, eventKeys, filterKey, type VaEvent } from "../domain/event.js";
import type { Store } from "../persistence/store.js";

const PAGE_SIZE = 500;

/**
 * Reads the event log once for the whole process and hands each new event to the subscribers whose
 * filter matches, in sequence order. Woken by commits (in-process, or PostgreSQL NOTIFY from other
 * replicas) and by a slow poll as a safety net.
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

  constructor(
    private readonly store: Store,
    private readonly options: { pollIntervalMs: number; maxQueuedPerSubscriber: number; onError: (e: unknown) => void },
  ) {}

  async start(): Promise<void> {
    this.position = await this.store.events.lastSequence();
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
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
      for (;;) {
        const events = await this.store.events.read({ after: this.position }, PAGE_SIZE);
        for (const event of events) {
          this.position = event.sequence;
          for (const key of eventKeys(event)) {
            const group = this.subscriptions.get(key);
            if (group) for (const subscription of group) subscription.offer(event);
          }
        }
        if (events.length < PAGE_SIZE) break;
      }
      this.failures = 0;
    } catch (error) {
      // The poll timer retries; report once per outage rather than on every tick.
      if (this.failures++ === 0) this.options.onError(error);
    }
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
