#!/usr/bin/python3
"""A client of `tqs1 serve` that knows nothing of tqs1: standard gRPC tooling.

Lists the services through server reflection (v1alpha, what gRPC 1.51
serves), fetches tqs1.v1.Tqs1's descriptors from the server, checks health,
and calls GetDrift with messages built from those descriptors.

Needs Debian's python3-grpcio, python3-protobuf and grpc-proto, and protoc
(protobuf-compiler). Use /usr/bin/python3 (not a pyenv python):

    /usr/bin/python3 cli/server/tools/grpc_probe.py 127.0.0.1:50051 \
        [SERVICE] [--refresh]
    # SERVICE: a health service name, e.g. "tqs1.ready" (default: "", the
    # server's liveness); --refresh: GetDrift observes again first.

Plaintext only (a loopback server); a TLS server needs
grpc.ssl_channel_credentials() instead of insecure_channel().
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf import message_factory

PROTOS = "/usr/share/grpc-proto"


def generated_modules():
    """Compiles the health and reflection protos with protoc, imports them."""
    out = tempfile.mkdtemp(prefix="tqs1-probe-")
    subprocess.run(
        ["protoc", "-I", PROTOS, "--python_out", out,
         "grpc/health/v1/health.proto",
         "grpc/reflection/v1alpha/reflection.proto"],
        check=True)
    # The generated package is named "grpc" too: load the files by path.
    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, os.path.join(out, path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    health_pb2 = load("health_pb2", "grpc/health/v1/health_pb2.py")
    reflection_pb2 = load("reflection_pb2",
                          "grpc/reflection/v1alpha/reflection_pb2.py")
    return health_pb2, reflection_pb2


def main():
    args = [a for a in sys.argv[1:] if a != "--refresh"]
    refresh = "--refresh" in sys.argv[1:]
    target = args[0] if args else "127.0.0.1:50051"
    health_service = args[1] if len(args) > 1 else ""
    health_pb2, reflection_pb2 = generated_modules()
    channel = grpc.insecure_channel(target)

    reflect = channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    [listing] = list(reflect(iter(
        [reflection_pb2.ServerReflectionRequest(list_services="*")])))
    services = [s.name for s in listing.list_services_response.service]
    print("services:", services)

    [files] = list(reflect(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="tqs1.v1.Tqs1")])))
    pool = descriptor_pool.DescriptorPool()
    pending = [descriptor_pb2.FileDescriptorProto.FromString(b)
               for b in files.file_descriptor_response.file_descriptor_proto]
    while pending:
        for fdp in list(pending):
            if all(_has_file(pool, d) for d in fdp.dependency):
                pool.Add(fdp)
                pending.remove(fdp)
    service = pool.FindServiceByName("tqs1.v1.Tqs1")
    print("tqs1.v1.Tqs1 methods:", [m.name for m in service.methods])

    method = service.methods_by_name["GetDrift"]
    factory = message_factory.MessageFactory(pool)
    request_class = factory.GetPrototype(method.input_type)
    response_class = factory.GetPrototype(method.output_type)
    get_drift = channel.unary_unary(
        "/tqs1.v1.Tqs1/GetDrift",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString)
    drift = get_drift(request_class(refresh=refresh), timeout=120)
    print("GetDrift:", json.dumps(json.loads(json_format.MessageToJson(drift))))

    # After GetDrift: a refresh makes a server ready that had no round yet.
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString)
    status = check(health_pb2.HealthCheckRequest(service=health_service))
    print("health(%r):" % health_service,
          health_pb2.HealthCheckResponse.ServingStatus.Name(status.status))



def _has_file(pool, name):
    try:
        pool.FindFileByName(name)
        return True
    except KeyError:
        return False


if __name__ == "__main__":
    main()
