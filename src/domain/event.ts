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
  /** Position in the tenant-independent event log; commit order, no event ever lands behind it. */
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

export function matchesFilter(event: VaEvent, filter: EventFilter): boolean {
  if (event.tenantId !== filter.tenantId) return false;
  switch (filter.kind) {
    case "ALL":
      return true;
    case "VIRTUAL_ACCOUNT":
      return event.virtualAccount.id === filter.virtualAccountId;
    case "MERCHANT_REFERENCE":
      return event.virtualAccount.merchantReference === filter.merchantReference;
  }
}
