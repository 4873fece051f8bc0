/**
 * A warm spare of the service for the crash harness. Node spends seconds loading the service's
 * modules (tsx, MikroORM, Connect, protobuf); this entry loads them ahead of time, says so on stdout,
 * then waits for a line on stdin and runs the real entry point, `src/main.ts`, unchanged: the same
 * configuration from the environment, the same database open and migrations, the same port. So a
 * restart after `kill -9` costs what a restart of a cached process costs, not a cold module load.
 */
await import("../../src/gateway.js");
await import("../../src/config.js");
await import("../../src/logging.js");
process.stdout.write("warm-main: ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.destroy();
await import("../../src/main.js");
