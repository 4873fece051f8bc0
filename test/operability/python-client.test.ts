import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentOutcome, VirtualAccountStatus } from "../../src/gen/va/v1/va_pb.js";
import { vaClient } from "../support/clients.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Debian's python, which has python3-grpcio; the `python3` on PATH may be another one. */
const PYTHON = "/usr/bin/python3";
const PLUGIN = "/usr/bin/grpc_python_plugin";
const SCRIPT = join(ROOT, "clients", "python", "va_client.py");

function missingTool(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    execFileSync(PYTHON, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
  } catch {
    return `${PYTHON} cannot import grpc (apt-get install python3-grpcio)`;
  }
  try {
    execFileSync("protoc", ["--version"], { stdio: "ignore" });
  } catch {
    return "protoc not found (apt-get install protobuf-compiler)";
  }
  if (!existsSync("/usr/include/google/protobuf/timestamp.proto"))
    return "well-known .proto files missing (apt-get install libprotobuf-dev)";
  if (!existsSync(PLUGIN)) return `${PLUGIN} not found (apt-get install protobuf-compiler-grpc)`;
  return undefined;
}

const skipReason = missingTool();
if (skipReason) console.warn(`[skip] Python gRPC client test: ${skipReason}; .ci/run installs these`);

describe.skipIf(skipReason !== undefined)("Python grpcio client (clients/python/va_client.py)", { timeout: 60_000 }, () => {
  let gateway: TestGateway;
  let stubs: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite" });
    if (!existsSync(join(ROOT, "vendor-proto", "buf", "validate", "validate.proto"))) {
      execFileSync(process.execPath, ["scripts/export-validate-proto.mjs"], { cwd: ROOT });
    }
    // Stubs are generated fresh from proto/ for every run, as a Python team would.
    stubs = mkdtempSync(join(tmpdir(), "va-python-stubs-"));
    await run(
      "protoc",
      [
        "-Iproto",
        "-Ivendor-proto",
        `--python_out=${stubs}`,
        `--grpc_out=${stubs}`,
        `--plugin=protoc-gen-grpc=${PLUGIN}`,
        "va/v1/va.proto",
        "buf/validate/validate.proto",
      ],
      { cwd: ROOT },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    if (stubs) rmSync(stubs, { recursive: true, force: true });
  });

  const python = (args: string[]) =>
    run(PYTHON, [SCRIPT, "--target", new URL(gateway.url).host, ...args], {
      env: { ...process.env, PYTHONPATH: stubs },
      timeout: 45_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  it("creates a VA, simulates a payment and sees it arrive on the stream over gRPC", async () => {
    const result = await python(["--key", TENANTS.alpha.apiKey, "--bank", "MANDIRI", "--amount", "50000"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const steps = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(steps.map((s) => s.step)).toEqual(["created", "simulated", "payment"]);
    const [created, simulated, payment] = steps;
    expect(created.data).toMatchObject({ bankCode: "MANDIRI", status: "VIRTUAL_ACCOUNT_STATUS_ACTIVE" });
    expect(payment.data).toMatchObject({
      type: "EVENT_TYPE_PAYMENT_RECEIVED",
      virtualAccount: { id: created.data.id, status: "VIRTUAL_ACCOUNT_STATUS_COMPLETED" },
      payment: {
        amount: "50000",
        outcome: "PAYMENT_OUTCOME_ACCEPTED",
        providerPaymentReference: simulated.data.providerPaymentReference,
      },
    });

    const status = await vaClient(gateway.url, TENANTS.alpha.apiKey).getPaymentStatus({ virtualAccountId: created.data.id });
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
    expect(status.payments.map((p) => [p.amount, p.outcome])).toEqual([[50_000n, PaymentOutcome.ACCEPTED]]);
  });

  it("reports the gRPC code, message and field when the gateway refuses", async () => {
    const invalid = await python(["--key", TENANTS.alpha.apiKey, "--bank", "bca"]);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr).error).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "bank_code",
      violations: [{ field: "bank_code", rule: "string.pattern" }],
    });
    const unauthenticated = await python(["--key", "not-a-valid-key"]);
    expect(unauthenticated.code).toBe(1);
    expect(JSON.parse(unauthenticated.stderr).error).toMatchObject({ code: "UNAUTHENTICATED", message: "invalid API key" });
  });
});
