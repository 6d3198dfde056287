#!/usr/bin/env python3
"""A small HTTP/1.1 server for qtap's end-to-end tests (keep-alive on).

Routes:
  GET  /hello          short text body with Content-Length
  POST /echo           echoes the request body (Content-Length or chunked)
  GET  /chunked        chunked transfer coding, several chunks
  GET  /gzip, /deflate compressed text with Content-Encoding
  GET  /big?n=N        N bytes of a repeating pattern
  GET  /nocontent      204
  GET  /close          body delimited by connection close (HTTP/1.0 style)
Usage: http_server.py [PORT [HOST]] [--cert C --key K]. Prints "READY <port>" once
listening.
"""
import argparse
import gzip
import http.server
import socket
import socketserver
import ssl
import sys
import zlib
from urllib.parse import parse_qs, urlparse

CHUNKS = [b"first chunk;", b"second, a bit longer chunk;", b"third" * 50]
TEXT = b"qtap compressed body: " + b"the quick brown fox jumps over the lazy dog. " * 40


def pattern(n):
    unit = bytes(range(32, 127))
    return (unit * (n // len(unit) + 1))[:n]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, ctype="text/plain", extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/hello":
            self.send_body(b"hello world\n")
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for c in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/gzip":
            self.send_body(gzip.compress(TEXT), extra=[("Content-Encoding", "gzip")])
        elif url.path == "/deflate":
            self.send_body(zlib.compress(TEXT), extra=[("Content-Encoding", "deflate")])
        elif url.path == "/big":
            n = int(parse_qs(url.query).get("n", ["1024"])[0])
            self.send_body(pattern(n), ctype="application/octet-stream")
        elif url.path == "/nocontent":
            self.send_response(204)
            self.end_headers()
        elif url.path == "/close":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"delimited by close\n")
            self.close_connection = True
        else:
            self.send_error(404)

    do_HEAD = do_GET

    def do_POST(self):
        body = self.read_body()
        if urlparse(self.path).path == "/echo":
            self.send_body(body, ctype=self.headers.get("Content-Type", "application/octet-stream"))
        else:
            self.send_error(404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", nargs="?", type=int, default=0)
    ap.add_argument("host", nargs="?", default="127.0.0.1")
    ap.add_argument("--cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--key", help="and this private key (PEM)")
    args = ap.parse_args()
    srv = (Server6 if ":" in args.host else Server)((args.host, args.port), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("READY", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
