import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventFilter } from "../../src/domain/event.js";
import { EventHub } from "../../src/events/hub.js";
import { followEvents, type StreamItem } from "../../src/events/stream.js";
import type { Store } from "../../src/persistence/store.js";
import { openTestStore, virtualAccount } from "../support/app.js";
import { eventually } from "../support/fixtures.js";

const TENANT = "tenant-hub";
const HEARTBEAT_MS = 40;
/** Small, so that a reader that does not keep up overflows after a few events. */
const MAX_QUEUED = 3;

describe("live event streams on the hub", () => {
  let store: Store;
  let close: () => Promise<void>;
  let hub: EventHub;

  beforeAll(async () => {
    ({ store, close } = await openTestStore());
    // A slow poll: delivery rests on the commit wake-up.
    hub = new EventHub(store, { pollIntervalMs: 60_000, maxQueuedPerSubscriber: MAX_QUEUED, onError: () => undefined });
    await hub.start();
  });
  afterAll(async () => {
    hub.stop();
    await close();
  });

  const appendOne = async (): Promise<bigint> => {
    const va = virtualAccount({ provider: "sandbox", createdAt: new Date(), tenantId: TENANT });
    return store.transaction((tx) =>
      tx.events.append({
        tenantId: TENANT,
        type: "VIRTUAL_ACCOUNT_CREATED",
        cause: "RPC",
        occurredAt: va.createdAt,
        virtualAccount: va,
        payment: undefined,
      }),
    );
  };
  const everything: EventFilter = { tenantId: TENANT, kind: "ALL" };
  const follow = (after: bigint, signal: AbortSignal) =>
    followEvents({ store, hub, heartbeatMs: HEARTBEAT_MS }, everything, after, signal);
  /** The next item that is not a heartbeat. */
  const nextEvent = async (stream: AsyncGenerator<StreamItem>) => {
    for (;;) {
      const { value } = await stream.next();
      if (!value || value.kind === "event") return value?.event;
    }
  };

  it("replays from the cursor, then delivers live events once each, also after the reader fell behind", async () => {
    const before = await appendOne();
    const stop = new AbortController();
    const stream = follow(before - 1n, stop.signal);
    expect((await nextEvent(stream))?.sequence).toBe(before);

    // The reader takes nothing while more than its queue holds is committed: it must re-read the log.
    const appended: bigint[] = [];
    for (let i = 0; i < MAX_QUEUED * 3; i++) appended.push(await appendOne());
    await hub.settle();
    const received: bigint[] = [];
    while (received.length < appended.length) received.push((await nextEvent(stream))?.sequence ?? -1n);
    expect(received).toEqual(appended);

    const live = appendOne();
    expect((await nextEvent(stream))?.sequence).toBe(await live);
    stop.abort();
  });

  it("keeps sending every idle stream heartbeats", async () => {
    const cursor = await appendOne();
    const stops = Array.from({ length: 50 }, () => new AbortController());
    const kinds = await Promise.all(
      stops.map(async (stop) => {
        const stream = follow(cursor, stop.signal);
        const first = await stream.next();
        const second = await stream.next();
        stop.abort();
        return [first.value?.kind, second.value?.kind];
      }),
    );
    expect(kinds).toEqual(stops.map(() => ["heartbeat", "heartbeat"]));
  });

  it("ends a waiting stream when its signal aborts, and drops its subscription", async () => {
    const stop = new AbortController();
    const stream = follow(await appendOne(), stop.signal);
    const waiting = stream.next();
    await eventually(async () => (hub.subscriberCount === 1 ? true : undefined));
    stop.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(hub.subscriberCount).toBe(0);
  });
});
