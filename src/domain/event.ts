import type { Payment } from "./payment.js";
import type { VirtualAccount } from "./virtual-account.js";

export type EventType =
  | "VIRTUAL_ACCOUNT_CREATED"
  | "VIRTUAL_ACCOUNT_INQUIRED"
  | "PAYMENT_RECEIVED"
  | "VIRTUAL_ACCOUNT_EXPIRED"
  | "VIRTUAL_ACCOUNT_CANCELLED"
  | "VIRTUAL_ACCOUNT_UPDATED";

/** Why a state change happened; kept with every event for audit. */
export type EventCause = "RPC" | "CALLBACK" | "STATUS_POLL" | "SWEEPER";

export interface VaEvent {
  /** Position in the tenant-independent event log; once a reader has seen it, no event ever lands behind it. */
  sequence: bigint;
  tenantId: string;
  type: EventType;
  cause: EventCause;
  occurredAt: Date;
  /** The VA right after the change. */
  virtualAccount: VirtualAccount;
  payment: Payment | undefined;
}

/** Which events a subscriber wants; always within one tenant. */
export type EventFilter =
  | { tenantId: string; kind: "ALL" }
  | { tenantId: string; kind: "VIRTUAL_ACCOUNT"; virtualAccountId: string }
  | { tenantId: string; kind: "MERCHANT_REFERENCE"; merchantReference: string };

/** The one key a filter is indexed under; an event reaches the filters whose key is in `eventKeys`. */
export function filterKey(filter: EventFilter): string {
  switch (filter.kind) {
    case "ALL":
      return `${filter.tenantId}\u0000*`;
    case "VIRTUAL_ACCOUNT":
      return `${filter.tenantId}\u0000va\u0000${filter.virtualAccountId}`;
    case "MERCHANT_REFERENCE":
      return `${filter.tenantId}\u0000ref\u0000${filter.merchantReference}`;
  }
}

/** The keys of every filter that matches the event. */
export function eventKeys(event: VaEvent): string[] {
  const { tenantId, virtualAccount } = event;
  return [
    filterKey({ tenantId, kind: "ALL" }),
    filterKey({ tenantId, kind: "VIRTUAL_ACCOUNT", virtualAccountId: virtualAccount.id }),
    filterKey({ tenantId, kind: "MERCHANT_REFERENCE", merchantReference: virtualAccount.merchantReference }),
  ];
}
