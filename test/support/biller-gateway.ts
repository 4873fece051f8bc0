import { snapBillerSettings } from "../../src/providers/snap-biller/settings.js";
import { vaClient } from "./clients.js";
import { createRequest } from "./fixtures.js";
import { startTestGateway, TENANTS, type TestDialect } from "./gateway.js";

/**
 * A gateway in sandbox mode on a controlled clock with the SNAP biller (bank BCA calling as
 * BANK-TEST), and the bank simulator that calls it. The periodic jobs stay out of the way; the tests
 * run the status poller themselves. With `bankCreateVaPath` VAs are registered at the bank.
 */
export async function startBillerGateway(dialect: TestDialect, biller: { partnerServiceId: string; bankCreateVaPath?: string }) {
  const gateway = await startTestGateway({
    dialect,
    controlledClock: true,
    config: {
      snapBiller: snapBillerSettings({ bankCode: "BCA", bankPartnerId: "BANK-TEST", statusIntervalMs: 3_600_000, ...biller }),
    },
    overrides: { simulatorRetryDelaysMs: [20, 40] },
  });
  const bank = gateway.snapBiller?.kit.bankSimulator;
  if (!bank) throw new Error("sandbox snap-biller should come with a bank simulator");
  const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  return {
    gateway,
    client,
    bank,
    async newVa(overrides: Parameters<typeof createRequest>[0] = {}) {
      const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider: "snap-biller", ...overrides }));
      if (!virtualAccount) throw new Error("no VA");
      return virtualAccount;
    },
    payments: async (id: string) => (await client.getPaymentStatus({ virtualAccountId: id })).payments,
  };
}

export type BillerGateway = Awaited<ReturnType<typeof startBillerGateway>>;
