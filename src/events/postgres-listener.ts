import pg from "pg";
import { EVENT_CHANNEL } from "../persistence/repositories/events.js";

/**
 * Keeps one LISTEN connection so commits on any replica wake this process's hub. Reconnects after
 * a failure; the hub's poll covers the time it is down.
 */
export class PostgresEventListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly onNotify: () => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", () => this.onNotify());
    client.on("error", (error) => this.reconnect(error));
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    this.client = client;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private reconnect(error: unknown): void {
    this.onError(error);
    this.client?.end().catch(() => undefined);
    this.client = undefined;
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.start().then(this.onNotify, (e: unknown) => this.reconnect(e));
    }, 1_000);
  }
}
