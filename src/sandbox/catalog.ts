import { startAyoconnectKit } from "./ayoconnect/kit.js";
import { startAyoconnectSnapKit } from "./ayoconnect-snap/kit.js";
import { startDokuKit } from "./doku/kit.js";
import { startDokuSnapKit } from "./doku-snap/kit.js";
import { startDurianpayKit } from "./durianpay/kit.js";
import { startDurianpaySnapKit } from "./durianpay-snap/kit.js";
import type { SandboxKitFactory } from "./kit.js";
import { type SandboxCredentials, startSandboxKit } from "./sandbox/kit.js";
import { startWinpayKit } from "./winpay/kit.js";

/**
 * Every provider this gateway speaks, as adapter + in-process simulator. Sandbox mode starts all of
 * them; the contract suite tests all of them. A provider's line here goes with its line in
 * `providers/catalog.ts`.
 */
export function sandboxKitFactories(sandboxCredentials?: SandboxCredentials): ReadonlyMap<string, SandboxKitFactory> {
  return new Map([
    ["sandbox", startSandboxKit(sandboxCredentials)],
    ["winpay", startWinpayKit],
    ["doku", startDokuKit],
    ["durianpay", startDurianpayKit],
    ["doku-snap", startDokuSnapKit],
    ["ayoconnect", startAyoconnectKit],
    ["durianpay-snap", startDurianpaySnapKit],
    ["ayoconnect-snap", startAyoconnectSnapKit],
  ]);
}
