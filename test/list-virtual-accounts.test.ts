import { randomBytes } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VirtualAccount as DomainVa, VaStatus } from "../src/domain/virtual-account.js";
import {
  ErrorDetailSchema,
  type ListVirtualAccountsRequestSchema,
  type VaService,
  VirtualAccountStatus,
} from "../src/gen/va/v1/va_pb.js";
import { Store } from "../src/persistence/store.js";
import { vaClient } from "./support/clients.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { createRequest } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestDialect, type TestGateway } from "./support/gateway.js";

type ListInit = MessageInitShape<typeof ListVirtualAccountsRequestSchema>;

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] ListVirtualAccounts on PostgreSQL: ${postgresSkip}`);

const STATUSES: VaStatus[] = ["ACTIVE", "INQUIRED", "PAID", "COMPLETED", "EXPIRED", "CANCELLED"];
const BANKS = ["BCA", "BNI", "BRI", "MANDIRI"];
const PROVIDERS = ["sandbox", "winpay", "doku"];
/** Seeded VAs start here, one minute apart, three at a time sharing a creation time. */
const SEED_START = Date.parse("2026-11-01T00:00:00Z");
const ALPHA_SEEDED = 530;
const BETA_SEEDED = 20;

/** A stored VA as the create use case would leave it; only the listed columns vary. */
function seededVa(tenantId: string, index: number): DomainVa {
  const createdAt = new Date(SEED_START + Math.floor(index / 3) * 60_000);
  return {
    id: `va_${randomBytes(16).toString("hex")}`,
    tenantId,
    merchantReference: `seed-${index % 10}`,
    provider: PROVIDERS[index % PROVIDERS.length] as string,
    providerAccount: "acct",
    providerReference: `ref-${tenantId}-${index}`,
    providerVaId: undefined,
    bankCode: BANKS[index % BANKS.length] as string,
    vaNumber: `8800${String(index).padStart(10, "0")}`,
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    status: STATUSES[index % STATUSES.length] as VaStatus,
    expiresAt: new Date(createdAt.getTime() + 86_400_000),
    customer: { name: "Budi", email: "", phone: "" },
    description: "",
    paidAmount: 0n,
    paymentCount: 0,
    createdAt,
    updatedAt: createdAt,
  };
}

const newestFirst = (a: Pick<DomainVa, "createdAt" | "id">, b: Pick<DomainVa, "createdAt" | "id">) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function rpcFailure(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the RPC to fail");
}

describe.each<TestDialect>(["sqlite", "postgresql"])("ListVirtualAccounts on %s", (dialect) => {
  const skip = dialect === "postgresql" && postgresSkip !== undefined;
  let gateway: TestGateway;
  let alpha: Client<typeof VaService>;
  let beta: Client<typeof VaService>;
  /** Every VA of alpha in the order the list must give, with the fields the filters look at. */
  let alphaVas: {
    id: string;
    createdAt: Date;
    status: VaStatus;
    bankCode: string;
    provider: string;
    merchantReference: string;
  }[] = [];
  let betaIds: string[] = [];

  /** Every page of a listing, following next_page_token to the end. */
  async function listAll(client: Client<typeof VaService>, request: ListInit): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.listVirtualAccounts({ ...request, pageToken });
      ids.push(...page.virtualAccounts.map((va) => va.id));
      pageToken = page.nextPageToken;
      pages++;
      expect(pages).toBeLessThan(1_000);
    } while (pageToken);
    return { ids, pages };
  }

  beforeAll(async () => {
    if (skip) return;
    gateway = await startTestGateway({ dialect });
    alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
    beta = vaClient(gateway.url, TENANTS.beta.apiKey, "grpc");
    const seeded = [
      ...Array.from({ length: ALPHA_SEEDED }, (_, i) => seededVa(TENANTS.alpha.tenantId, i)),
      ...Array.from({ length: BETA_SEEDED }, (_, i) => seededVa(TENANTS.beta.tenantId, i)),
    ];
    const store = new Store(gateway.database);
    await store.transaction(async (tx) => {
      for (const va of seeded) await tx.virtualAccounts.insert(va);
    });
    // And a few made through the API, as callers make them.
    const created = [];
    for (const bankCode of ["BCA", "BNI", "BCA"]) {
      const { virtualAccount } = await alpha.createVirtualAccount(createRequest({ bankCode, merchantReference: "live-1" }));
      if (!virtualAccount?.createdAt) throw new Error("no VA in the answer");
      created.push({
        id: virtualAccount.id,
        createdAt: new Date(Number(virtualAccount.createdAt.seconds) * 1000 + virtualAccount.createdAt.nanos / 1e6),
        status: "ACTIVE" as VaStatus,
        bankCode,
        provider: virtualAccount.provider,
        merchantReference: "live-1",
      });
    }
    alphaVas = [...seeded.filter((va) => va.tenantId === TENANTS.alpha.tenantId), ...created].sort(newestFirst);
    betaIds = seeded.filter((va) => va.tenantId === TENANTS.beta.tenantId).map((va) => va.id);
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
  });

  it.skipIf(skip)(
    "pages through every VA exactly once, newest first (created_at, then id), and the last page has no token",
    async () => {
      const { ids, pages } = await listAll(alpha, { pageSize: 37 });
      expect(ids).toEqual(alphaVas.map((va) => va.id));
      expect(pages).toBe(Math.ceil(alphaVas.length / 37));
    },
  );

  it.skipIf(skip)("page_size: 0 means 50, above 500 is clamped to 500", async () => {
    const first = await alpha.listVirtualAccounts({});
    expect(first.virtualAccounts).toHaveLength(50);
    expect(first.nextPageToken).not.toBe("");
    const clamped = await alpha.listVirtualAccounts({ pageSize: 100_000 });
    expect(clamped.virtualAccounts.map((va) => va.id)).toEqual(alphaVas.slice(0, 500).map((va) => va.id));
    const rest = await alpha.listVirtualAccounts({ pageSize: 100_000, pageToken: clamped.nextPageToken });
    expect(rest.virtualAccounts.map((va) => va.id)).toEqual(alphaVas.slice(500).map((va) => va.id));
    expect(rest.nextPageToken).toBe("");
  });

  const FILTERS: [string, ListInit, (va: (typeof alphaVas)[number]) => boolean][] = [
    [
      "statuses",
      { statuses: [VirtualAccountStatus.CANCELLED, VirtualAccountStatus.EXPIRED] },
      (va) => va.status === "CANCELLED" || va.status === "EXPIRED",
    ],
    ["bank_code", { bankCode: "BNI" }, (va) => va.bankCode === "BNI"],
    ["provider", { provider: "winpay" }, (va) => va.provider === "winpay"],
    ["merchant_reference", { merchantReference: "seed-3" }, (va) => va.merchantReference === "seed-3"],
    [
      "created-at range (from inclusive, before exclusive)",
      {
        createdAfter: timestampFromDate(new Date(SEED_START + 30 * 60_000)),
        createdBefore: timestampFromDate(new Date(SEED_START + 90 * 60_000)),
      },
      (va) => va.createdAt.getTime() >= SEED_START + 30 * 60_000 && va.createdAt.getTime() < SEED_START + 90 * 60_000,
    ],
    [
      "all of them together",
      {
        statuses: [VirtualAccountStatus.ACTIVE, VirtualAccountStatus.PAID],
        bankCode: "BCA",
        provider: "sandbox",
        createdBefore: timestampFromDate(new Date(SEED_START + 150 * 60_000)),
      },
      (va) =>
        ["ACTIVE", "PAID"].includes(va.status) &&
        va.bankCode === "BCA" &&
        va.provider === "sandbox" &&
        va.createdAt.getTime() < SEED_START + 150 * 60_000,
    ],
  ];

  it.skipIf(skip).each(FILTERS)("filter %s: every match once, in order, nothing else", async (_name, filter, matches) => {
    const expected = alphaVas.filter(matches).map((va) => va.id);
    expect(expected.length).toBeGreaterThan(7);
    const { ids } = await listAll(alpha, { ...filter, pageSize: 7 });
    expect(ids).toEqual(expected);
  });

  it.skipIf(skip)("another tenant's VAs never appear, and its page tokens do not work here", async () => {
    const { ids } = await listAll(beta, { pageSize: 6 });
    expect(ids.sort()).toEqual([...betaIds].sort());
    const alphaPage = await alpha.listVirtualAccounts({ pageSize: 5 });
    const error = await rpcFailure(() => beta.listVirtualAccounts({ pageSize: 5, pageToken: alphaPage.nextPageToken }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(ErrorDetailSchema).map((d) => d.field)).toEqual(["page_token"]);
  });

  it.skipIf(skip)(
    "a page token sent with other filters, or one the service never issued → INVALID_ARGUMENT naming page_token",
    async () => {
      const page = await alpha.listVirtualAccounts({ pageSize: 5, bankCode: "BCA" });
      const token = page.nextPageToken;
      const tampered = Buffer.from(
        Buffer.from(token, "base64url")
          .toString("utf8")
          .replace(/"f":"[^"]*"/, '"f":"x"'),
      ).toString("base64url");
      for (const request of [
        { pageToken: token, bankCode: "BNI" },
        { pageToken: token },
        { pageToken: token, bankCode: "BCA", statuses: [VirtualAccountStatus.ACTIVE] },
        { pageToken: "not-a-token" },
        { pageToken: "!!" },
        { pageToken: Buffer.from("[1,2]").toString("base64url") },
        { pageToken: tampered, bankCode: "BCA" },
      ]) {
        const error = await rpcFailure(() => alpha.listVirtualAccounts(request));
        expect(error.code, `${JSON.stringify(request)}: ${error.rawMessage}`).toBe(Code.InvalidArgument);
        expect(error.findDetails(ErrorDetailSchema).map((d) => d.field)).toEqual(["page_token"]);
        expect(error.rawMessage).toMatch(/^page_token/);
      }
      // The same filters (page size may change between pages) carry on.
      const next = await alpha.listVirtualAccounts({ pageSize: 3, bankCode: "BCA", pageToken: token });
      expect(next.virtualAccounts.every((va) => va.bankCode === "BCA")).toBe(true);
    },
  );

  it.skipIf(skip).each<[string, string, ListInit]>([
    ["a negative page_size", "page_size", { pageSize: -1 }],
    ["a lower-case bank_code", "bank_code", { bankCode: "bca" }],
    ["a malformed provider", "provider", { provider: "Sandbox!" }],
    ["an unspecified status", "statuses[0]", { statuses: [VirtualAccountStatus.UNSPECIFIED] }],
    ["a status that does not exist", "statuses[1]", { statuses: [VirtualAccountStatus.ACTIVE, 42 as VirtualAccountStatus] }],
    ["a merchant_reference over 64 characters", "merchant_reference", { merchantReference: "r".repeat(65) }],
  ])("%s → INVALID_ARGUMENT naming %s", async (_name, field, request) => {
    const error = await rpcFailure(() => alpha.listVirtualAccounts(request));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage.startsWith(field)).toBe(true);
  });

  it.skipIf(skip)("created_after not before created_before → INVALID_ARGUMENT", async () => {
    const at = timestampFromDate(new Date(SEED_START));
    const error = await rpcFailure(() => alpha.listVirtualAccounts({ createdAfter: at, createdBefore: at }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("created_after must be before created_before.");
  });

  it.skipIf(skip)("the (tenant_id, created_at, id) index serves the listing and the page bound, with no sort step", async () => {
    const connection = gateway.database.orm.em.fork().getConnection();
    const query =
      "select * from \"virtual_account\" where \"tenant_id\" = 'alpha' and \"status\" in ('ACTIVE', 'PAID') " +
      `and ("created_at", "id") < (${dialect === "sqlite" ? SEED_START + 100 * 60_000 : "'2026-11-01T01:40:00Z'"}, 'va_f') ` +
      'order by "created_at" desc, "id" desc limit 51';
    if (dialect === "sqlite") {
      const plan = (await connection.execute<{ detail: string }[]>(`explain query plan ${query}`))
        .map((row) => row.detail)
        .join("\n");
      expect(plan).toMatch(
        /SEARCH virtual_account USING INDEX virtual_account_tenant_created_idx \(tenant_id=\? AND \(created_at,id\)<\(\?,\?\)\)/,
      );
      expect(plan).not.toMatch(/TEMP B-TREE/);
    } else {
      await connection.execute("analyze virtual_account");
      const plan = (await connection.execute<{ "QUERY PLAN": string }[]>(`explain ${query}`))
        .map((row) => row["QUERY PLAN"])
        .join("\n");
      expect(plan).toMatch(/Index Scan Backward using virtual_account_tenant_created_idx/);
      expect(plan).toMatch(/Index Cond: .*ROW\(created_at, \(id\)::text\) < ROW/);
      expect(plan).not.toMatch(/Sort/);
    }
  });
});
