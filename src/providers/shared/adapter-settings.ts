/** Settings every provider adapter takes, each with a default. */
export interface AdapterSettings {
  /** How long one call to the provider may take. */
  timeoutMs?: number;
  /** Our clock (tests set their own). */
  now?: () => Date;
}

/** A SNAP adapter's, which also verifies the provider's signed requests to us. */
export interface SnapAdapterSettings extends AdapterSettings {
  /** How far a signed request's X-TIMESTAMP may be from our clock, either way. */
  maxClockSkewMs?: number;
}
