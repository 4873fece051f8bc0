import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { type DescMessage, type MessageInitShape, type MessageShape, toJsonString } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SANDBOX_DEMO_KEY } from "../config.js";
import {
  type AmountRule,
  CancelVirtualAccountResponseSchema,
  type CreateVirtualAccountRequestSchema,
  CreateVirtualAccountResponseSchema,
  EventType,
  GetPaymentStatusResponseSchema,
  InquiryVirtualAccountResponseSchema,
  type ListVirtualAccountsRequestSchema,
  ListVirtualAccountsResponseSchema,
  type Payment,
  PaymentEventSchema,
  PaymentOutcome,
  SimulatePaymentResponseSchema,
  VaService,
  VaUsage,
  type VirtualAccount,
  VirtualAccountStatus,
} from "../gen/va/v1/va_pb.js";
import { describeError, errorText, rupiah } from "./describe.js";

const USAGE = `va — command-line client of the VA gateway (Connect protocol over HTTP/1.1)

usage: va [options] <command> [arguments] [options]

commands:
  create --bank BCA --name "Budi Santoso" (--amount 25000 | --open | --min 10000 --max 50000)
         [--usage single|multi] [--reference ORDER-1] [--idempotency-key KEY] [--provider NAME]
         [--email ADDR] [--phone +62…] [--suffix DIGITS] [--description TEXT] [--expires-at ISO-TIME]
  inquiry <va-id>                 the VA as recorded
  status <va-id>                  the VA and every payment recorded against it
  cancel <va-id> [--reason TEXT] [--idempotency-key KEY]
  simulate <va-id> [--amount N]   sandbox: the provider's simulator pays the VA and calls back
  watch [<va-id> | --reference REF] [--after CURSOR] [--count N]
                                  print events as they happen, until N payments have arrived
                                  (--count) or Ctrl-C
  list [--status active,paid,…] [--bank BCA] [--provider NAME] [--reference REF]
       [--since ISO-TIME] [--until ISO-TIME] [--limit N] [--page-token TOKEN] [--all]
                                  the VAs of this key, newest first: one page of --limit (default 50,
                                  at most 500) and the token of the next, or every page with --all

options (before or after the command):
  --url URL     gateway address (default $VA_URL or http://127.0.0.1:8080)
  --key KEY     API key (default $VA_API_KEY or the sandbox demo key)
  --json        machine-readable output: one JSON object per line (errors as JSON on stderr)
  --timeout MS  deadline of each unary call (default 30000)
  -h, --help    this text

Times are shown in local time (set TZ to change it); --json keeps the API's UTC timestamps.

exit status: 0 success, 1 the gateway refused or failed (code, message and field are printed),
2 bad command line, 130 interrupted.`;

const COMMON = {
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const COMMANDS = {
  create: {
    bank: { type: "string" },
    name: { type: "string" },
    amount: { type: "string" },
    open: { type: "boolean" },
    min: { type: "string" },
    max: { type: "string" },
    usage: { type: "string" },
    reference: { type: "string" },
    "idempotency-key": { type: "string" },
    provider: { type: "string" },
    email: { type: "string" },
    phone: { type: "string" },
    suffix: { type: "string" },
    description: { type: "string" },
    "expires-at": { type: "string" },
  },
  inquiry: {},
  status: {},
  cancel: { reason: { type: "string" }, "idempotency-key": { type: "string" } },
  simulate: { amount: { type: "string" } },
  watch: { reference: { type: "string" }, after: { type: "string" }, count: { type: "string" } },
  list: {
    status: { type: "string" },
    bank: { type: "string" },
    provider: { type: "string" },
    reference: { type: "string" },
    since: { type: "string" },
    until: { type: "string" },
    limit: { type: "string" },
    "page-token": { type: "string" },
    all: { type: "boolean" },
  },
} as const;

type CommandName = keyof typeof COMMANDS;
type Options = Record<string, string | boolean | undefined>;

/** A mistake on the command line (exit status 2). */
class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborts on Ctrl-C. */
  interrupt: AbortSignal;
}

