import {
  create,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as V1AlphaRequestSchema,
  ServerReflectionResponseSchema as V1AlphaResponseSchema,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>;

/** What reflection can describe: the served services, their files and every file those import. */
class SchemaIndex {
  readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly extensions: DescExtension[] = [];

  constructor(readonly services: readonly DescService[]) {
    for (const service of services) this.addFile(service.file);
  }

  fileOfSymbol(name: string): DescFile | undefined {
    return this.symbols.get(name.replace(/^\./, ""));
  }

  extensionsOf(typeName: string): DescExtension[] {
    return this.extensions.filter((ext) => ext.extendee.typeName === typeName);
  }

  hasType(typeName: string): boolean {
    return this.symbols.has(typeName);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    for (const dependency of file.dependencies) this.addFile(dependency);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const e of file.enums) this.addEnum(e);
    for (const m of file.messages) this.addMessage(m);
    for (const x of file.extensions) this.addExtension(x);
  }

  private addMessage(message: DescMessage): void {
    this.symbols.set(message.typeName, message.file);
    for (const field of message.fields) this.symbols.set(`${message.typeName}.${field.name}`, message.file);
    for (const e of message.nestedEnums) this.addEnum(e);
    for (const m of message.nestedMessages) this.addMessage(m);
    for (const x of message.nestedExtensions) this.addExtension(x);
  }

  private addEnum(desc: DescEnum): void {
    this.symbols.set(desc.typeName, desc.file);
  }

  private addExtension(extension: DescExtension): void {
    this.symbols.set(extension.typeName, extension.file);
    this.extensions.push(extension);
  }
}

/**
 * gRPC server reflection (`grpc.reflection.v1` and the older `v1alpha`, which is the same protocol
 * under another package) answered from the descriptors embedded in the generated code, so
 * `buf curl` and grpcurl-style tools work without .proto files. Served as ordinary Connect
 * services; the bidi stream needs HTTP/2 (gRPC over h2c, or Connect over h2c).
 */
export function reflectionRoutes(services: readonly DescService[]) {
  const index = new SchemaIndex([...services, ServerReflection, ServerReflectionV1Alpha]);
  return (router: ConnectRouter) => {
    router.service(ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of untilHangUp(requests)) yield answer(index, request, sent);
      },
    });
    // v1alpha messages are wire-identical to v1: translate through the binary form.
    router.service(ServerReflectionV1Alpha, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of untilHangUp(requests)) {
          const asV1 = fromBinary(ServerReflectionRequestSchema, toBinary(V1AlphaRequestSchema, request));
          const reply = create(ServerReflectionResponseSchema, answer(index, asV1, sent));
          yield fromBinary(V1AlphaResponseSchema, toBinary(ServerReflectionResponseSchema, reply));
        }
      },
    });
  };
}

/**
 * Tools close the connection as soon as they have their answer instead of half-closing first; for
 * reflection that is a normal end, not a server failure.
 */
async function* untilHangUp<T>(requests: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* requests;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_STREAM_PREMATURE_CLOSE") return;
    throw error;
  }
}

function answer(index: SchemaIndex, request: ServerReflectionRequest, sent: Set<string>): Answer {
  const reply = (messageResponse: Answer["messageResponse"]): Answer => ({
    validHost: request.host,
    originalRequest: request,
    messageResponse,
  });
  const failure = (code: Code, message: string) =>
    reply({ case: "errorResponse", value: { errorCode: code, errorMessage: message } });
  // Like grpc-go: the file and whatever of its imports this stream has not been sent yet.
  const files = (file: DescFile | undefined, notFound: string) => {
    if (!file) return failure(Code.NotFound, notFound);
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean) => {
      if (!requested && sent.has(f.name)) return;
      sent.add(f.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      for (const dependency of f.dependencies) visit(dependency, false);
    };
    visit(file, true);
    return reply({ case: "fileDescriptorResponse", value: { fileDescriptorProto: out } });
  };

  const { messageRequest } = request;
  switch (messageRequest.case) {
    case "listServices":
      return reply({
        case: "listServicesResponse",
        value: { service: index.services.map((s) => ({ name: s.typeName })) },
      });
    case "fileByFilename":
      return files(index.files.get(messageRequest.value), `file "${messageRequest.value}" not found`);
    case "fileContainingSymbol":
      return files(index.fileOfSymbol(messageRequest.value), `symbol "${messageRequest.value}" not found`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = messageRequest.value;
      const extension = index.extensionsOf(containingType).find((x) => x.number === extensionNumber);
      return files(extension?.file, `extension ${extensionNumber} of "${containingType}" not found`);
    }
    case "allExtensionNumbersOfType":
      if (!index.hasType(messageRequest.value)) return failure(Code.NotFound, `type "${messageRequest.value}" not found`);
      return reply({
        case: "allExtensionNumbersResponse",
        value: {
          baseTypeName: messageRequest.value,
          extensionNumber: index.extensionsOf(messageRequest.value).map((x) => x.number),
        },
      });
    default:
      return failure(Code.Unimplemented, "unsupported reflection request");
  }
}
