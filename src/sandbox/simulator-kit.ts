import { once, setMaxListeners } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Rupiah } from "../domain/money.js";
import { snapAnswer } from "../protocols/snap/answer.js";
import { newExternalId } from "../protocols/snap/headers.js";
import { SnapOutcomes } from "../protocols/snap/response-code.js";
import { type SnapKey, signAsymmetric } from "../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../protocols/snap/timestamp.js";
import type { HttpAnswer, InboundHttpRequest } from "../providers/provider.js";
import { parseJsonObject } from "../providers/shared/wire-helpers.js";
import type { ProviderMisbehaviour } from "./kit.js";

/** Shared plumbing for provider simulators: an HTTP server and a callback sender with retries. */

export interface SimulatorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

export interface SimulatorResponse {
  status: number;
  /** Serialised as JSON unless already a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
}

/**
 * The part of every simulator's handle that is about its callbacks and its life: what it delivered,
 * waiting until nothing is in flight, and shutting down (sender first, so no retry outlives the server).
 */
export function callbackLifecycle(server: RunningSimulator, sender: Pick<CallbackSender, "records" | "idle" | "close">) {
  return {
    deliveries: sender.records,
    idle: () => sender.idle(),
    async close() {
      sender.close();
      await server.close();
    },
  };
}

/** A request to a simulator as our adapters' inbound verifiers read one (SNAP simulators verify us with them). */
export function inboundRequest(request: SimulatorRequest): InboundHttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  return { method: request.method, path: request.path, headers, rawBody: request.rawBody };
}

/** A SNAP answer (built by the protocol's own answer helpers) as the simulator's response. */
export const simulatorResponse = (answer: HttpAnswer): SimulatorResponse => ({
  status: answer.status,
  body: answer.body,
  headers: { "content-type": answer.contentType },
});

/** A SNAP simulator's refusal, thrown from anywhere in a route and answered as it stands. */
export class SnapRefusal extends Error {
  constructor(readonly answer: HttpAnswer) {
    super(answer.body);
  }
}

/** Answers a verified SNAP request: a body that is not a JSON object is `400xx00`, a thrown `SnapRefusal` its answer. */
export async function answerSnapRoute(
  rawBody: Buffer,
  serviceCode: string,
  route: (body: Record<string, unknown>) => HttpAnswer | Promise<HttpAnswer>,
): Promise<SimulatorResponse> {
  const body = parseJsonObject(rawBody);
  if (!body) return simulatorResponse(snapAnswer(SnapOutcomes.badRequest, serviceCode));
  try {
    return simulatorResponse(await route(body));
  } catch (error) {
    if (error instanceof SnapRefusal) return simulatorResponse(error.answer);
    throw error;
  }
}

/**
 * A lost create answer. The simulator server cannot drop a connection mid-answer, so a proxy's
 * timeout page stands in: either way the merchant never sees the VA the provider opened.
 */
export const LOST_CREATE_ANSWER: HttpAnswer = {
  status: 504,
  contentType: "text/html",
  body: "<html><body>504 Gateway Time-out</body></html>",
};

/** A simulator's create switches, as `ProviderMisbehaviour` describes them. */
export type CreateMisbehaviour = Omit<ProviderMisbehaviour, "reissueNumberOnNextCreate" | "payOtherThanBill">;
export type NumberReissuingCreateMisbehaviour = CreateMisbehaviour &
  Required<Pick<ProviderMisbehaviour, "reissueNumberOnNextCreate">>;

/** What is armed for the next create; taking it disarms every switch. */
export interface NextCreate {
  loseAnswer: boolean;
  payFirst: Rupiah | undefined;
  /** The number to give again (always undefined where the simulator reissues none). */
  reissue: string | undefined;
}

interface CreateSwitches<Misbehaviour> {
  misbehaviour: Misbehaviour;
  takeNextCreate(): NextCreate;
}

/**
 * The misbehaviour switches around a simulator's create and its callbacks. `reissuesNumbers: false`
 * leaves `reissueNumberOnNextCreate` out, for a provider that documents no reissued numbers.
 */
export function createSwitches(
  callbacks: Pick<CallbackSender, "hold" | "deliverHeld">,
): CreateSwitches<NumberReissuingCreateMisbehaviour>;
export function createSwitches(
  callbacks: Pick<CallbackSender, "hold" | "deliverHeld">,
  options: { reissuesNumbers: false },
): CreateSwitches<CreateMisbehaviour>;
export function createSwitches(
  callbacks: Pick<CallbackSender, "hold" | "deliverHeld">,
  { reissuesNumbers = true }: { reissuesNumbers?: boolean } = {},
): CreateSwitches<CreateMisbehaviour | NumberReissuingCreateMisbehaviour> {
  const disarmed = (): NextCreate => ({ loseAnswer: false, payFirst: undefined, reissue: undefined });
  let armed = disarmed();
  const misbehaviour: CreateMisbehaviour = {
    holdCallbacks: (held) => callbacks.hold(held),
    deliverHeldCallbacks: () => callbacks.deliverHeld(),
    loseNextCreateAnswer: () => {
      armed.loseAnswer = true;
    },
    payBeforeNextCreateAnswer: (amount) => {
      armed.payFirst = amount;
    },
  };
  const reissueNumberOnNextCreate = (vaNumber: string) => {
    armed.reissue = vaNumber;
  };
  return {
    misbehaviour: reissuesNumbers ? { ...misbehaviour, reissueNumberOnNextCreate } : misbehaviour,
    takeNextCreate() {
      const taken = armed;
      armed = disarmed();
      return taken;
    },
  };
}