/**
 * Splits `[global options] <command> [rest]`: only the options every command takes may come before
 * the command; they are handed on with the rest, so they may equally come after it.
 */
function splitCommand(argv: string[]): { leading: string[]; command: string | undefined; rest: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]?.startsWith("-")) {
    const name = argv[i]?.replace(/^--?/, "").split("=")[0] ?? "";
    const option = Object.entries(COMMON).find(([long, o]) => long === name || ("short" in o && o.short === name))?.[1];
    if (!option) return { leading: argv.slice(0, i), command: argv[i], rest: argv.slice(i + 1) };
    i += option.type === "string" && !argv[i]?.includes("=") ? 2 : 1;
  }
  return { leading: argv.slice(0, i), command: argv[i], rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
}

/** Runs one command and returns the exit status. */
async function main(argv: string[], io: Io): Promise<number> {
  const { leading, command, rest } = splitCommand(argv);
  const wantsHelp = leading.some((arg) => arg === "--help" || arg === "-h");
  if (command === "help" || (command === undefined && wantsHelp)) {
    io.out(USAGE);
    return 0;
  }
  if (command === undefined) {
    io.err(USAGE);
    return 2;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    const what = command.startsWith("-")
      ? `option "${command}" before the command (only --url, --key, --json, --timeout and --help may come first)`
      : `command "${command}"`;
    io.err(`va: unknown ${what}\n\n${USAGE}`);
    return 2;
  }
  let json = rest.includes("--json");
  let url = "";
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...COMMON, ...COMMANDS[command as CommandName] },
      allowPositionals: true,
      strict: true,
    });
    const options = values as Options;
    json = options.json === true;
    if (options.help) {
      io.out(USAGE);
      return 0;
    }
    url = text(options.url) ?? io.env.VA_URL ?? "http://127.0.0.1:8080";
    if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
    const key = text(options.key) ?? io.env.VA_API_KEY ?? SANDBOX_DEMO_KEY;
    const timeoutMs = options.timeout === undefined ? 30_000 : Number(whole(options.timeout, "--timeout"));
    const run = new Runner(client(url, key), { json, timeoutMs, io });
    return await run.command(command as CommandName, positionals, options);
  } catch (error) {
    const nodeCode = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof nodeCode === "string" && nodeCode.startsWith("ERR_PARSE_ARGS"))) {
      io.err(`va: ${(error as Error).message}\n(see va --help)`);
      return 2;
    }
    if (error instanceof ConnectError && error.code === Code.Canceled && io.interrupt.aborted) return 130;
    const description = describeError(error);
    if (json) io.err(JSON.stringify({ error: description }));
    else io.err(`va: ${errorText(description)}`);
    if (!json && /ECONNREFUSED|ENOTFOUND/.test(description.message)) io.err(`(is the gateway running at ${url}?)`);
    return 1;
  }
}

