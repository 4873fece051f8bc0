import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CreateRequest, ListRequest } from "../../app/virtual-accounts.js";
import { invalidArgument } from "../../domain/errors.js";
import type { EventFilter, VaEvent } from "../../domain/event.js";
import type { Payment } from "../../domain/payment.js";
import type { AmountRule, VaUsage as DomainUsage, VaStatus, VirtualAccount } from "../../domain/virtual-account.js";
import {
  type AmountRule as AmountRuleMessage,
  AmountRuleSchema,
  AmountType,
  type CreateVirtualAccountRequest,
  EventCause,
  EventType,
  type ListVirtualAccountsRequest,
  PaymentEventSchema,
  PaymentOutcome,
  PaymentSchema,
  ProviderCapabilitySchema,
  type StreamPaymentEventsRequest,
  VaUsage,
  VirtualAccountSchema,
  VirtualAccountStatus,
} from "../../gen/va/v1/va_pb.js";
import type { ProviderCapabilities } from "../../providers/capabilities.js";

/** Proto messages ⇄ domain values. The enum member names are the same on both sides. */

export function createRequestFromProto(request: CreateVirtualAccountRequest): CreateRequest {
  const usage = VaUsage[request.usage] as DomainUsage;
  return {
    idempotencyKey: request.idempotencyKey,
    merchantReference: request.merchantReference,
    provider: request.provider,
    bankCode: request.bankCode,
    usage,
    amount: amountFromProto(request.amount),
    expiresAt: request.expiresAt ? timestampDate(request.expiresAt) : undefined,
    customer: {
      name: request.customer?.name ?? "",
      email: request.customer?.email ?? "",
      phone: request.customer?.phone ?? "",
    },
    numberSuffix: request.numberSuffix,
    description: request.description,
  };
}

export function amountFromProto(amount: AmountRuleMessage | undefined): AmountRule {
  switch (amount?.rule.case) {
    case "fixed":
      return { type: "FIXED", amount: amount.rule.value.amount };
    case "range":
      return { type: "RANGE", min: amount.rule.value.min, max: amount.rule.value.max };
    case "open":
      return { type: "OPEN" };
    default:
      throw invalidArgument("amount", "one of fixed, open or range is required");
  }
}

function amountToProto(amount: AmountRule): AmountRuleMessage {
  switch (amount.type) {
    case "FIXED":
      return create(AmountRuleSchema, { rule: { case: "fixed", value: { amount: amount.amount } } });
    case "RANGE":
      return create(AmountRuleSchema, { rule: { case: "range", value: { min: amount.min, max: amount.max } } });
    case "OPEN":
      return create(AmountRuleSchema, { rule: { case: "open", value: {} } });
  }
}

export function virtualAccountToProto(va: VirtualAccount) {
  return create(VirtualAccountSchema, {
    id: va.id,
    merchantReference: va.merchantReference,
    provider: va.provider,
    bankCode: va.bankCode,
    vaNumber: va.vaNumber,
    usage: VaUsage[va.usage],
    amount: amountToProto(va.amount),
    status: VirtualAccountStatus[va.status],
    expiresAt: timestampFromDate(va.expiresAt),
    customer: va.customer,
    description: va.description,
    paidAmount: va.paidAmount,
    paymentCount: va.paymentCount,
    createdAt: timestampFromDate(va.createdAt),
    updatedAt: timestampFromDate(va.updatedAt),
    providerReference: va.providerReference,
  });
}

export function paymentToProto(payment: Payment) {
  return create(PaymentSchema, {
    id: payment.id,
    virtualAccountId: payment.virtualAccountId,
    amount: payment.amount,
    fee: payment.fee,
    netAmount: payment.fee === undefined ? undefined : payment.amount - payment.fee,
    outcome: PaymentOutcome[payment.outcome],
    paidAt: timestampFromDate(payment.paidAt),
    recordedAt: timestampFromDate(payment.recordedAt),
    provider: payment.provider,
    providerPaymentReference: payment.providerPaymentRef,
    rawProviderPayload: payment.rawPayload,
  });
}

export function eventToProto(event: VaEvent) {
  return create(PaymentEventSchema, {
    cursor: event.sequence.toString(),
    type: EventType[event.type],
    occurredAt: timestampFromDate(event.occurredAt),
    virtualAccount: virtualAccountToProto(event.virtualAccount),
    payment: event.payment ? paymentToProto(event.payment) : undefined,
    cause: EventCause[event.cause],
  });
}

export function capabilitiesToProto(capabilities: ProviderCapabilities, bankCode: string, reconciles: boolean) {
  return create(ProviderCapabilitySchema, {
    provider: capabilities.provider,
    createRetryAdoptsFirst: capabilities.createRetryAdoptsFirst ?? true,
    reconcilesLostCallbacks: reconciles,
    banks: capabilities.banks
      .filter((bank) => !bankCode || bank.bankCode === bankCode)
      .map((bank) => ({
        bankCode: bank.bankCode,
        combinations: bank.combinations.map((c) => ({ usage: VaUsage[c.usage], amountType: AmountType[c.amountType] })),
        maxSuffixDigits: bank.maxSuffixDigits,
        minVaNumberDigits: bank.vaNumberDigits.min,
        maxVaNumberDigits: bank.vaNumberDigits.max,
        minLifetimeSeconds: BigInt(Math.ceil(bank.minLifetimeMs / 1000)),
        maxLifetimeSeconds: BigInt(Math.floor(bank.maxLifetimeMs / 1000)),
        canCancel: bank.canCancel,
        canUpdate: bank.canUpdate,
      })),
  });
}

export function eventFilterFromProto(tenantId: string, request: StreamPaymentEventsRequest): EventFilter {
  switch (request.filter.case) {
    case "virtualAccountId":
      return { tenantId, kind: "VIRTUAL_ACCOUNT", virtualAccountId: request.filter.value };
    case "merchantReference":
      return { tenantId, kind: "MERCHANT_REFERENCE", merchantReference: request.filter.value };
    default:
      return { tenantId, kind: "ALL" };
  }
}

export function listRequestFromProto(request: ListVirtualAccountsRequest): ListRequest {
  return {
    pageSize: request.pageSize,
    pageToken: request.pageToken,
    filter: {
      statuses: request.statuses.map((status) => VirtualAccountStatus[status] as VaStatus),
      bankCode: request.bankCode || undefined,
      provider: request.provider || undefined,
      merchantReference: request.merchantReference || undefined,
      createdFrom: request.createdAfter ? timestampDate(request.createdAfter) : undefined,
      createdBefore: request.createdBefore ? timestampDate(request.createdBefore) : undefined,
    },
  };
}