const MAX_BODY_BYTES = 1 << 20;

export async function startSimulatorServer(
  handle: (request: SimulatorRequest) => Promise<SimulatorResponse> | SimulatorResponse,
  port = 0,
): Promise<RunningSimulator> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { "content-type": "application/json" }).end('{"error":"PAYLOAD_TOO_LARGE"}');
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const url = new URL(req.url ?? "/", "http://simulator");
    let answer: SimulatorResponse;
    try {
      answer = await handle({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody: Buffer.concat(chunks),
      });
    } catch {
      answer = { status: 500, body: { error: "SIMULATOR_FAILURE" } };
    }
    const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(body);
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CallbackDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A SNAP payment callback stamped `at` and signed with the provider's private key over the URL's
 * path, as a test delivers it to us. Default X-EXTERNAL-ID: 30 digits (`newExternalId`).
 */
export function signedSnapCallback(
  to: { url: string; partnerId: string; channelId: string },
  body: string,
  at: Date,
  privateKey: SnapKey,
  options: { externalId?: string; encodeSignature?: (base64: string) => string } = {},
): CallbackDelivery {
  const timestamp = formatSnapTimestamp(at);
  const signature = signAsymmetric({ method: "POST", path: new URL(to.url).pathname, body, timestamp }, privateKey);
  return {
    url: to.url,
    body,
    headers: {
      "content-type": "application/json",
      "x-timestamp": timestamp,
      "x-partner-id": to.partnerId,
      "x-external-id": options.externalId ?? newExternalId(at),
      "x-signature": options.encodeSignature?.(signature) ?? signature,
      "channel-id": to.channelId,
    },
  };
}

export interface DeliveryRecord {
  delivery: CallbackDelivery;
  attempts: number;
  acknowledged: boolean;
  lastStatus: number | undefined;
}

/**
 * Sends callbacks the way providers do: POST, and on anything but 2xx (or no answer) try again
 * after each delay of the schedule. `sign` is called per attempt so each carries a fresh timestamp.
 */
export class CallbackSender {
  readonly records: DeliveryRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private holding = false;
  private readonly held: CallbackDelivery[] = [];

  constructor(private readonly retryDelaysMs: readonly number[]) {
    // Every pending delivery listens to the stop signal; there may be many at once.
    setMaxListeners(0, this.stop.signal);
  }

  send(build: () => CallbackDelivery): DeliveryRecord {
    const record: DeliveryRecord = { delivery: build(), attempts: 0, acknowledged: false, lastStatus: undefined };
    if (this.holding) {
      this.held.push(record.delivery);
      return record;
    }
    this.records.push(record);
    const run = this.run(record, build).finally(() => this.pending.delete(run));
    this.pending.add(run);
    return record;
  }

  /** While holding, callbacks are built (timestamped and signed now) but kept instead of sent. */
  hold(holding: boolean): void {
    this.holding = holding;
  }

  /** Sends each held callback once, byte for byte as built: a late retry with its original timestamp. */
  async deliverHeld(): Promise<{ status: number; body: string }[]> {
    const answers: { status: number; body: string }[] = [];
    for (const delivery of this.held.splice(0)) {
      this.records.push({ delivery, attempts: 1, acknowledged: false, lastStatus: undefined });
      const response = await fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body });
      answers.push({ status: response.status, body: await response.text() });
    }
    return answers;
  }

  /** Resolves once every delivery has been acknowledged or has run out of retries. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Abandons every retry still waiting. */
  close(): void {
    this.stop.abort();
  }

  private async run(record: DeliveryRecord, build: () => CallbackDelivery): Promise<void> {
    const stopped = this.stop.signal;
    for (let attempt = 0; attempt <= this.retryDelaysMs.length && !stopped.aborted; attempt++) {
      if (attempt > 0) await delay(this.retryDelaysMs[attempt - 1] ?? 0, stopped);
      if (stopped.aborted) return;
      const delivery = attempt === 0 ? record.delivery : build();
      record.delivery = delivery;
      record.attempts++;
      try {
        const response = await fetch(delivery.url, {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
          signal: AbortSignal.any([AbortSignal.timeout(10_000), stopped]),
        });
        await response.arrayBuffer();
        record.lastStatus = response.status;
        if (response.status >= 200 && response.status < 300) {
          record.acknowledged = true;
          return;
        }
      } catch {
        record.lastStatus = undefined;
      }
    }
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
