/** IPC messages between bench/run.ts and its child processes. */

export interface SeededVa {
  id: string;
  vaNumber: string;
  providerReference: string;
}

export type ServerRequest =
  | { rid: number; cmd: "seed"; count: number; tenantId: string; merchantId: string }
  | { rid: number; cmd: "stats" }
  | { rid: number; cmd: "stop" };

export interface ServerReply {
  rid: number;
  ok: boolean;
  error?: string;
  ready?: boolean;
  url?: string;
  pid?: number;
  vas?: SeededVa[];
  /** After "seed": the newest event's sequence (a resume cursor past the seeded CREATED events). */
  cursor?: string;
  rss?: number;
  heapUsed?: number;
  subscribers?: number;
  /** Event-loop delay since the previous "stats" (ms): how long ready work waited for the loop. */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** Garbage-collection pauses since the previous "stats" (ms). */
  gcPauseMaxMs?: number;
  gcPauseTotalMs?: number;
}

/** bench/subscribers.ts */
export type SubscriberRequest =
  | {
      rid: number;
      cmd: "open";
      url: string;
      apiKey: string;
      virtualAccountIds: string[];
      streamsPerConnection: number;
      /** Resume after this cursor (as a reconnecting subscriber does): no replay from the log. */
      afterCursor: string;
      /** performance.timeOrigin-based µs that amount 0 stands for (see run.ts `amountFor`). */
      baseMicros: number;
    }
  | { rid: number; cmd: "reset" }
  | { rid: number; cmd: "report" }
  | { rid: number; cmd: "close" };

export interface SubscriberReply {
  rid: number;
  ok: boolean;
  error?: string;
  ready?: boolean;
  /** Streams that ended with an error or a non-OK status (not counting those the bench closed). */
  failed?: number;
  /** Delivery latencies (ms) of PAYMENT_RECEIVED events since the last reset. */
  latenciesMs?: number[];
  rss?: number;
}