function client(baseUrl: string, key: string): Client<typeof VaService> {
  const auth: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${key}`);
    return next(request);
  };
  return createClient(VaService, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [auth] }));
}

const text = (value: string | boolean | undefined): string | undefined => (typeof value === "string" ? value : undefined);

/** A whole number given on the command line, as bigint. */
function whole(value: string | boolean | undefined, flag: string): bigint {
  if (typeof value !== "string" || !/^[0-9]{1,15}$/.test(value))
    throw new UsageError(`${flag} must be a whole number, got "${value ?? ""}"`);
  return BigInt(value);
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0];
}

class Runner {
  constructor(
    private readonly api: Client<typeof VaService>,
    private readonly settings: { json: boolean; timeoutMs: number; io: Io },
  ) {}

  private get call() {
    return { timeoutMs: this.settings.timeoutMs, signal: this.settings.io.interrupt };
  }

  private print<S extends DescMessage>(schema: S, message: MessageShape<S>, human: () => string): void {
    this.settings.io.out(this.settings.json ? toJsonString(schema, message) : human());
  }

  async command(command: CommandName, positionals: string[], options: Options): Promise<number> {
    switch (command) {
      case "create": {
        if (positionals.length > 0) throw new UsageError(`create takes no positional arguments, got "${positionals.join(" ")}"`);
        const response = await this.api.createVirtualAccount(createRequest(options), this.call);
        this.print(CreateVirtualAccountResponseSchema, response, () => vaBlock(response.virtualAccount, response.replayed));
        return 0;
      }
      case "inquiry": {
        const response = await this.api.inquiryVirtualAccount(
          { virtualAccountId: onePositional(positionals, "VA id") },
          this.call,
        );
        this.print(InquiryVirtualAccountResponseSchema, response, () => vaBlock(response.virtualAccount));
        return 0;
      }
      case "status": {
        const response = await this.api.getPaymentStatus({ virtualAccountId: onePositional(positionals, "VA id") }, this.call);
        this.print(GetPaymentStatusResponseSchema, response, () => {
          const payments =
            response.payments.length === 0 ? ["payments    none"] : ["payments", ...response.payments.map(paymentLine)];
          return [vaBlock(response.virtualAccount), ...payments].join("\n");
        });
        return 0;
      }
      case "cancel": {
        const response = await this.api.cancelVirtualAccount(
          {
            virtualAccountId: onePositional(positionals, "VA id"),
            idempotencyKey: text(options["idempotency-key"]) ?? `cli-${randomUUID()}`,
            reason: text(options.reason) ?? "",
          },
          this.call,
        );
        this.print(CancelVirtualAccountResponseSchema, response, () => vaBlock(response.virtualAccount, response.replayed));
        return 0;
      }
      case "simulate": {
        const id = onePositional(positionals, "VA id");
        const amount = options.amount === undefined ? undefined : whole(options.amount, "--amount");
        const response = await this.api.simulatePayment({ virtualAccountId: id, amount }, this.call);
        this.print(
          SimulatePaymentResponseSchema,
          response,
          () =>
            `payment made by the provider's simulator: ${response.providerPaymentReference}\nits callback follows; see it with: va watch ${id}`,
        );
        return 0;
      }
      case "watch":
        return this.watch(positionals, options);
      case "list":
        return this.list(positionals, options);
    }
  }

  private async list(positionals: string[], options: Options): Promise<number> {
    if (positionals.length > 0) throw new UsageError(`list takes no positional arguments, got "${positionals.join(" ")}"`);
    const request = listRequest(options);
    const { io } = this.settings;
    let shown = 0;
    for (;;) {
      const response = await this.api.listVirtualAccounts(request, this.call);
      shown += response.virtualAccounts.length;
      this.print(ListVirtualAccountsResponseSchema, response, () => response.virtualAccounts.map(vaLine).join("\n"));
      if (!response.nextPageToken) break;
      if (options.all !== true) {
        if (!this.settings.json) io.err(`more: add --page-token ${response.nextPageToken} (or --all)`);
        return 0;
      }
      request.pageToken = response.nextPageToken;
    }
    if (!this.settings.json && shown === 0) io.err("no virtual accounts match");
    return 0;
  }

  private async watch(positionals: string[], options: Options): Promise<number> {
    if (positionals.length > 1) throw new UsageError("watch takes at most one VA id");
    const reference = text(options.reference);
    if (positionals[0] && reference) throw new UsageError("watch takes a VA id or --reference, not both");
    const count = options.count === undefined ? undefined : Number(whole(options.count, "--count"));
    const after = options.after === undefined ? "" : whole(options.after, "--after").toString();
    const filter = positionals[0]
      ? { case: "virtualAccountId" as const, value: positionals[0] }
      : reference
        ? { case: "merchantReference" as const, value: reference }
        : { case: undefined };
    const { io } = this.settings;
    if (!this.settings.json) {
      const until = count === undefined ? "Ctrl-C to stop" : `until ${count} payment${count === 1 ? "" : "s"} or Ctrl-C`;
      io.err(`watching ${filter.value ?? "every VA of this key"}… (${until})`);
    }
    let payments = 0;
    if (count === 0) return 0;
    // Leaving the loop early does not end the HTTP request by itself; aborting does.
    const done = new AbortController();
    const signal = AbortSignal.any([io.interrupt, done.signal]);
    try {
      for await (const message of this.api.streamPaymentEvents({ filter, afterCursor: after }, { signal })) {
        if (message.kind.case !== "event") continue;
        const event = message.kind.value;
        this.print(PaymentEventSchema, event, () => eventLine(event));
        if (event.payment && count !== undefined && ++payments >= count) return 0;
      }
      return 0;
    } finally {
      done.abort();
    }
  }
}

