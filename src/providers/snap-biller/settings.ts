import { randomBytes } from "node:crypto";
import { ConfigError, EnvReader } from "../../config.js";
import { DEFAULT_MAX_CLOCK_SKEW_MS } from "../../protocols/snap/inbound-request.js";
import { checkNumbering, maxCustomerNoDigits } from "./numbering.js";

/** The `snap-biller` provider's configuration (docs/configuration.md: `SNAP_BILLER_*`). */
export interface SnapBillerSettings {
  /** Our BIN / company code, 1-8 digits. */
  partnerServiceId: string;
  /** The `bank_code` callers create these VAs with. */
  bankCode: string;
  customerNoDigits: number;
  /** The bank that calls us. */
  bankPartnerId: string;
  /** PEM. Unset in sandbox mode: keys are generated and an in-process bank simulator plays the bank. */
  bankPublicKey: string | undefined;
  /** Lets the bank sign symmetrically with a token from our `/v1.0/access-token/b2b`. */
  bankClientSecret: string | undefined;
  /** MAC key of our B2B tokens; set it (≥ 32 bytes) when several replicas share the traffic. */
  tokenSecret: string;
  publicPathPrefix: string;
  inquiryTimeoutMs: number;
  maxClockSkewMs: number;
  /** The bank's SNAP base URL for Inquiry Status (26) and Create VA (27). */
  bankBaseUrl: string | undefined;
  bankCreateVaPath: string | undefined;
  /** Our X-PARTNER-ID at the bank and the key we sign with (PEM). */
  partnerId: string;
  privateKey: string | undefined;
  channelId: string;
  statusIntervalMs: number;
}

/** Reads `SNAP_BILLER_*`; undefined (provider off) unless `SNAP_BILLER_PARTNER_SERVICE_ID` is set. */
export function snapBillerSettingsFromEnv(env: NodeJS.ProcessEnv, sandbox: boolean): SnapBillerSettings | undefined {
  const read = new EnvReader(env);
  const partnerServiceId = read.text("SNAP_BILLER_PARTNER_SERVICE_ID");
  if (!partnerServiceId) return undefined;
  const required = (name: string, sandboxDefault: string) => {
    const value = read.text(name);
    if (value) return value;
    if (sandbox) return sandboxDefault;
    throw new ConfigError(`${name} must be set when SNAP_BILLER_PARTNER_SERVICE_ID is`);
  };
  if (!/^\d{1,8}$/.test(partnerServiceId)) throw new ConfigError("SNAP_BILLER_PARTNER_SERVICE_ID must be 1-8 digits");
  const digits = optionalInteger(read, "SNAP_BILLER_CUSTOMER_NO_DIGITS", "customerNoDigits");
  try {
    checkNumbering(partnerServiceId, digits.customerNoDigits ?? maxCustomerNoDigits(partnerServiceId));
  } catch (error) {
    const name = digits.customerNoDigits === undefined ? "SNAP_BILLER_PARTNER_SERVICE_ID" : "SNAP_BILLER_CUSTOMER_NO_DIGITS";
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
  const settings = snapBillerSettings({
    partnerServiceId,
    bankCode: required("SNAP_BILLER_BANK_CODE", "BCA"),
    bankPartnerId: required("SNAP_BILLER_BANK_PARTNER_ID", "BANK-SANDBOX"),
    bankPublicKey: read.pem("SNAP_BILLER_BANK_PUBLIC_KEY"),
    bankClientSecret: read.text("SNAP_BILLER_BANK_CLIENT_SECRET"),
    tokenSecret: read.text("SNAP_BILLER_TOKEN_SECRET") ?? randomBytes(32).toString("base64url"),
    publicPathPrefix: read.text("SNAP_BILLER_PUBLIC_PATH_PREFIX") ?? "",
    bankBaseUrl: read.text("SNAP_BILLER_BANK_BASE_URL"),
    bankCreateVaPath: read.text("SNAP_BILLER_BANK_CREATE_VA_PATH"),
    partnerId: read.text("SNAP_BILLER_PARTNER_ID") ?? "",
    privateKey: read.pem("SNAP_BILLER_PRIVATE_KEY"),
    channelId: read.text("SNAP_BILLER_CHANNEL_ID") ?? "VAGW",
    ...digits,
    ...optionalInteger(read, "SNAP_BILLER_INQUIRY_TIMEOUT_MS", "inquiryTimeoutMs"),
    ...optionalInteger(read, "SNAP_BILLER_MAX_CLOCK_SKEW_MS", "maxClockSkewMs"),
    ...optionalInteger(read, "SNAP_BILLER_STATUS_INTERVAL_MS", "statusIntervalMs"),
  });
  if (!sandbox && !settings.bankPublicKey) {
    throw new ConfigError("SNAP_BILLER_BANK_PUBLIC_KEY must be set outside sandbox mode");
  }
  if (settings.bankBaseUrl && (!settings.privateKey || !settings.partnerId)) {
    throw new ConfigError("SNAP_BILLER_BANK_BASE_URL needs SNAP_BILLER_PARTNER_ID and SNAP_BILLER_PRIVATE_KEY");
  }
  return settings;
}

/** Complete settings from the essentials; the defaults are the documented ones. */
export function snapBillerSettings(
  given: Partial<SnapBillerSettings> & Pick<SnapBillerSettings, "partnerServiceId" | "bankCode" | "bankPartnerId">,
): SnapBillerSettings {
  const settings: SnapBillerSettings = {
    customerNoDigits: maxCustomerNoDigits(given.partnerServiceId),
    bankPublicKey: undefined,
    bankClientSecret: undefined,
    tokenSecret: randomBytes(32).toString("base64url"),
    publicPathPrefix: "",
    inquiryTimeoutMs: 5 * 60_000,
    maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
    bankBaseUrl: undefined,
    bankCreateVaPath: undefined,
    partnerId: "",
    privateKey: undefined,
    channelId: "VAGW",
    statusIntervalMs: 60_000,
    ...given,
  };
  checkNumbering(settings.partnerServiceId, settings.customerNoDigits);
  if (Buffer.byteLength(settings.tokenSecret) < 32) throw new ConfigError("SNAP_BILLER_TOKEN_SECRET must be at least 32 bytes");
  if (settings.publicPathPrefix !== "" && !/^\/[^?#]*[^/?#]$/.test(settings.publicPathPrefix)) {
    throw new ConfigError("SNAP_BILLER_PUBLIC_PATH_PREFIX must look like /prefix (no trailing slash)");
  }
  return settings;
}

function optionalInteger<K extends keyof SnapBillerSettings>(
  read: EnvReader,
  name: string,
  key: K,
): Partial<Pick<SnapBillerSettings, K>> {
  if (read.text(name) === undefined) return {};
  return { [key]: read.integer(name, 0) } as Pick<SnapBillerSettings, K>;
}
