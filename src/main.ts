import { ConfigError, configFromEnv, SANDBOX_DEMO_KEY } from "./config.js";
import { startGateway } from "./gateway.js";
import { createLogger } from "./logging.js";
import { startTracing, tracingFromEnv } from "./operability/tracing-sdk.js";
import { MissingDatabaseError, waitForPostgreSql } from "./persistence/orm.js";

/** A configuration error is one line naming the variable, and exit status 2; anything else is a bug. */
function exitIfConfigError(error: unknown): void {
  if (error instanceof ConfigError || error instanceof MissingDatabaseError) {
    process.stderr.write(`va-gateway: configuration error: ${error.message}\n`);
    process.exit(2);
  }
}

const { config, tracingWanted } = (() => {
  try {
    return { config: configFromEnv(), tracingWanted: tracingFromEnv(process.env) };
  } catch (error) {
    exitIfConfigError(error);
    throw error;
  }
})();
// Before the logger and the gateway: every span and log line of the run is traced.
const tracing = tracingWanted ? await startTracing() : undefined;
const log = config.logFormat ? createLogger(config.logLevel, undefined, config.logFormat) : createLogger(config.logLevel);
const gateway = await (async () => {
  if (config.databaseUrl) {
    await waitForPostgreSql(config.databaseUrl, {
      waitMs: config.databaseWaitMs,
      createMissing: config.sandbox,
      onRetry: (message) => log.warn(message),
    });
  }
  return startGateway(config, { logger: log });
})().catch((error: unknown) => {
  exitIfConfigError(error);
  // A port in use or a database that stayed down: said plainly, on one line, without a stack trace.
  log.fatal({ code: (error as { code?: string }).code }, `could not start: ${(error as Error).message}`);
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
    gateway
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  });
}
