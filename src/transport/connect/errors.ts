import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, type ErrorKind } from "../../domain/errors.js";
import { ErrorDetailSchema } from "../../gen/va/v1/va_pb.js";
import { humanViolations } from "./input-errors.js";

const CODES: Record<ErrorKind, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  ABORTED: Code.Aborted,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  UNAUTHENTICATED: Code.Unauthenticated,
  INTERNAL: Code.Internal,
};

/** Domain failure → ConnectError with an `va.v1.ErrorDetail` carrying the field and provider facts. */
export function toConnectError(error: unknown, log: (error: unknown) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    const { field = "", provider = "", providerCode = "", providerMessage = "" } = error.facts;
    const detail = create(ErrorDetailSchema, { field, provider, providerCode, providerMessage });
    return new ConnectError(error.message, CODES[error.kind], undefined, [{ desc: ErrorDetailSchema, value: detail }]);
  }
  // Unexpected: log it in full for us, tell the caller nothing about internals.
  log(error);
  return new ConnectError("internal error", Code.Internal);
}

/**
 * Maps every failure of a handler to a ConnectError, for unary calls and for streams (where the
 * failure surfaces while iterating the response).
 */
export function createErrorInterceptor(log: (error: unknown) => void): Interceptor {
  return (next) => async (request) => {
    try {
      const response = await next(request);
      if (!response.stream) return response;
      return { ...response, message: mapIterable(response.message, log) };
    } catch (error) {
      // Requests that failed their buf.validate rules arrive here from the validate interceptor.
      throw humanViolations(toConnectError(error, log), request.method.input);
    }
  };
}

async function* mapIterable<T>(iterable: AsyncIterable<T>, log: (error: unknown) => void): AsyncIterable<T> {
  try {
    yield* iterable;
  } catch (error) {
    throw toConnectError(error, log);
  }
}
