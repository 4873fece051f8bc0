import { configFromEnv, SANDBOX_DEMO_KEY } from "./config.js";
import { startGateway } from "./gateway.js";
import { createLogger } from "./logging.js";

const config = (() => {
  try {
    return configFromEnv();
  } catch (error) {
    process.stderr.write(`va-gateway: configuration error: ${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const log = createLogger(config.logLevel);
const gateway = await startGateway(config, { logger: log }).catch((error: unknown) => {
  // A port in use or an unreachable database: say so plainly, without a stack trace.
  log.fatal({ err: { message: (error as Error).message, code: (error as { code?: string }).code } }, "could not start");
  process.exit(1);
});
log.info(
  { url: gateway.url, database: gateway.database.dialect, sandbox: config.sandbox },
  "va-gateway listening (gRPC, gRPC-Web and Connect on one port)",
);
if (config.apiKeys.some((k) => k.apiKey === SANDBOX_DEMO_KEY)) {
  // Printed on purpose: the sandbox demo key is public and only exists in sandbox mode.
  process.stdout.write(`\nSandbox mode. Call the API with:  authorization: Bearer ${SANDBOX_DEMO_KEY}\n\n`);
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
