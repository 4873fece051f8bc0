import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_DEMO_KEY } from "../../src/config.js";
import { AmountType, PaymentOutcome, VaUsage, VirtualAccountStatus } from "../../src/gen/va/v1/va_pb.js";
import { vaClient } from "../support/clients.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../artifacts/", import.meta.url));
const skipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium; .ci/run installs it)`;
if (skipReason) console.warn(`[skip] browser (Connect-Web) page test: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("sandbox page in headless Chromium (Connect-Web)", () => {
  let gateway: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect: "sqlite",
      // The page starts with the public sandbox demo key, as `npm start` would accept it.
      config: { apiKeys: [TENANTS.alpha, { tenantId: "demo", apiKey: SANDBOX_DEMO_KEY }] },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it("creates a VA, simulates a payment and shows it arriving on the live stream", async () => {
    const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // Loaded from `localhost`, calling the gateway at `127.0.0.1`: another origin, so every call
    // goes through the gateway's CORS answers (preflight for the authorization header included).
    const port = new URL(gateway.url).port;
    await page.goto(`http://localhost:${port}/?gateway=${encodeURIComponent(gateway.url)}`);
    await expect.poll(() => page.inputValue("#gateway-url")).toBe(gateway.url);
    expect(await page.inputValue("#api-key")).toBe(SANDBOX_DEMO_KEY);

    // A wrong key first: the page shows the gateway's code and message.
    await page.fill("#api-key", "not-a-valid-key");
    await page.click("#create");
    await page.locator("#error").waitFor({ state: "visible" });
    expect(await page.textContent("#error")).toContain("unauthenticated: invalid API key");

    await page.fill("#api-key", SANDBOX_DEMO_KEY);
    // Every bank of every provider that can issue a single-use fixed-amount VA, from GetCapabilities.
    const { providers } = await vaClient(gateway.url, SANDBOX_DEMO_KEY).getCapabilities({});
    const offered = providers.flatMap((p) =>
      p.banks
        .filter((b) => b.combinations.some((c) => c.usage === VaUsage.SINGLE && c.amountType === AmountType.FIXED))
        .map((b) => `${p.provider}/${b.bankCode}`),
    );
    expect(offered).toEqual(expect.arrayContaining(["sandbox/BCA", "sandbox/BNI", "sandbox/CIMB", "sandbox/BSI", "winpay/BRI"]));
    await expect
      .poll(() => page.$$eval("#bank option", (options) => options.map((o) => (o as unknown as { value: string }).value)))
      .toEqual(offered);
    await page.selectOption("#bank", "sandbox/BNI");
    await page.fill("#amount", "125000");
    await page.fill("#name", "Siti Rahma");
    await page.click("#create");
    await page.locator("#va").waitFor({ state: "visible" });
    expect(await page.isHidden("#error")).toBe(true);
    const vaNumber = (await page.textContent("#va-number")) ?? "";
    const vaId = (await page.textContent("#va-id")) ?? "";
    expect(vaNumber).toMatch(/^[0-9]{8,23}$/);
    await page.click("#copy-number");
    await expect.poll(() => page.textContent("#copy-state")).toBe("copied");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(vaNumber);
    expect(await page.textContent("#va-bank")).toBe("BNI (sandbox)");
    expect(await page.textContent("#va-amount")).toBe("Rp 125.000");
    expect(await page.textContent("#va-status")).toBe("ACTIVE");

    // The creation event arrives over the stream: the stream is open before anyone pays.
    await page.locator('#events li[data-type="VIRTUAL_ACCOUNT_CREATED"]').waitFor();
    expect(await page.getAttribute("#stream-state", "data-state")).toBe("live");

    await page.click("#simulate");
    const payment = page.locator('#events li[data-type="PAYMENT_RECEIVED"]');
    await payment.waitFor();
    const paymentText = (await payment.textContent()) ?? "";
    expect(paymentText).toContain("Rp 125.000");
    expect(paymentText).toContain("ACCEPTED");
    expect(paymentText).toMatch(/fee Rp [0-9.]+ · net Rp [0-9.]+/);
    await expect.poll(() => page.textContent("#va-status")).toBe("COMPLETED");
    expect(await page.textContent("#va-paid")).toBe("Rp 125.000");
    // A completed VA offers no further simulated payment.
    expect(await page.isHidden("#simulate")).toBe(true);
    expect(await page.textContent("#va-closed")).toBe("Paid: this single-use VA is complete.");

    // What the page showed is what the gateway recorded.
    const status = await vaClient(gateway.url, SANDBOX_DEMO_KEY).getPaymentStatus({ virtualAccountId: vaId });
    expect(status.virtualAccount?.vaNumber).toBe(vaNumber);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
    expect(status.payments.map((p) => [p.amount, p.outcome])).toEqual([[125_000n, PaymentOutcome.ACCEPTED]]);

    // The recent list (ListVirtualAccounts) shows it, newest first, and opens it again.
    const recent = page.locator(`#recent li[data-id="${vaId}"]`);
    await expect.poll(() => recent.textContent()).toContain("COMPLETED");
    expect(await recent.textContent()).toContain(`${vaNumber} · BNI · Rp 125.000`);
    await page.fill("#amount", "30000");
    await page.click("#create");
    await expect.poll(() => page.textContent("#va-id")).not.toBe(vaId);
    const newId = (await page.textContent("#va-id")) ?? "";
    await expect.poll(() => page.locator("#recent li").first().getAttribute("data-id")).toBe(newId);
    expect(await page.locator("#recent li").nth(1).getAttribute("data-id")).toBe(vaId);
    await recent.locator("button").click();
    await expect.poll(() => page.textContent("#va-id")).toBe(vaId);
    expect(await page.textContent("#va-status")).toBe("COMPLETED");
    await page.locator('#events li[data-type="PAYMENT_RECEIVED"]').waitFor();
    expect(await page.isHidden("#simulate")).toBe(true);

    // A refused create leaves only its error: the VA shown before and its events are gone.
    await page.fill("#amount", "9999999999999");
    await page.click("#create");
    await page.locator("#error").waitFor({ state: "visible" });
    expect(await page.textContent("#error")).toContain("invalid_argument");
    expect(await page.isHidden("#va")).toBe(true);
    expect(await page.locator("#events li").count()).toBe(0);
    expect(await page.locator("#recent li[data-current]").count()).toBe(0);

    // Another provider's simulator, chosen from the list: a new VA, Simulate offered again.
    await page.fill("#amount", "40000");
    await page.selectOption("#bank", "winpay/BRI");
    await page.click("#create");
    await expect.poll(() => page.textContent("#va-bank")).toBe("BRI (winpay)");
    expect(await page.isHidden("#error")).toBe(true);
    expect(await page.isVisible("#simulate")).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}web-page.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("is only served in sandbox mode", async () => {
    const production = await startTestGateway({ dialect: "sqlite", config: { sandbox: false } });
    try {
      expect((await fetch(`${production.url}/`)).status).toBe(404);
      expect((await fetch(`${gateway.url}/`)).headers.get("content-type")).toContain("text/html");
    } finally {
      await production.stop();
    }
  });
});
