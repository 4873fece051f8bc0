import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType } from "../src/gen/va/v1/va_pb.js";
import { type DurianpaySimulator, startDurianpaySimulator } from "../src/sandbox/durianpay/simulator.js";
import { vaClient } from "./support/clients.js";
import { createRequest, takeEvents } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

const SERVER_KEY = "dp_test_configured_0123456789";

/** Production wiring: provider accounts from VA_PROVIDERS_FILE, no sandbox kits. */
describe("providers configured from a file", () => {
  const folder = mkdtempSync(join(tmpdir(), "va-providers-"));
  let simulator: DurianpaySimulator;
  let gateway: TestGateway;

  beforeAll(async () => {
    simulator = await startDurianpaySimulator({ serverKey: SERVER_KEY, retryDelaysMs: [50] });
    const file = join(folder, "providers.json");
    writeFileSync(
      file,
      JSON.stringify({ durianpay: { baseUrl: simulator.url, serverKey: SERVER_KEY, providerAccount: "acme" } }),
    );
    gateway = await startTestGateway({
      dialect: "sqlite",
      config: { sandbox: false, providersFile: file, defaultProvider: "durianpay" },
    });
    simulator.setCallbackUrl(`${gateway.url}/webhooks/durianpay`);
  });
  afterAll(async () => {
    await gateway?.stop();
    await simulator?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("issues VAs with the configured account and records its webhooks", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    expect((await client.getCapabilities({})).providers.map((p) => p.provider)).toEqual(["durianpay"]);
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    expect(virtualAccount?.provider).toBe("durianpay");
    simulator.simulatePayment(virtualAccount?.vaNumber ?? "", 25_000n);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: virtualAccount?.id ?? "" } }, 2);
    expect(events[1]?.type).toBe(EventType.PAYMENT_RECEIVED);
    expect(events[1]?.payment?.amount).toBe(25_000n);
  });

  it("refuses to start on a bad file, naming the field and never a secret", async () => {
    const file = join(folder, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({ winpay: { baseUrl: "http://127.0.0.1:1", partnerId: "P", privateKey: "-----SECRET-----" } }),
    );
    const error = await startTestGateway({ dialect: "sqlite", config: { sandbox: false, providersFile: file } }).catch(
      (e: Error) => e,
    );
    expect(String(error)).toContain("winpay.winpayPublicKey");
    expect(String(error)).not.toContain("SECRET");
    const unknown = join(folder, "unknown.json");
    writeFileSync(unknown, JSON.stringify({ xendit: {} }));
    expect(
      String(await startTestGateway({ dialect: "sqlite", config: { providersFile: unknown } }).catch((e: Error) => e)),
    ).toContain('unknown provider "xendit"');
  });
});
