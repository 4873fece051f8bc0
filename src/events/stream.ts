import type { EventFilter, VaEvent } from "../domain/event.js";
import type { Store } from "../persistence/store.js";
import type { EventHub } from "./hub.js";

export type StreamItem = { kind: "event"; event: VaEvent } | { kind: "heartbeat"; at: Date };

const REPLAY_PAGE = 500;

/**
 * A subscriber's view of the event log: everything after `afterCursor` from storage, then live
 * events, without a gap or a duplicate. Subscribing before the replay closes the race with commits
 * that land during it; sequence numbers de-duplicate the overlap. One generator, no per-wait timer
 * or listener: with tens of thousands of idle streams, each costs only its waiting state.
 */
export async function* followEvents(
  deps: { store: Store; hub: EventHub; heartbeatMs: number },
  filter: EventFilter,
  afterCursor: bigint,
  signal: AbortSignal,
): AsyncGenerator<StreamItem> {
  if (signal.aborted) return;
  const subscription = deps.hub.subscribe(filter, deps.heartbeatMs);
  const end = () => subscription.close();
  signal.addEventListener("abort", end, { once: true });
  let cursor = afterCursor;
  // Replaying (cursor, replayUpTo] from the log; undefined: up to its end (after an overflow).
  let replaying = true;
  let replayUpTo: bigint | undefined = subscription.startedAfter;
  try {
    while (!subscription.isClosed) {
      if (replaying) {
        if (replayUpTo !== undefined && cursor >= replayUpTo) {
          replaying = false;
          continue;
        }
        const page = await deps.store.events.read({ after: cursor, upTo: replayUpTo }, REPLAY_PAGE, filter);
        for (const event of page) {
          cursor = event.sequence;
          yield { kind: "event", event };
        }
        if (page.length < REPLAY_PAGE) {
          if (replayUpTo !== undefined && replayUpTo > cursor) cursor = replayUpTo;
          replaying = false;
        }
        continue;
      }
      await subscription.ready();
      if (subscription.isClosed) return;
      if (subscription.overflowed) {
        subscription.overflowed = false;
        replaying = true;
        replayUpTo = undefined;
        continue;
      }
      const events = subscription.drain();
      const heartbeatAt = subscription.takeHeartbeat();
      if (events.length === 0) {
        if (heartbeatAt) yield { kind: "heartbeat", at: heartbeatAt };
        continue;
      }
      for (const event of events) {
        if (event.sequence <= cursor) continue;
        cursor = event.sequence;
        yield { kind: "event", event };
      }
    }
  } finally {
    signal.removeEventListener("abort", end);
    subscription.close();
  }
}
