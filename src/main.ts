import { configFromEnv, SANDBOX_DEMO_KEY } from "./config.js";
import { startGateway } from "./gateway.js";
import { createLogger } from "./logging.js";

const config = configFromEnv();
const log = createLogger(config.logLevel);
const gateway = await startGateway(config, { logger: log });
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
