"""TLS plaintext beyond OpenSSL: Go crypto/tls (built here with Debian's Go
1.19, unstripped and stripped), GnuTLS (libcurl-gnutls, gnutls-cli) and NSS
(libcurl-nss). Field by field in the JSON."""
import os
import subprocess
import threading

import pytest

from harness import IN_CI, PEERS, addr, body_bytes, header, http_server, marker, mine, Peer, require_bpf

GO = "/usr/lib/go-1.19/bin/go"
CURL = "/usr/bin/curl"


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    """tlspeer built twice: with symbols and stripped (-s -w)."""
    if not os.path.exists(GO):
        msg = "golang-1.19-go is part of the test peers and must be installed"
        pytest.fail(msg) if IN_CI else pytest.skip(msg)
    d = tmp_path_factory.mktemp("go")
    env = dict(os.environ, HOME=str(d), GOCACHE=str(d / "cache"), GOPATH=str(d / "gopath"),
               GOFLAGS="", GO111MODULE="auto")
    out = {}
    for name, flags in (("plain", []), ("stripped", ["-ldflags=-s -w"])):
        exe = d / f"tlspeer-{name}"
        subprocess.run([GO, "build", *flags, "-o", str(exe), str(PEERS / "go" / "tlspeer.go")],
                       check=True, env=env, capture_output=True, timeout=300)
        out[name] = str(exe)
    return out


def go_server(qtap, gobin, variant, cert):
    """The Go server; its client is the same binary, so it starts once the
    binary is probed (what a program exec'd within the first milliseconds
    of a new binary's life may miss is measured, not tested here)."""
    srv = Peer([gobin[variant], "serve", str(cert[0]), str(cert[1])])
    qtap.wait_probed(gobin[variant])
    return srv


@pytest.mark.parametrize("variant", ["plain", "stripped"])
@pytest.mark.parametrize("proto", ["H1", "H2"])
def test_go_client_and_server(qtap, gobin, cert, variant, proto):
    srv = go_server(qtap, gobin, variant, cert)
    try:
        m = marker()
        n, size = 8, 1 << 20
        p = subprocess.run([gobin[variant], "get", f"https://localhost:{srv.port}/upload?id={m}", str(cert[0]),
                            str(n), str(size), proto], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and p.stdout.count("ok ") == n, p.stdout + p.stderr
        version = "HTTP/1.1" if proto == "H1" else "HTTP/2"
        payload = bytes(ord("a") + i % 26 for i in range(size))
        for direction in ("egress", "ingress"):
            recs = qtap.wait_for(mine(m, direction), count=n, what=f"{n} Go {version} requests ({direction})")
            paths = sorted(r["http"]["request"]["path"] for r in recs)
            assert paths == sorted(f"/upload?id={m}-{i}" for i in range(n)), "each request exactly once"
            assert len({r["connection"]["id"] for r in recs}) == n
            for r in recs:
                assert r["connection"]["tls"] is True and r["connection"]["tls_library"] == "go"
                assert r["http"]["version"] == version
                req, resp = r["http"]["request"], r["http"]["response"]
                assert req["method"] == "POST"
                assert req["body"]["size"] == size and body_bytes(req["body"]) == payload
                assert resp["status"] == 200
                assert header(resp, "x-go-proto") == [version if proto == "H1" else "HTTP/2.0"]
                assert body_bytes(resp["body"]) == payload
                assert r["process"]["exe"] == gobin[variant]
            if direction == "egress":
                ports = {r["connection"]["local"]["port"] for r in recs}
                assert len(ports) == n and all(r["connection"]["remote"]["port"] == srv.port for r in recs)
            else:
                assert {r["process"]["pid"] for r in recs} == {srv.pid}
    finally:
        srv.stop()


def test_go_and_curl_at_the_same_time(qtap, gobin, cert):
    """Two runtimes in parallel against one Go server: every record carries
    its own runtime's library and process, nothing crosses over."""
    srv = go_server(qtap, gobin, "plain", cert)
    try:
        m = marker()
        def go_client():
            subprocess.run([gobin["plain"], "get", f"https://localhost:{srv.port}/go?id={m}-go", str(cert[0]),
                            "10", "2000", "H1"], check=True, capture_output=True, timeout=120)
        t = threading.Thread(target=go_client)
        t.start()
        for k in range(10):
            subprocess.run([CURL, "-sS", "--cacert", str(cert[0]), "-d", "x" * 2000,
                            f"https://localhost:{srv.port}/curl?id={m}-curl-{k}"], check=True, capture_output=True)
        t.join()
        go = qtap.wait_for(lambda r: mine(m + "-go", "egress")(r), count=10, what="Go client records")
        cu = qtap.wait_for(lambda r: mine(m + "-curl", "egress")(r), count=10, what="curl records")
        assert {r["connection"]["tls_library"] for r in go} == {"go"}
        assert {r["process"]["exe"] for r in go} == {gobin["plain"]}
        assert {r["connection"]["tls_library"] for r in cu} == {"openssl"}
        assert {r["process"]["exe"] for r in cu} == {CURL}
        srv_recs = qtap.wait_for(lambda r: mine(m, "ingress")(r), count=20, what="server records")
        assert {r["connection"]["tls_library"] for r in srv_recs} == {"go"}
        assert len({r["http"]["request"]["path"] for r in srv_recs}) == 20
    finally:
        srv.stop()


def build_curl_client(tmp_path, flavour):
    exe = tmp_path / f"curl_client_{flavour}"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(PEERS / "curl_client.c"),
                    f"/usr/lib/x86_64-linux-gnu/libcurl-{flavour}.so.4"], check=True, capture_output=True)
    return str(exe)


