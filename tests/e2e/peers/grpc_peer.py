#!/usr/bin/env python3
"""A gRPC server and client for the end-to-end tests, without generated code:
messages are raw protobuf bytes encoded by hand (Debian's python3-grpcio has
no protoc). Run with Debian's /usr/bin/python3.

  grpc_peer.py serve [--cert C --key K]            prints "READY <port>"
  grpc_peer.py call PORT METHOD NAME [--ca C]      prints the reply fields

Service demo.Greeter:
  SayHello(HelloRequest{1: name})          -> HelloReply{1: "hello " + name, 2: len(name)}
  SayHellos(HelloRequest{1: name, 2: n})   -> stream of n HelloReply
  Find(HelloRequest{1: name})              -> NOT_FOUND "no such name: <name>"
"""
import argparse
import sys
from concurrent import futures

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def parse(msg):
    """Field number -> list of values (ints or bytes), enough for these tests."""
    out, i = {}, 0
    while i < len(msg):
        key, shift = 0, 0
        while True:
            b = msg[i]; i += 1
            key |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80:
                break
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, shift = 0, 0
            while True:
                b = msg[i]; i += 1
                v |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
        else:
            n, shift = 0, 0
            while True:
                b = msg[i]; i += 1
                n |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            v = msg[i:i + n]; i += n
        out.setdefault(num, []).append(v)
    return out


def reply(name):
    return field_bytes(1, b"hello " + name) + field_varint(2, len(name))


def say_hello(request, context):
    return reply(parse(request)[1][0])


def say_hellos(request, context):
    f = parse(request)
    for k in range(f.get(2, [3])[0]):
        yield reply(f[1][0] + b"#" + str(k).encode())


def find(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such name: " + parse(request)[1][0].decode())


def serve(args):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello),
        "SayHellos": grpc.unary_stream_rpc_method_handler(say_hellos),
        "Find": grpc.unary_unary_rpc_method_handler(find),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("demo.Greeter", handlers)])
    if args.cert:
        creds = grpc.ssl_server_credentials([(open(args.key, "rb").read(), open(args.cert, "rb").read())])
        port = server.add_secure_port("127.0.0.1:0", creds)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("READY", port, flush=True)
    server.wait_for_termination()


def call(args):
    target = f"localhost:{args.port}"
    if args.ca:
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(open(args.ca, "rb").read()))
    else:
        channel = grpc.insecure_channel(target)
    req = field_bytes(1, args.name.encode()) + field_varint(2, args.count)
    path = f"/demo.Greeter/{args.method}"
    try:
        if args.method == "SayHellos":
            for r in channel.unary_stream(path)(req, timeout=20):
                print("reply", parse(r)[1][0].decode())
        else:
            r = channel.unary_unary(path)(req, timeout=20)
            print("reply", parse(r)[1][0].decode())
    except grpc.RpcError as e:
        print("status", e.code().name, e.details())
    channel.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--cert")
    s.add_argument("--key")
    c = sub.add_parser("call")
    c.add_argument("port", type=int)
    c.add_argument("method")
    c.add_argument("name")
    c.add_argument("--count", type=int, default=3)
    c.add_argument("--ca")
    args = ap.parse_args()
    (serve if args.cmd == "serve" else call)(args)


if __name__ == "__main__":
    main()
