import { createHash } from "node:crypto";
import { DomainError, notFound } from "../domain/errors.js";
import { newId } from "../domain/ids.js";
import type { Rupiah } from "../domain/money.js";
import type { Payment } from "../domain/payment.js";
import {
  type AmountRule,
  cancelTransition,
  checkChanges,
  checkDraft,
  checkVaNumber,
  suggestedAmount,
  type VirtualAccount,
  type VirtualAccountDraft,
} from "../domain/virtual-account.js";
import type { VirtualAccountFilter } from "../persistence/repositories/virtual-accounts.js";
import type { Store } from "../persistence/store.js";
import type { ProviderCreateRequest, ProviderVaRef, ProviderVirtualAccount, VaProvider } from "../providers/provider.js";
import { cancelProblem, capabilityProblem, updateProblem } from "./capability-check.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { ProviderRegistry, RegisteredProvider } from "./provider-registry.js";

export type CreateRequest = Omit<VirtualAccountDraft, "expiresAt"> & {
  idempotencyKey: string;
  expiresAt: Date | undefined;
};

export interface VirtualAccountsOptions {
  store: Store;
  providers: ProviderRegistry;
  clock: () => Date;
  /** How long an unfinished create/cancel holds its idempotency key before a retry may take over. */
  idempotencyLeaseMs: number;
  simulationEnabled: boolean;
}

type KeyScope = { tenantId: string; operation: "create" | "cancel"; key: string };
/** A key this request holds, since `claimedAt`. */
type KeyClaim = KeyScope & { claimedAt: Date };

const SIMULATED_OPEN_AMOUNT: Rupiah = 10_000n;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export interface ListRequest {
  filter: VirtualAccountFilter;
  /** 0 for the default. */
  pageSize: number;
  /** Empty for the first page. */
  pageToken: string;
}

/** The use cases behind the RPCs: each is one transaction around at most one provider call. */
export class VirtualAccounts {
  constructor(private readonly options: VirtualAccountsOptions) {}

  async create(
    tenantId: string,
    request: CreateRequest,
    signal: AbortSignal,
  ): Promise<{ virtualAccount: VirtualAccount; replayed: boolean }> {
    const { store, providers, clock } = this.options;
    const now = clock();
    const { idempotencyKey, ...draftRequest } = request;
    const draft = checkDraft(draftRequest, now);
    const candidates = providers.candidates(tenantId, draft.provider, draft.bankCode);
    const able = candidates.filter((c) => !capabilityProblem(draft, c.capabilities, now));
    if (able.length === 0) throw capabilityProblem(draft, (candidates[0] as RegisteredProvider).capabilities, now);
    const scope: KeyScope = { tenantId, operation: "create", key: idempotencyKey };

    const claimed = await this.claim(scope, fingerprint(request), now);
    if ("replay" in claimed) return { virtualAccount: claimed.replay, replayed: true };
    const { claim } = claimed;
    try {
      const { merchantReference: _, provider: __, ...terms } = draft;
      const externalId = externalIdFor(tenantId, idempotencyKey);
      const { provider, issued } = await this.issue(able, { ...terms, externalId }, signal);
      checkVaNumber(issued.vaNumber);
      const createdAt = clock();
      const virtualAccount: VirtualAccount = {
        id: newId("va"),
        tenantId,
        merchantReference: draft.merchantReference,
        provider: provider.name,
        providerAccount: issued.providerAccount,
        providerReference: issued.providerReference,
        providerVaId: issued.providerVaId,
        bankCode: draft.bankCode,
        vaNumber: issued.vaNumber,
        usage: draft.usage,
        amount: draft.amount,
        status: "ACTIVE",
        expiresAt: draft.expiresAt,
        customer: draft.customer,
        description: draft.description,
        paidAmount: 0n,
        paymentCount: 0,
        createdAt,
        updatedAt: createdAt,
      };
      await store.transaction(async (tx) => {
        await tx.virtualAccounts.insert(virtualAccount);
        await tx.events.append({
          tenantId,
          type: "VIRTUAL_ACCOUNT_CREATED",
          cause: "RPC",
          occurredAt: createdAt,
          virtualAccount,
          payment: undefined,
        });
        await tx.idempotencyKeys.complete(claim, virtualAccount.id);
      });
      return { virtualAccount, replayed: false };
    } catch (error) {
      // The provider-side id is derived from the key, so a retry finds what this attempt made.
      await store.transaction((tx) => tx.idempotencyKeys.release(claim));
      throw error;
    }
  }

