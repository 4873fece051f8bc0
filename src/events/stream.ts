import type { EventFilter, VaEvent } from "../domain/event.js";
import type { Store } from "../persistence/store.js";
import type { EventHub } from "./hub.js";

export type StreamItem = { kind: "event"; event: VaEvent } | { kind: "heartbeat"; at: Date };

const REPLAY_PAGE = 500;

/**
 * A subscriber's view of the event log: everything after `afterCursor` from storage, then live
 * events, without a gap or a duplicate. Subscribing before the replay closes the race with commits
 * that land during it; sequence numbers de-duplicate the overlap.
 */
export async function* followEvents(
  deps: { store: Store; hub: EventHub; heartbeatMs: number },
  filter: EventFilter,
  afterCursor: bigint,
  signal: AbortSignal,
): AsyncGenerator<StreamItem> {
  const subscription = deps.hub.subscribe(filter);
  let cursor = afterCursor;
  try {
    cursor = yield* replay(deps.store, filter, cursor, subscription.startedAfter);
    while (!signal.aborted && !subscription.isClosed) {
      await subscription.wait(signal, deps.heartbeatMs);
      if (signal.aborted || subscription.isClosed) return;
      if (subscription.overflowed) {
        subscription.overflowed = false;
        cursor = yield* replay(deps.store, filter, cursor, undefined);
        continue;
      }
      const events = subscription.drain();
      if (events.length === 0) {
        yield { kind: "heartbeat", at: new Date() };
        continue;
      }
      for (const event of events) {
        if (event.sequence <= cursor) continue;
        cursor = event.sequence;
        yield { kind: "event", event };
      }
    }
  } finally {
    subscription.close();
  }
}

async function* replay(
  store: Store,
  filter: EventFilter,
  after: bigint,
  upTo: bigint | undefined,
): AsyncGenerator<StreamItem, bigint> {
  let cursor = after;
  for (;;) {
    if (upTo !== undefined && cursor >= upTo) return cursor;
    const page = await store.events.read({ after: cursor, upTo }, REPLAY_PAGE, filter);
    for (const event of page) {
      cursor = event.sequence;
      yield { kind: "event", event };
    }
    if (page.length < REPLAY_PAGE) return upTo !== undefined && upTo > cursor ? upTo : cursor;
  }
}
