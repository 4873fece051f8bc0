import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { VaService } from "../../src/gen/va/v1/va_pb.js";

export type ProtocolName = "connect" | "grpc" | "grpc-web";
export const PROTOCOLS: ProtocolName[] = ["connect", "grpc", "grpc-web"];

export function transportFor(protocol: ProtocolName, baseUrl: string, interceptors: Interceptor[] = []): Transport {
  switch (protocol) {
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
  }
}

/** A VaService client that sends `authorization: Bearer <apiKey>` on every call (none if undefined). */
export function vaClient(
  baseUrl: string,
  apiKey: string | undefined,
  protocol: ProtocolName = "connect",
): Client<typeof VaService> {
  const auth: Interceptor = (next) => (request) => {
    if (apiKey !== undefined) request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
  return createClient(VaService, transportFor(protocol, baseUrl, [auth]));
}
