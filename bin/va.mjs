#!/usr/bin/env node
// The `va` command (package.json "bin"): runs the TypeScript CLI in src/cli/main.ts in this
// process through tsx's loader, so there is no build step. `npm run cli -- <command>` does the same.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