  /**
   * Asks each able provider in turn. Only a provider that is down (unreachable, 5xx, timeout, open
   * circuit) passes the create on to the next; a refusal is the caller's answer. Nothing was
   * returned to the caller yet, so no VA ever moves between providers.
   */
  private async issue(
    able: RegisteredProvider[],
    request: ProviderCreateRequest,
    signal: AbortSignal,
  ): Promise<{ provider: VaProvider; issued: ProviderVirtualAccount }> {
    let lastFailure: unknown;
    for (const { adapter, breaker } of able) {
      if (breaker.isOpen(this.options.clock())) {
        lastFailure = new DomainError("UNAVAILABLE", `${adapter.name} is failing; its circuit is open`, {
          provider: adapter.name,
        });
        continue;
      }
      try {
        const issued = await adapter.createVirtualAccount(request, signal);
        breaker.recordSuccess();
        return { provider: adapter, issued };
      } catch (error) {
        if (!isProviderDown(error) || signal.aborted) throw error;
        breaker.recordFailure(this.options.clock());
        lastFailure = error;
      }
    }
    throw lastFailure;
  }

  async get(tenantId: string, id: string): Promise<VirtualAccount> {
    const virtualAccount = await this.options.store.virtualAccounts.find(tenantId, id);
    if (!virtualAccount) throw notFound(`virtual account ${id}`);
    return virtualAccount;
  }

  async paymentStatus(tenantId: string, id: string): Promise<{ virtualAccount: VirtualAccount; payments: Payment[] }> {
    const virtualAccount = await this.get(tenantId, id);
    const payments = await this.options.store.payments.list(tenantId, id);
    return { virtualAccount, payments };
  }

