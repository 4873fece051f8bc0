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
  /** One heartbeat timer per interval in use (in practice one), rather than one per subscription. */
  private readonly clocks = new Map<number, HeartbeatClock>();

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
   * Starts delivering every matching event after the hub's current position, and a heartbeat
   * whenever the subscription had nothing to deliver for `heartbeatMs`. The returned subscription's
   * `startedAfter` tells the reader up to where it must replay from the log itself.
   */
  subscribe(filter: EventFilter, heartbeatMs: number): Subscription {
    const key = filterKey(filter);
    let clock = this.clocks.get(heartbeatMs);
    if (!clock) {
      clock = new HeartbeatClock(heartbeatMs, () => this.clocks.delete(heartbeatMs));
      this.clocks.set(heartbeatMs, clock);
    }
    const subscription = new Subscription(filter, this.position, this.options.maxQueuedPerSubscriber, clock, (s) => {
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

/** Subscriptions woken per turn of the event loop: a tick due for many streams does not stall the others. */
const HEARTBEATS_PER_TURN = 200;

/**
 * Sends heartbeats for every subscription of one interval from a single timer. Subscriptions are
 * kept in order of last activity (a Map iterates in insertion order, and activity re-inserts), so
 * a tick visits only those that are due, plus one.
 */
class HeartbeatClock {
  private readonly lastActive = new Map<Subscription, number>();
  private timer: NodeJS.Timeout | undefined;
  private nextTurn: NodeJS.Immediate | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onEmpty: () => void,
  ) {}

  touch(subscription: Subscription): void {
    this.lastActive.delete(subscription);
    this.lastActive.set(subscription, performance.now());
    if (this.timer) return;
    // Due streams get their heartbeat between 1 and 1.1 intervals after their last message.
    this.timer = setInterval(() => this.wakeDue(), Math.max(1, Math.round(this.intervalMs / 10)));
    this.timer.unref();
  }

  remove(subscription: Subscription): void {
    if (!this.lastActive.delete(subscription) || this.lastActive.size > 0) return;
    clearInterval(this.timer);
    clearImmediate(this.nextTurn);
    this.timer = undefined;
    this.nextTurn = undefined;
    this.onEmpty();
  }

  private wakeDue(): void {
    if (this.nextTurn) return;
    const now = performance.now();
    const at = new Date();
    let woken = 0;
    for (const [subscription, since] of this.lastActive) {
      if (now - since < this.intervalMs) return;
      if (woken++ === HEARTBEATS_PER_TURN) {
        this.nextTurn = setImmediate(() => {
          this.nextTurn = undefined;
          this.wakeDue();
        });
        return;
      }
      subscription.heartbeat(at);
    }
  }
}

/** One subscriber's queue of the live events its filter matches, and its heartbeat. */
export class Subscription {
  private queue: VaEvent[] = [];
  private wakeReader: (() => void) | undefined;
  private closed = false;
  /** Set when the subscriber fell too far behind: it must re-read the log from its cursor. */
  overflowed = false;
  /** Set when nothing was delivered for a heartbeat interval: the time to put in the heartbeat. */
  private heartbeatAt: Date | undefined;

  constructor(
    readonly filter: EventFilter,
    readonly startedAfter: bigint,
    private readonly maxQueued: number,
    private readonly clock: HeartbeatClock,
    private readonly onClose: (s: Subscription) => void,
  ) {
    clock.touch(this);
  }

  offer(event: VaEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.queue = [];
      this.overflowed = true;
    } else {
      this.queue.push(event);
    }
    this.clock.touch(this);
    this.wake();
  }

  heartbeat(at: Date): void {
    this.heartbeatAt = at;
    this.clock.touch(this);
    this.wake();
  }

  /** Takes everything queued so far (possibly nothing). */
  drain(): VaEvent[] {
    const events = this.queue;
    this.queue = [];
    return events;
  }

  /** The time of the heartbeat due, if one is; clears it (events delivered instead also count). */
  takeHeartbeat(): Date | undefined {
    const at = this.heartbeatAt;
    this.heartbeatAt = undefined;
    return at;
  }

  /** Resolves when there is something to take (events, an overflow, a heartbeat) or the subscription closed. */
  ready(): Promise<void> {
    if (this.queue.length > 0 || this.overflowed || this.heartbeatAt || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeReader = resolve;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.clock.remove(this);
    this.wake();
    this.onClose(this);
  }

  private wake(): void {
    const wakeReader = this.wakeReader;
    this.wakeReader = undefined;
    wakeReader?.();
  }
}
