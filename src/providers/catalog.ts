import { startAyoconnectKit } from "./ayoconnect/sandbox-kit.js";
import { startDokuKit } from "./doku/sandbox-kit.js";
import { startDurianpayKit } from "./durianpay/sandbox-kit.js";
import type { SandboxKitFactory } from "./sandbox-kit.js";
import { type SandboxCredentials, startSandboxKit } from "./sandbox/sandbox-kit.js";
import { startWinpayKit } from "./winpay/sandbox-kit.js";

/**
 * Every provider this gateway speaks, as adapter + in-process simulator. Sandbox mode starts all of
 * them; the contract suite tests all of them. Adding a provider means a folder and a line here.
 */
export function sandboxKitFactories(sandboxCredentials?: SandboxCredentials): ReadonlyMap<string, SandboxKitFactory> {
  return new Map([
    ["sandbox", startSandboxKit(sandboxCredentials)],
    ["winpay", startWinpayKit],
    ["doku", startDokuKit],
    ["durianpay", startDurianpayKit],
    ["ayoconnect", startAyoconnectKit],
  ]);
}