@pytest.fixture(scope="module")
def py_server(cert):
    require_bpf()
    s = http_server(tls=cert)
    yield s
    s.stop()


@pytest.mark.parametrize("flavour,library", [("gnutls", "gnutls"), ("nss", "nss")])
def test_libcurl_flavours(qtap, py_server, cert, tmp_path, flavour, library):
    exe = build_curl_client(tmp_path, flavour)
    m = marker()
    ca = str(cert[0]) if flavour == "gnutls" else "insecure"
    body = "posted-by-" + flavour + "-" + m
    p = subprocess.run([exe, f"https://localhost:{py_server.port}/echo?id={m}", ca, f"X-Flavour: {flavour}", body],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == body
    r = qtap.wait_for(mine(m, "egress"), what=f"libcurl-{flavour} record")[0]
    assert r["connection"]["tls"] is True
    assert r["connection"]["tls_library"] == library
    assert r["process"]["exe"] == exe
    assert header(r["http"]["request"], "X-Flavour") == [flavour]
    assert body_bytes(r["http"]["request"]["body"]) == body.encode()
    assert body_bytes(r["http"]["response"]["body"]) == body.encode()
    assert r["connection"]["remote"]["port"] == py_server.port
    srv = qtap.wait_for(mine(m, "ingress"), what="the server's view")[0]
    assert addr(srv["connection"]["local"]) == addr(r["connection"]["remote"])


def test_gnutls_cli(qtap, py_server, cert):
    m = marker()
    req = f"GET /hello?id={m} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    p = subprocess.run(["gnutls-cli", "--x509cafile", str(cert[0]), "-p", str(py_server.port), "localhost"],
                       input=req, capture_output=True, text=True, timeout=60)
    assert "hello world" in p.stdout, p.stdout + p.stderr
    r = qtap.wait_for(mine(m, "egress"), what="gnutls-cli's request")[0]
    assert r["connection"]["tls_library"] == "gnutls"
    assert r["process"]["comm"] == "gnutls-cli"
    assert body_bytes(r["http"]["response"]["body"]) == b"hello world\n"
