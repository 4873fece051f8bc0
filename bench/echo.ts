import { create, createFileRegistry, type DescMessage, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * The anchors' trivial unary echo, `bench.v1.EchoService/Echo(EchoMessage) returns (EchoMessage)`,
 * described at run time (no codegen) so both bare servers decode and encode the same protobuf
 * message with the same library as the service.
 */
const file = create(FileDescriptorProtoSchema, {
  name: "bench/v1/echo.proto",
  package: "bench.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "EchoMessage",
      // LABEL_OPTIONAL = 1, TYPE_STRING = 9
      field: [{ name: "message", number: 1, label: 1, type: 9, jsonName: "message" }],
    },
  ],
  service: [
    {
      name: "EchoService",
      method: [{ name: "Echo", inputType: ".bench.v1.EchoMessage", outputType: ".bench.v1.EchoMessage" }],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`echo descriptor: ${what} missing`);
  return value;
}

export const EchoMessageSchema: DescMessage = must(registry.getMessage("bench.v1.EchoMessage"), "EchoMessage");
export const EchoService: DescService = must(registry.getService("bench.v1.EchoService"), "EchoService");
export const ECHO_PATH = "/bench.v1.EchoService/Echo";

export interface EchoMessage {
  message: string;
}

export function encodeEcho(message: string): Uint8Array {
  return toBinary(EchoMessageSchema, create(EchoMessageSchema, { message }));
}

export function decodeEcho(bytes: Uint8Array): EchoMessage {
  const decoded = fromBinary(EchoMessageSchema, bytes) as unknown as EchoMessage;
  return { message: decoded.message };
}
