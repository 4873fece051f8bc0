import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { InquiryVirtualAccountRequestSchema, InquiryVirtualAccountResponseSchema } from "../../src/gen/va/v1/va_pb.js";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { createRequest } from "../fixtures.js";
import type { WireProtocol } from "../h2load.js";
import { h2loadRow } from "../measure.js";
import { grpcClients } from "../node-load.js";
import { API_KEY, H2 } from "../options.js";
import type { ServerChild } from "../servers.js";

/** InquiryVirtualAccount of one VA under h2load, once per wire protocol. */
export async function inquiryRows(bench: Bench, server: ServerChild, protocols: WireProtocol[]) {
  const [client] = grpcClients([server.url], 1, API_KEY);
  if (!client) throw new Error("no client");
  const { virtualAccount } = await client.createVirtualAccount(createRequest());
  const id = virtualAccount?.id ?? "";
  const message = toBinary(
    InquiryVirtualAccountRequestSchema,
    create(InquiryVirtualAccountRequestSchema, { virtualAccountId: id }),
  );
  for (const protocol of protocols) {
    const scenario = `inquiry-${protocol}`;
    log(`${scenario}: h2load ${bench.options.durationS}s`);
    const row = await h2loadRow(bench, {
      server,
      path: "/va.v1.VaService/InquiryVirtualAccount",
      protocol,
      message,
      name: scenario,
      auth: true,
      check: (response) => {
        const decoded = fromBinary(InquiryVirtualAccountResponseSchema, response);
        if (decoded.virtualAccount?.id !== id) throw new Error(`${scenario}: inquiry answered another VA`);
      },
    });
    bench.add({
      id: scenario,
      group: "inquiry",
      what: `InquiryVirtualAccount, ${protocol === "grpc" ? "gRPC" : "Connect application/proto"}, SQLite`,
      load: `h2load ${H2.connections}×${H2.streams}`,
      ...row,
    });
  }
}