function createRequest(options: Options): MessageInitShape<typeof CreateVirtualAccountRequestSchema> {
  const bank = text(options.bank);
  const name = text(options.name);
  if (!bank) throw new UsageError("create needs --bank (e.g. --bank BCA)");
  if (!name) throw new UsageError('create needs --name (the payer\'s name, e.g. --name "Budi Santoso")');
  const usage = text(options.usage) ?? "single";
  if (usage !== "single" && usage !== "multi") throw new UsageError(`--usage must be single or multi, got "${usage}"`);
  const ways = [options.amount !== undefined, options.open === true, options.min !== undefined || options.max !== undefined];
  if (ways.filter(Boolean).length !== 1)
    throw new UsageError("create needs exactly one of --amount N, --open, or --min N --max N");
  let amount: MessageInitShape<typeof CreateVirtualAccountRequestSchema>["amount"];
  if (options.amount !== undefined) amount = { rule: { case: "fixed", value: { amount: whole(options.amount, "--amount") } } };
  else if (options.open) amount = { rule: { case: "open", value: {} } };
  else amount = { rule: { case: "range", value: { min: whole(options.min, "--min"), max: whole(options.max, "--max") } } };
  let expiresAt: Date | undefined;
  const expires = text(options["expires-at"]);
  if (expires !== undefined) {
    expiresAt = new Date(expires);
    if (Number.isNaN(expiresAt.getTime())) throw new UsageError(`--expires-at must be an ISO time, got "${expires}"`);
  }
  return {
    idempotencyKey: text(options["idempotency-key"]) ?? `cli-${randomUUID()}`,
    merchantReference: text(options.reference) ?? `cli-${randomUUID().slice(0, 8)}`,
    provider: text(options.provider) ?? "",
    bankCode: bank,
    usage: usage === "single" ? VaUsage.SINGLE : VaUsage.MULTI,
    amount,
    expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
    customer: { name, email: text(options.email) ?? "", phone: text(options.phone) ?? "" },
    numberSuffix: text(options.suffix) ?? "",
    description: text(options.description) ?? "",
  };
}

function listRequest(options: Options): MessageInitShape<typeof ListVirtualAccountsRequestSchema> {
  const statuses = (text(options.status) ?? "")
    .split(",")
    .filter(Boolean)
    .map((name) => {
      const status = VirtualAccountStatus[name.trim().toUpperCase() as keyof typeof VirtualAccountStatus];
      if (typeof status !== "number" || status === VirtualAccountStatus.UNSPECIFIED) {
        const known = Object.keys(VirtualAccountStatus).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
        throw new UsageError(`--status takes ${known.map((k) => k.toLowerCase()).join(", ")} (comma-separated), got "${name}"`);
      }
      return status;
    });
  const time = (flag: "since" | "until") => {
    const value = text(options[flag]);
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new UsageError(`--${flag} must be an ISO time, got "${value}"`);
    return timestampFromDate(date);
  };
  return {
    statuses,
    bankCode: text(options.bank) ?? "",
    provider: text(options.provider) ?? "",
    merchantReference: text(options.reference) ?? "",
    createdAfter: time("since"),
    createdBefore: time("until"),
    pageSize: options.limit === undefined ? 0 : Number(whole(options.limit, "--limit")),
    pageToken: text(options["page-token"]) ?? "",
  };
}

