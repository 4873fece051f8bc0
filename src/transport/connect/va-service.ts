import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import type { ProviderRegistry } from "../../app/provider-registry.js";
import type { VirtualAccounts } from "../../app/virtual-accounts.js";
import type { EventHub } from "../../events/hub.js";
import { followEvents } from "../../events/stream.js";
import { VaService } from "../../gen/va/v1/va_pb.js";
import type { Store } from "../../persistence/store.js";
import { tenantOf } from "./auth.js";
import {
  amountFromProto,
  capabilitiesToProto,
  createRequestFromProto,
  eventFilterFromProto,
  eventToProto,
  listRequestFromProto,
  paymentToProto,
  virtualAccountToProto,
} from "./convert.js";
import { strictJsonOptions } from "./input-errors.js";

export interface VaServiceDeps {
  virtualAccounts: VirtualAccounts;
  providers: ProviderRegistry;
  store: Store;
  hub: EventHub;
  heartbeatMs: number;
}

/** `va.v1.VaService` over Connect, gRPC and gRPC-Web. Requests arrive validated and authenticated. */
export function vaServiceRoutes(deps: VaServiceDeps) {
  const { virtualAccounts } = deps;
  const service: ServiceImpl<typeof VaService> = {
    async createVirtualAccount(request, context) {
      const result = await virtualAccounts.create(tenantOf(context), createRequestFromProto(request), context.signal);
      return { virtualAccount: virtualAccountToProto(result.virtualAccount), replayed: result.replayed };
    },

    async inquiryVirtualAccount(request, context) {
      const virtualAccount = await virtualAccounts.get(tenantOf(context), request.virtualAccountId);
      return { virtualAccount: virtualAccountToProto(virtualAccount) };
    },

    async getPaymentStatus(request, context) {
      const status = await virtualAccounts.paymentStatus(tenantOf(context), request.virtualAccountId);
      return {
        virtualAccount: virtualAccountToProto(status.virtualAccount),
        payments: status.payments.map(paymentToProto),
      };
    },

    async cancelVirtualAccount(request, context) {
      const result = await virtualAccounts.cancel(
        tenantOf(context),
        { id: request.virtualAccountId, idempotencyKey: request.idempotencyKey, reason: request.reason },
        context.signal,
      );
      return { virtualAccount: virtualAccountToProto(result.virtualAccount), replayed: result.replayed };
    },

    async updateVirtualAccount(request, context) {
      const virtualAccount = await virtualAccounts.update(
        tenantOf(context),
        {
          id: request.virtualAccountId,
          amount: request.amount ? amountFromProto(request.amount) : undefined,
          expiresAt: request.expiresAt ? timestampDate(request.expiresAt) : undefined,
        },
        context.signal,
      );
      return { virtualAccount: virtualAccountToProto(virtualAccount) };
    },

    async *streamPaymentEvents(request, context) {
      const tenantId = tenantOf(context);
      if (request.filter.case === "virtualAccountId") {
        await virtualAccounts.get(tenantId, request.filter.value);
      }
      const filter = eventFilterFromProto(tenantId, request);
      const after = BigInt(request.afterCursor || "0");
      for await (const item of followEvents(deps, filter, after, context.signal)) {
        if (item.kind === "event") {
          yield { kind: { case: "event", value: eventToProto(item.event) } };
        } else {
          yield { kind: { case: "heartbeat", value: { sentAt: timestampFromDate(item.at) } } };
        }
      }
    },

    getCapabilities(request) {
      const providers = deps.providers
        .all()
        .filter((p) => !request.provider || p.adapter.name === request.provider)
        .map((p) => capabilitiesToProto(p.capabilities, request.bankCode, p.adapter.fetchPayments !== undefined))
        .filter((p) => p.banks.length > 0);
      return { providers };
    },

    async simulatePayment(request, context) {
      const result = await virtualAccounts.simulatePayment(
        tenantOf(context),
        { id: request.virtualAccountId, amount: request.amount },
        context.signal,
      );
      return { providerPaymentReference: result.providerPaymentRef };
    },

    async listVirtualAccounts(request, context) {
      const page = await virtualAccounts.list(tenantOf(context), listRequestFromProto(request));
      return { virtualAccounts: page.virtualAccounts.map(virtualAccountToProto), nextPageToken: page.nextPageToken };
    },
  };
  // One route per RPC: its JSON reader needs the request schema to name the field at fault.
  return (router: ConnectRouter) => {
    for (const method of VaService.methods) {
      router.rpc(method, service[method.localName as keyof typeof service] as never, {
        jsonOptions: strictJsonOptions(method.input),
      });
    }
  };
}
