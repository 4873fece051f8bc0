#!/usr/bin/python3
"""Creates a VA, has the sandbox provider pay it, and waits for the payment on the event stream.

A plain gRPC (HTTP/2 cleartext) client of va.v1.VaService using grpcio, the way any Python service
would integrate. Generate the stubs first (Debian: protobuf-compiler, libprotobuf-dev,
protobuf-compiler-grpc, python3-grpcio; run `npm run generate` once for vendor-proto/):

    protoc -Iproto -Ivendor-proto --python_out=OUT --grpc_out=OUT \\
        --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin va/v1/va.proto buf/validate/validate.proto
    PYTHONPATH=OUT /usr/bin/python3 clients/python/va_client.py --target 127.0.0.1:8080

Prints one JSON object per step on stdout; exits 0 once the payment has arrived, 1 if the gateway
refused a call (code, message and field on stderr), 2 if the payment did not arrive in time.
"""

import argparse
import json
import os
import sys
import uuid

import grpc
from google.protobuf import json_format

from buf.validate import validate_pb2
from va.v1 import va_pb2, va_pb2_grpc


def emit(step, message=None, **extra):
    record = {"step": step, **extra}
    if message is not None:
        record["data"] = json_format.MessageToDict(message)
    print(json.dumps(record), flush=True)


def _read_varint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data):
    """(field number, bytes) for each length-delimited field of a serialized message."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, pos = _read_varint(data, pos)
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            yield number, data[pos:pos + length]
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            return


def error_details(error):
    """Facts from the google.rpc.Status trailer: va.v1.ErrorDetail fields and protovalidate violations."""
    facts = {}
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for number, any_bytes in _fields(value):
            if number != 3:  # Status.details: repeated google.protobuf.Any {type_url = 1, value = 2}
                continue
            parts = dict(_fields(any_bytes))
            type_url, payload = parts.get(1, b"").decode(), parts.get(2, b"")
            if type_url.endswith("/va.v1.ErrorDetail"):
                facts.update(json_format.MessageToDict(va_pb2.ErrorDetail.FromString(payload)))
            elif type_url.endswith("/buf.validate.Violations"):
                violations = [
                    {
                        "field": ".".join(e.field_name for e in v.field.elements),
                        "rule": v.rule_id,
                        "message": v.message,
                    }
                    for v in validate_pb2.Violations.FromString(payload).violations
                ]
                facts["violations"] = violations
                if violations:
                    facts.setdefault("field", violations[0]["field"])
    return facts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", default="127.0.0.1:8080", help="gateway host:port (gRPC over h2c)")
    parser.add_argument("--key", default=os.environ.get("VA_API_KEY", "sandbox-demo-key"), help="API key")
    parser.add_argument("--bank", default="BCA")
    parser.add_argument("--amount", type=int, default=25000, help="whole rupiah")
    parser.add_argument("--name", default="Budi Santoso", help="payer name")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the payment")
    args = parser.parse_args()

    metadata = (("authorization", f"Bearer {args.key}"),)
    # No proxy: the gateway is addressed directly, even where http_proxy is set.
    with grpc.insecure_channel(args.target, options=(("grpc.enable_http_proxy", 0),)) as channel:
        stub = va_pb2_grpc.VaServiceStub(channel)
        try:
            created = stub.CreateVirtualAccount(
                va_pb2.CreateVirtualAccountRequest(
                    idempotency_key=f"py-{uuid.uuid4()}",
                    merchant_reference=f"py-{uuid.uuid4().hex[:8]}",
                    bank_code=args.bank,
                    usage=va_pb2.VA_USAGE_SINGLE,
                    amount=va_pb2.AmountRule(fixed=va_pb2.FixedAmount(amount=args.amount)),
                    customer=va_pb2.Customer(name=args.name),
                ),
                metadata=metadata,
                timeout=10,
            )
            va = created.virtual_account
            emit("created", va)

            # Open the stream first; pay once it has shown the creation event, so the payment is
            # seen live rather than replayed.
            stream = stub.StreamPaymentEvents(
                va_pb2.StreamPaymentEventsRequest(virtual_account_id=va.id),
                metadata=metadata,
                timeout=args.timeout,
            )
            for item in stream:
                if item.WhichOneof("kind") != "event":
                    continue
                event = item.event
                if event.type == va_pb2.EVENT_TYPE_VIRTUAL_ACCOUNT_CREATED:
                    simulated = stub.SimulatePayment(
                        va_pb2.SimulatePaymentRequest(virtual_account_id=va.id), metadata=metadata, timeout=10
                    )
                    emit("simulated", simulated)
                elif event.type == va_pb2.EVENT_TYPE_PAYMENT_RECEIVED:
                    emit("payment", event)
                    stream.cancel()
                    return 0
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                print(json.dumps({"error": "payment did not arrive in time"}), file=sys.stderr)
                return 2
            detail = error_details(error)
            print(
                json.dumps({"error": {"code": error.code().name, "message": error.details(), **detail}}),
                file=sys.stderr,
            )
            return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
