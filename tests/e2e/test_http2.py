"""HTTP/2 and gRPC through the real probes: curl and nghttp against nghttpd and
nginx (TLS with ALPN h2, and cleartext h2c with prior knowledge), gRPC with
Debian's python3-grpcio (insecure and TLS). Field by field in the JSON."""
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from harness import PEERS, SYS_PYTHON, body_bytes, header, marker, Peer, require_bpf

CURL = "/usr/bin/curl"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what} did not start")
            time.sleep(0.05)


class Nghttpd:
    def __init__(self, workdir, cert=None):
        self.dir = Path(workdir)
        (self.dir / "www").mkdir(parents=True, exist_ok=True)
        for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
            (self.dir / "www" / name).write_bytes(f"content of {name}\n".encode() * 20)
        self.port = free_port()
        cmd = ["nghttpd", "-d", str(self.dir / "www")]
        if cert:
            cmd += [str(self.port), str(cert[1]), str(cert[0])]
        else:
            cmd += ["--no-tls", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        wait_port(self.port, self.proc, "nghttpd")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def h2(m, direction=None):
    def pred(r):
        if r["type"] != "http" or r["http"]["version"] != "HTTP/2":
            return False
        req = r["http"]["request"]
        if not req or m not in req["path"]:
            return False
        return direction is None or r["connection"]["direction"] == direction
    return pred


def test_curl_http2_over_tls_to_nghttpd(qtap, cert, tmp_path):
    srv = Nghttpd(tmp_path, cert)
    try:
        m = marker()
        url = f"https://localhost:{srv.port}/a.txt?id={m}"
        p = subprocess.run([CURL, "-sS", "--http2", "--cacert", str(cert[0]), "-H", f"X-H2: {m}", url],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        e = qtap.wait_for(h2(m, "egress"), what="curl's HTTP/2 record")[0]
        i = qtap.wait_for(h2(m, "ingress"), what="nghttpd's HTTP/2 record")[0]
        for r in (e, i):
            req, resp = r["http"]["request"], r["http"]["response"]
            assert req["method"] == "GET"
            assert req["url"] == url
            assert header(req, "x-h2") == [m]
            assert resp["status"] == 200
            assert body_bytes(resp["body"]) == p.stdout
            assert r["http"]["stream_id"] % 2 == 1
            assert r["connection"]["tls"] is True and r["connection"]["tls_library"] == "openssl"
        assert e["process"]["exe"] == CURL
        assert i["process"]["pid"] == srv.pid
    finally:
        srv.stop()


def test_multiplexed_streams_on_one_connection(qtap, cert, tmp_path):
    srv = Nghttpd(tmp_path, cert)
    try:
        m = marker()
        urls = [f"https://localhost:{srv.port}/{n}.txt?id={m}-{n}" for n in "abcd"]
        p = subprocess.run(["nghttp", "-n", "-c", "4", *urls], capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        recs = qtap.wait_for(h2(m, "egress"), count=4, what="four multiplexed streams")
        assert len({r["connection"]["id"] for r in recs}) == 1
        assert len({r["http"]["stream_id"] for r in recs}) == 4
        for r in recs:
            name = r["http"]["request"]["path"].split("/")[1].split("?")[0]
            assert body_bytes(r["http"]["response"]["body"]) == f"content of {name}\n".encode() * 20
        srv_recs = qtap.wait_for(h2(m, "ingress"), count=4, what="nghttpd's four streams")
        assert {r["http"]["stream_id"] for r in srv_recs} == {r["http"]["stream_id"] for r in recs}
    finally:
        srv.stop()


def test_h2c_prior_knowledge(qtap, tmp_path):
    srv = Nghttpd(tmp_path)
    try:
        m = marker()
        url = f"http://127.0.0.1:{srv.port}/b.txt?id={m}"
        p = subprocess.run([CURL, "-sS", "--http2-prior-knowledge", url], capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        r = qtap.wait_for(h2(m, "egress"), what="curl's h2c request")[0]
        assert r["connection"]["tls"] is False
        assert r["http"]["response"]["status"] == 200
        assert r["http"]["request"]["url"] == url
        assert body_bytes(r["http"]["response"]["body"]) == p.stdout
        # Two streams on one cleartext connection: the second request's header
        # block refers to HPACK dynamic table entries the first one added.
        p = subprocess.run(["nghttp", "-n", "-H", f"x-same: {m}", url + "-1", url + "-2"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        recs = qtap.wait_for(h2(m + "-", "egress"), count=2, what="two h2c streams from nghttp")
        assert len({r["connection"]["id"] for r in recs}) == 1
        for r in recs:
            assert header(r["http"]["request"], "x-same") == [m]
            assert r["http"]["notes"] == []
    finally:
        srv.stop()


def test_nginx_http2(qtap, cert, tmp_path):
    from peers.nginx import Nginx
    srv = Nginx(tmp_path, {"copy/x.txt": b"nginx h2 body\n"}, tls=cert, http2=True)
    try:
        m = marker()
        base = f"https://localhost:{srv.port}/copy/x.txt?id={m}"
        p = subprocess.run([CURL, "-sS", "--http2", "--cacert", str(cert[0]), base + "-1", base + "-2", base + "-3"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        for direction in ("egress", "ingress"):
            recs = qtap.wait_for(h2(m, direction), count=3, what=f"nginx h2 ({direction})")
            assert len({r["connection"]["id"] for r in recs}) == 1
            for r in recs:
                assert body_bytes(r["http"]["response"]["body"]) == b"nginx h2 body\n"
    finally:
        srv.stop()


@pytest.fixture(scope="module", params=["insecure", "tls"])
def grpc_server(request, cert):
    require_bpf()
    extra = ["--cert", str(cert[0]), "--key", str(cert[1])] if request.param == "tls" else []
    s = Peer([SYS_PYTHON, str(PEERS / "grpc_peer.py"), "serve", *extra])
    s.tls = request.param == "tls"
    yield s
    s.stop()


def grpc_call(server, cert, method, name, count=3):
    extra = ["--ca", str(cert[0])] if server.tls else []
    p = subprocess.run([SYS_PYTHON, str(PEERS / "grpc_peer.py"), "call", str(server.port), method, name,
                        "--count", str(count), *extra], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines(), p


def grpc_call_of(method, name, direction="egress"):
    """The client's (or with "ingress" the server's) record of a call whose request message
    carries `name`."""
    def pred(r):
        g = r["type"] == "http" and r["http"].get("grpc")
        return (bool(g) and g["method"] == method and r["connection"]["direction"] == direction and
                any(name in json.dumps(m.get("decoded")) for m in g["requests"]))
    return pred


def test_grpc_unary_stream_and_error(qtap, grpc_server, cert):
    name = "qtap-" + marker()[:8]
    out, _ = grpc_call(grpc_server, cert, "SayHello", name)
    assert out == [f"reply hello {name}"]
    r = qtap.wait_for(grpc_call_of("SayHello", name), what="the unary call")[0]
    g = r["http"]["grpc"]
    assert g["service"] == "demo.Greeter"
    assert g["status_code"] == 0
    assert g["request_messages"] == 1 and g["response_messages"] == 1
    assert g["requests"][0]["decoded"]["1"] == name
    assert g["responses"][0]["decoded"]["1"] == f"hello {name}"
    assert r["connection"]["tls"] is grpc_server.tls

    out, _ = grpc_call(grpc_server, cert, "SayHellos", name, count=4)
    assert len(out) == 4
    r = qtap.wait_for(grpc_call_of("SayHellos", name), what="the server-streaming call")[0]
    g = r["http"]["grpc"]
    assert g["response_messages"] == 4 and g["status_code"] == 0
    assert [m["decoded"]["1"] for m in g["responses"]] == [f"hello {name}#{k}" for k in range(4)]
    # The server's view of the same call, whole. Over TLS both peers use memory BIOs, and
    # each may see the other's SETTINGS before its session is bound to the socket.
    r = qtap.wait_for(grpc_call_of("SayHellos", name, "ingress"), what="the server's view of the call")[0]
    g = r["http"]["grpc"]
    assert g["response_messages"] == 4 and g["status_code"] == 0
    assert not any("before the capture" in n for n in r["http"].get("notes") or [])
    assert r["connection"]["local"]["port"] == grpc_server.port

    out, _ = grpc_call(grpc_server, cert, "Find", name)
    assert out == [f"status NOT_FOUND no such name: {name}"]
    r = qtap.wait_for(lambda r: bool(r["type"] == "http" and r["http"].get("grpc")) and
                      r["http"]["grpc"]["method"] == "Find" and r["connection"]["direction"] == "egress" and
                      name in r["http"]["grpc"]["status_message"],
                      what="the failing call")[0]
    g = r["http"]["grpc"]
    assert g["status_code"] == 5
    assert g["status_message"] == f"no such name: {name}"
    assert g["response_messages"] == 0
