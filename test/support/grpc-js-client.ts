import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/**
 * A `va.v1.VaService` client built the way a third-party Node user would: `@grpc/grpc-js` with the
 * service loaded at runtime from the .proto by `@grpc/proto-loader` (no generated code).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PROTO_INCLUDE_DIRS = [join(ROOT, "proto"), join(ROOT, "vendor-proto")];
const VALIDATE_PROTO = join(ROOT, "vendor-proto", "buf", "validate", "validate.proto");

/** proto-loader output with `longs: String, enums: String, defaults: true, oneofs: true`. */
export interface TimestampJs {
  seconds: string;
  nanos: number;
}
export interface AmountRuleJs {
  rule?: "fixed" | "open" | "range";
  fixed?: { amount: string } | null;
  open?: Record<string, never> | null;
  range?: { min: string; max: string } | null;
}
export interface VirtualAccountJs {
  id: string;
  merchantReference: string;
  provider: string;
  bankCode: string;
  vaNumber: string;
  usage: string;
  amount: AmountRuleJs | null;
  status: string;
  expiresAt: TimestampJs | null;
  customer: { name: string; email: string; phone: string } | null;
  description: string;
  paidAmount: string;
  paymentCount: number;
  createdAt: TimestampJs | null;
  updatedAt: TimestampJs | null;
  providerReference: string;
}
export interface PaymentJs {
  id: string;
  virtualAccountId: string;
  amount: string;
  fee?: string;
  netAmount?: string;
  outcome: string;
  provider: string;
  providerPaymentReference: string;
}
export interface PaymentEventJs {
  cursor: string;
  type: string;
  virtualAccount: VirtualAccountJs | null;
  payment: PaymentJs | null;
}
export interface StreamItemJs {
  kind?: "event" | "heartbeat";
  event?: PaymentEventJs | null;
  heartbeat?: { sentAt: TimestampJs | null } | null;
}

export interface GrpcJsVaClient {
  createVirtualAccount(request: object): Promise<{ virtualAccount: VirtualAccountJs | null; replayed: boolean }>;
  inquiryVirtualAccount(request: object): Promise<{ virtualAccount: VirtualAccountJs | null }>;
  getPaymentStatus(request: object): Promise<{ virtualAccount: VirtualAccountJs | null; payments: PaymentJs[] }>;
  cancelVirtualAccount(request: object): Promise<{ virtualAccount: VirtualAccountJs | null; replayed: boolean }>;
  simulatePayment(request: object): Promise<{ providerPaymentReference: string }>;
  streamPaymentEvents(request: object): grpc.ClientReadableStream<StreamItemJs>;
  close(): void;
}

/** Writes vendor-proto/buf/validate/validate.proto (as CI does) when it is not there yet. */
export function ensureValidateProto(): void {
  if (existsSync(VALIDATE_PROTO)) return;
  execFileSync(process.execPath, [join(ROOT, "scripts", "export-validate-proto.mjs")], { cwd: ROOT, stdio: "inherit" });
}

export async function loadVaServiceConstructor(): Promise<grpc.ServiceClientConstructor> {
  ensureValidateProto();
  const definition = await protoLoader.load("va/v1/va.proto", {
    includeDirs: PROTO_INCLUDE_DIRS,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    va: { v1: { VaService: grpc.ServiceClientConstructor } };
  };
  return loaded.va.v1.VaService;
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;
type StreamMethod = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

/**
 * `url` is the gateway's `http://host:port`. `authorization` is the full header value (e.g.
 * `Bearer <key>`); undefined sends none.
 */
export async function grpcJsVaClient(url: string, authorization: string | undefined): Promise<GrpcJsVaClient> {
  const VaService = await loadVaServiceConstructor();
  const client = new VaService(new URL(url).host, grpc.credentials.createInsecure());
  const unaryMethods = client as unknown as Record<string, UnaryMethod | undefined>;
  const streamMethods = client as unknown as Record<string, StreamMethod | undefined>;
  const metadata = () => {
    const md = new grpc.Metadata();
    if (authorization !== undefined) md.set("authorization", authorization);
    return md;
  };
  const unary =
    <T>(name: string) =>
    (request: object) =>
      new Promise<T>((resolve, reject) => {
        const method = unaryMethods[name];
        if (!method) throw new Error(`no method ${name}`);
        method.call(client, request, metadata(), { deadline: Date.now() + 10_000 }, (error, response) =>
          error ? reject(error) : resolve(response as T),
        );
      });
  return {
    createVirtualAccount: unary("CreateVirtualAccount"),
    inquiryVirtualAccount: unary("InquiryVirtualAccount"),
    getPaymentStatus: unary("GetPaymentStatus"),
    cancelVirtualAccount: unary("CancelVirtualAccount"),
    simulatePayment: unary("SimulatePayment"),
    streamPaymentEvents(request) {
      const method = streamMethods.StreamPaymentEvents;
      if (!method) throw new Error("no method StreamPaymentEvents");
      return method.call(client, request, metadata(), {}) as grpc.ClientReadableStream<StreamItemJs>;
    },
    close: () => client.close(),
  };
}

/** A grpc-js failure: the `ServiceError` the callback or the stream's `error` event carries. */
export const isServiceError = (value: unknown): value is grpc.ServiceError =>
  value instanceof Error && typeof (value as grpc.ServiceError).code === "number" && "metadata" in value;

export interface GrpcStatusProto {
  code: number;
  message: string;
  details: { typeUrl: string; value: Uint8Array }[];
}

/** Decodes a `grpc-status-details-bin` value (a serialized `google.rpc.Status`). */
export function decodeGrpcStatusDetails(bytes: Uint8Array): GrpcStatusProto {
  const status: GrpcStatusProto = { code: 0, message: "", details: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1) status.code = reader.int32();
    else if (fieldNo === 2) status.message = reader.string();
    else if (fieldNo === 3) status.details.push(decodeAny(reader.bytes()));
    else reader.skip(wireType, fieldNo);
  }
  return status;
}

function decodeAny(bytes: Uint8Array): { typeUrl: string; value: Uint8Array } {
  const any: { typeUrl: string; value: Uint8Array } = { typeUrl: "", value: new Uint8Array() };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1) any.typeUrl = reader.string();
    else if (fieldNo === 2) any.value = reader.bytes();
    else reader.skip(wireType, fieldNo);
  }
  return any;
}

/** The decoded `grpc-status-details-bin` trailer of a grpc-js error, or undefined when absent. */
export function statusDetailsOf(error: grpc.ServiceError): GrpcStatusProto | undefined {
  const [value] = error.metadata.get("grpc-status-details-bin");
  if (value === undefined) return undefined;
  return decodeGrpcStatusDetails(typeof value === "string" ? Buffer.from(value, "base64") : value);
}