function amountText(rule: AmountRule | undefined): string {
  switch (rule?.rule.case) {
    case "fixed":
      return `${rupiah(rule.rule.value.amount)} (fixed)`;
    case "range":
      return `${rupiah(rule.rule.value.min)} – ${rupiah(rule.rule.value.max)}`;
    default:
      return "any amount (open)";
  }
}

/** Local time with its UTC offset, e.g. `2026-11-25 22:31:05 +07:00` (TZ decides the zone). */
function when(timestamp: Parameters<typeof timestampDate>[0] | undefined): string {
  if (!timestamp) return "-";
  const date = timestampDate(timestamp);
  const two = (n: number) => String(n).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? "-" : "+"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  return `${day} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`;
}

/** The outcome, with what it means when the payment did not simply pay the bill. */
function outcomeText(outcome: PaymentOutcome): string {
  switch (outcome) {
    case PaymentOutcome.LATE:
      return "LATE (arrived after the VA expired or was cancelled; recorded, the VA stays closed)";
    case PaymentOutcome.REPEATED:
      return "REPEATED (a further payment into a completed single-use VA; recorded)";
    default:
      return PaymentOutcome[outcome] ?? "UNSPECIFIED";
  }
}

function vaBlock(va: VirtualAccount | undefined, replayed = false): string {
  if (!va) return "(no virtual account in the answer)";
  const lines = [
    `${va.id}  ${VirtualAccountStatus[va.status]}${replayed ? "  (replayed: stored answer for this idempotency key)" : ""}`,
    `  VA number   ${va.vaNumber}`,
    `  bank        ${va.bankCode} via ${va.provider}`,
    `  amount      ${amountText(va.amount)}, ${VaUsage[va.usage]?.toLowerCase()} use`,
    `  paid        ${rupiah(va.paidAmount)} in ${va.paymentCount} payment${va.paymentCount === 1 ? "" : "s"}`,
    `  customer    ${va.customer?.name ?? ""}`,
    `  reference   ${va.merchantReference}`,
    `  expires     ${when(va.expiresAt)}`,
  ];
  return lines.join("\n");
}

function vaLine(va: VirtualAccount): string {
  return [
    va.id,
    VirtualAccountStatus[va.status],
    `${va.bankCode}/${va.provider}`,
    va.vaNumber,
    amountText(va.amount),
    va.merchantReference,
    when(va.createdAt),
  ].join("  ");
}

function paymentLine(payment: Payment): string {
  const fee =
    payment.fee === undefined
      ? ""
      : `  fee ${rupiah(payment.fee)}  net ${rupiah(payment.netAmount ?? payment.amount - payment.fee)}`;
  return `  ${payment.id}  ${rupiah(payment.amount)}  ${outcomeText(payment.outcome)}${fee}  paid ${when(payment.paidAt)}  ref ${payment.providerPaymentReference}`;
}

function eventLine(event: MessageShape<typeof PaymentEventSchema>): string {
  const va = event.virtualAccount;
  let line = `#${event.cursor}  ${when(event.occurredAt)}  ${EventType[event.type]}  ${va?.id ?? ""}`;
  if (event.payment) {
    const { amount, fee, netAmount, outcome } = event.payment;
    line += `  ${rupiah(amount)}`;
    if (fee !== undefined) line += ` (fee ${rupiah(fee)}, net ${rupiah(netAmount ?? amount - fee)})`;
    line += ` ${outcomeText(outcome)}`;
  }
  if (va) line += `  → ${VirtualAccountStatus[va.status]}`;
  return line;
}

const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());
process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  interrupt: interrupt.signal,
});