  /** One page of the tenant's VAs, newest first. A page size above the maximum is clamped (AIP-158). */
  async list(tenantId: string, request: ListRequest): Promise<{ virtualAccounts: VirtualAccount[]; nextPageToken: string }> {
    const pageSize = Math.min(request.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const { filter } = request;
    const query = { tenantId, ...filter, statuses: [...new Set(filter.statuses)].sort() };
    const after = request.pageToken ? decodePageToken(request.pageToken, query) : undefined;
    const rows = await this.options.store.virtualAccounts.list(tenantId, filter, after, pageSize + 1);
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    return { virtualAccounts: page, nextPageToken: rows.length > pageSize && last ? encodePageToken(last, query) : "" };
  }

  async cancel(
    tenantId: string,
    request: { id: string; idempotencyKey: string; reason: string },
    signal: AbortSignal,
  ): Promise<{ virtualAccount: VirtualAccount; replayed: boolean }> {
    const { store, providers, clock } = this.options;
    const current = await this.get(tenantId, request.id);
    const scope: KeyScope = { tenantId, operation: "cancel", key: request.idempotencyKey };
    const claimed = await this.claim(scope, fingerprint(request), clock());
    if ("replay" in claimed) return { virtualAccount: claimed.replay, replayed: true };
    const { claim } = claimed;
    try {
      if (cancelTransition(current) === "CANCEL") {
        const { adapter, capabilities } = providers.get(current.provider);
        const problem = cancelProblem(capabilities, current.bankCode);
        if (problem) throw problem;
        await adapter.cancelVirtualAccount(providerRef(current), signal);
      }
      const virtualAccount = await store.transaction(async (tx) => {
        const locked = await tx.virtualAccounts.lock({ id: current.id, tenantId });
        if (!locked) throw notFound(`virtual account ${current.id}`);
        // A payment that completed the VA while the provider call was under way wins: FAILED_PRECONDITION.
        if (cancelTransition(locked) === "ALREADY_CANCELLED") {
          await tx.idempotencyKeys.complete(claim, locked.id);
          return locked;
        }
        const cancelled: VirtualAccount = { ...locked, status: "CANCELLED", updatedAt: clock() };
        await tx.saveChange(cancelled, "VIRTUAL_ACCOUNT_CANCELLED", "RPC");
        await tx.idempotencyKeys.complete(claim, locked.id);
        return cancelled;
      });
      return { virtualAccount, replayed: false };
    } catch (error) {
      await store.transaction((tx) => tx.idempotencyKeys.release(claim));
      throw error;
    }
  }

  async update(
    tenantId: string,
    request: { id: string; amount: AmountRule | undefined; expiresAt: Date | undefined },
    signal: AbortSignal,
  ): Promise<VirtualAccount> {
    const { store, providers, clock } = this.options;
    const current = await this.get(tenantId, request.id);
    const changes = { amount: request.amount, expiresAt: request.expiresAt };
    checkChanges(current, changes, clock());
    const { adapter, capabilities } = providers.get(current.provider);
    const problem = updateProblem(capabilities, current.bankCode);
    if (problem || !adapter.updateVirtualAccount)
      throw problem ?? updateProblem({ ...capabilities, banks: [] }, current.bankCode);
    await adapter.updateVirtualAccount(providerRef(current), changes, signal);
    return store.transaction(async (tx) => {
      const locked = await tx.virtualAccounts.lock({ id: current.id, tenantId });
      if (!locked) throw notFound(`virtual account ${current.id}`);
      checkChanges(locked, changes, clock());
      const updated: VirtualAccount = {
        ...locked,
        amount: changes.amount ?? locked.amount,
        expiresAt: changes.expiresAt ?? locked.expiresAt,
        updatedAt: clock(),
      };
      await tx.saveChange(updated, "VIRTUAL_ACCOUNT_UPDATED", "RPC");
      return updated;
    });
  }

  async simulatePayment(
    tenantId: string,
    request: { id: string; amount: Rupiah | undefined },
    signal: AbortSignal,
  ): Promise<{ providerPaymentRef: string }> {
    if (!this.options.simulationEnabled) {
      throw new DomainError("FAILED_PRECONDITION", "payment simulation is switched off on this server");
    }
    const virtualAccount = await this.get(tenantId, request.id);
    const provider = this.options.providers.get(virtualAccount.provider).adapter;
    if (!provider.simulatePayment) {
      throw new DomainError("FAILED_PRECONDITION", `provider ${provider.name} has no payment simulator`);
    }
    const amount = request.amount ?? suggestedAmount(virtualAccount.amount) ?? SIMULATED_OPEN_AMOUNT;
    return provider.simulatePayment(providerRef(virtualAccount), amount, signal);
  }

  /**
   * Claims the key for this request, or answers with the VA of an earlier identical request that
   * finished; throws when the key was used for a different request or the first is still in flight.
   */
  private async claim(
    scope: KeyScope,
    requestHash: string,
    now: Date,
  ): Promise<{ claim: KeyClaim } | { replay: VirtualAccount }> {
    const { store, idempotencyLeaseMs } = this.options;
    const claim = { ...scope, claimedAt: now };
    const existing = await store.idempotencyKeys.claim(scope, requestHash, now);
    if (!existing) return { claim };
    const field = "idempotency_key";
    if (existing.requestHash !== requestHash) {
      throw new DomainError("ALREADY_EXISTS", `${field}: "${scope.key}" was already used for a different request`, {
        field,
      });
    }
    if (existing.state === "DONE" && existing.virtualAccountId) {
      return { replay: await this.get(scope.tenantId, existing.virtualAccountId) };
    }
    const stale = now.getTime() - existing.createdAt.getTime() >= idempotencyLeaseMs;
    if (stale && (await store.idempotencyKeys.retake(scope, existing.createdAt, now))) {
      return { claim };
    }
    throw new DomainError("ABORTED", `${field}: a request with key "${scope.key}" is still in progress`, { field });
  }
}

function providerRef(va: VirtualAccount): ProviderVaRef {
  return {
    providerAccount: va.providerAccount,
    providerReference: va.providerReference,
    vaNumber: va.vaNumber,
    bankCode: va.bankCode,
  };
}

/** A stable hash of what the caller asked for, before defaults are filled in. */
function fingerprint(request: object): string {
  const canonical = JSON.stringify(request, (_key, value) => (typeof value === "bigint" ? `${value}n` : value));
  return createHash("sha256").update(canonical).digest("hex");
}

/** The provider-side id of the VA a key creates: same tenant + key → same id, 32 hex digits. */
export function externalIdFor(tenantId: string, idempotencyKey: string): string {
  return createHash("sha256").update(`${tenantId}\u0000${idempotencyKey}`).digest("hex").slice(0, 32);
}

const isProviderDown = (error: unknown) =>
  error instanceof DomainError && (error.kind === "UNAVAILABLE" || error.kind === "DEADLINE_EXCEEDED");
