"""Plaintext HTTP/1 through the real kernel probes: curl and python clients,
a python server started before qtap, both views of every exchange."""
import os
import random
import socket
import string
import subprocess

import pytest

from harness import SYS_PYTHON, addr, body_bytes, header, http_server, marker, Qtap, require_bpf

CURL = "/usr/bin/curl"


@pytest.fixture(scope="module")
def server():
    require_bpf()
    s = http_server()  # started before qtap: its listening socket predates the probes
    yield s
    s.stop()


@pytest.fixture(scope="module")
def qtap(server, tmp_path_factory):
    q = Qtap(tmp_path_factory.mktemp("qtap")).start()
    yield q
    rc = q.stop()
    assert rc == 0, q.stderr()


def by_marker(m, direction):
    def pred(r):
        if r["type"] != "http" or r["connection"]["direction"] != direction:
            return False
        req = r["http"]["request"]
        return req is not None and m in req["path"]
    return pred


def run_curl(*args):
    p = subprocess.run([CURL, "-sS", "--max-time", "20", *args], capture_output=True)
    assert p.returncode == 0, p.stderr
    return p


def test_post_both_views_field_by_field(server, qtap, tmp_path):
    m = marker()
    token = "".join(random.choices(string.ascii_letters, k=24))
    body = "".join(random.choices(string.ascii_letters + string.digits, k=150 * 1024)).encode()
    f = tmp_path / "body"
    f.write_bytes(body)
    url = f"http://127.0.0.1:{server.port}/echo?id={m}&x=1"
    client = subprocess.Popen([CURL, "-sS", "--max-time", "20", "-o", str(tmp_path / "resp"),
                               "-H", f"X-Qtap-Test: {token}", "-H", "Content-Type: text/plain",
                               "--data-binary", f"@{f}", url])
    assert client.wait(30) == 0
    assert (tmp_path / "resp").read_bytes() == body

    egress = qtap.wait_for(by_marker(m, "egress"), what="curl's egress record")[0]
    ingress = qtap.wait_for(by_marker(m, "ingress"), what="the server's ingress record")[0]

    for r in (egress, ingress):
        http = r["http"]
        assert http["version"] == "HTTP/1.1"
        req, resp = http["request"], http["response"]
        assert req["method"] == "POST"
        assert req["path"] == f"/echo?id={m}&x=1"
        assert req["url"] == url
        assert req["authority"] == f"127.0.0.1:{server.port}"
        assert header(req, "X-Qtap-Test") == [token]
        assert req["body"]["size"] == len(body)
        assert req["body"]["truncated"] is False
        assert body_bytes(req["body"]) == body
        assert resp["status"] == 200
        assert resp["reason"] == "OK"
        assert body_bytes(resp["body"]) == body
        assert r["connection"]["tls"] is False
        assert r["connection"]["tls_library"] is None
        assert r["host"]["hostname"] == os.uname().nodename
        assert r["duration_ms"] >= 0
        assert r["process"]["uid"] == 0 and r["process"]["user"] == "root"

    assert egress["process"]["pid"] == client.pid
    assert egress["process"]["exe"] == CURL
    assert egress["process"]["comm"] == "curl"
    assert url in egress["process"]["cmdline"]
    assert ingress["process"]["pid"] == server.pid
    assert ingress["process"]["exe"] == os.path.realpath(SYS_PYTHON)
    assert "http_server.py" in ingress["process"]["cmdline"]

    # The 4-tuple, seen from both ends.
    ec, ic = egress["connection"], ingress["connection"]
    assert ec["remote"] == {"ip": "127.0.0.1", "port": server.port, "scope": "loopback"}
    assert ec["local"]["ip"] == "127.0.0.1"
    assert addr(ic["local"]) == addr(ec["remote"]) and addr(ic["remote"]) == addr(ec["local"])
    assert ec["id"] != ic["id"]


def test_chunked_response_is_dechunked(server, qtap):
    m = marker()
    run_curl(f"http://127.0.0.1:{server.port}/chunked?id={m}")
    r = qtap.wait_for(by_marker(m, "egress"), what="chunked response")[0]
    resp = r["http"]["response"]
    expected = b"first chunk;" + b"second, a bit longer chunk;" + b"third" * 50
    assert header(resp, "Transfer-Encoding") == ["chunked"]
    assert body_bytes(resp["body"]) == expected
    assert resp["body"]["size"] == len(expected)
    assert resp["body"]["truncated"] is False


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_response_is_decoded(server, qtap, encoding):
    m = marker()
    # Without --compressed curl does not decode, but the bytes on the wire are the same.
    run_curl(f"http://127.0.0.1:{server.port}/{encoding}?id={m}")
    r = qtap.wait_for(by_marker(m, "egress"), what=f"{encoding} response")[0]
    body = r["http"]["response"]["body"]
    text = b"qtap compressed body: " + b"the quick brown fox jumps over the lazy dog. " * 40
    assert body["content_encoding"] == encoding
    assert body["content_decoded"] is True
    assert body_bytes(body) == text
    assert body["size"] == len(text)
    assert body["wire_size"] < len(text)


def test_keep_alive_shares_connection_id(server, qtap):
    m = marker()
    base = f"http://127.0.0.1:{server.port}"
    run_curl(f"{base}/hello?id={m}-1", f"{base}/hello?id={m}-2", f"{base}/hello?id={m}-3")
    egress = qtap.wait_for(by_marker(m, "egress"), count=3, what="three keep-alive requests")
    ingress = qtap.wait_for(by_marker(m, "ingress"), count=3, what="three keep-alive requests (server)")
    assert sorted(r["http"]["request"]["path"] for r in egress) == [
        f"/hello?id={m}-1", f"/hello?id={m}-2", f"/hello?id={m}-3"]
    assert len({r["connection"]["id"] for r in egress}) == 1
    assert len({r["connection"]["id"] for r in ingress}) == 1
    for r in egress:
        assert body_bytes(r["http"]["response"]["body"]) == b"hello world\n"


def test_python_client(server, qtap):
    m = marker()
    payload = os.urandom(200 * 1024)  # binary: reported base64
    code = (
        "import http.client,sys\n"
        f"c=http.client.HTTPConnection('127.0.0.1',{server.port})\n"
        f"c.request('POST','/echo?id={m}',body=sys.stdin.buffer.read(),"
        "headers={'Content-Type':'application/octet-stream','X-Client':'py'})\n"
        "r=c.getresponse(); d=r.read(); assert r.status==200\n"
        f"c.request('HEAD','/hello?id={m}-head'); r=c.getresponse(); r.read()\n"
        f"c.request('GET','/nocontent?id={m}-204'); r=c.getresponse(); r.read()\n"
    )
    p = subprocess.run([SYS_PYTHON, "-c", code], input=payload, capture_output=True)
    assert p.returncode == 0, p.stderr
    recs = qtap.wait_for(by_marker(m, "egress"), count=3, what="python client's requests")
    by_method = {r["http"]["request"]["method"]: r for r in recs}
    post = by_method["POST"]
    assert post["process"]["exe"] == os.path.realpath(SYS_PYTHON)
    assert post["http"]["request"]["body"]["encoding"] == "base64"
    assert body_bytes(post["http"]["request"]["body"]) == payload
    assert body_bytes(post["http"]["response"]["body"]) == payload
    head = by_method["HEAD"]["http"]["response"]
    assert head["status"] == 200 and head["body"]["size"] == 0
    assert header(head, "Content-Length") == ["12"]
    nc = by_method["GET"]["http"]["response"]
    assert nc["status"] == 204 and nc["body"]["size"] == 0
    assert len({r["connection"]["id"] for r in recs}) == 1


def recv_until(s, needle):
    buf = b""
    while needle not in buf:
        chunk = s.recv(65536)
        assert chunk, f"connection closed before {needle!r}; got {buf!r}"
        buf += chunk
    return buf


def test_connection_opened_before_qtap_is_tracked(server, tmp_path):
    """A keep-alive connection opened before qtap starts: qtap learns it from
    its first data call and infers the direction from the protocol."""
    m = marker()
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(f"GET /hello?id={m}-before HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    recv_until(s, b"hello world")
    q = Qtap(tmp_path / "late").start()
    try:
        s.sendall(f"GET /hello?id={m}-after HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        recv_until(s, b"hello world")
        rec = q.wait_for(by_marker(m, "egress"), what="request on a pre-existing connection")[0]
        srv = q.wait_for(by_marker(m, "ingress"), what="server side of it")[0]
        assert rec["http"]["request"]["path"] == f"/hello?id={m}-after"
        assert rec["process"]["pid"] == os.getpid()
        assert rec["connection"]["remote"]["port"] == server.port
        assert srv["process"]["pid"] == server.pid
    finally:
        s.close()
        assert q.stop() == 0


def test_non_http_connection_is_reported(qtap):
    """Garbage bytes: no http record, a connection record with byte counts."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    port = ls.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = ls.accept()
    junk = bytes(random.getrandbits(8) for _ in range(3000)).replace(b"\x16", b"\x00")
    c.sendall(b"\x00\x01" + junk)
    got = b""
    while len(got) < len(junk) + 2:
        got += a.recv(65536)
    a.sendall(b"\xff" * 77)
    assert len(c.recv(100)) > 0
    c.close()
    a.close()
    ls.close()

    def pred(r):
        return (r["type"] == "connection" and r["process"]["pid"] == os.getpid()
                and r["connection"]["remote"]["port"] == port)
    rec = qtap.wait_for(pred, what="connection record for the junk connection")[0]
    assert rec["connection"]["protocol"] == "unknown"
    assert rec["connection"]["direction"] == "egress"
    assert rec["connection"]["bytes_sent"] == len(junk) + 2
    assert rec["connection"]["bytes_received"] == 77
    srv = qtap.wait_for(lambda r: r["type"] == "connection" and r["process"]["pid"] == os.getpid()
                        and r["connection"]["local"]["port"] == port, what="accepted side")[0]
    assert srv["connection"]["direction"] == "ingress"
    assert srv["connection"]["bytes_received"] == len(junk) + 2
    assert not [r for r in qtap.records() if r["type"] == "http" and
                r["connection"]["id"] in (rec["connection"]["id"], srv["connection"]["id"])]


def test_client_started_right_after_ready(server, tmp_path):
    """A new qtap; the first request of a client started the moment qtap is
    ready is captured."""
    m = marker()
    q = Qtap(tmp_path / "fresh").start()
    try:
        run_curl(f"http://127.0.0.1:{server.port}/hello?id={m}")
        r = q.wait_for(by_marker(m, "egress"), what="first request after ready")[0]
        assert r["http"]["response"]["status"] == 200
    finally:
        assert q.stop() == 0


def test_ipv6_loopback(qtap):
    srv = http_server("::1")
    try:
        m = marker()
        run_curl("-g", f"http://[::1]:{srv.port}/hello?id={m}")
        e = qtap.wait_for(by_marker(m, "egress"), what="IPv6 client record")[0]
        i = qtap.wait_for(by_marker(m, "ingress"), what="IPv6 server record")[0]
        assert e["connection"]["remote"] == {"ip": "::1", "port": srv.port, "scope": "loopback"}
        assert e["connection"]["local"]["ip"] == "::1"
        assert addr(i["connection"]["local"]) == addr(e["connection"]["remote"])
        assert addr(i["connection"]["remote"]) == addr(e["connection"]["local"])
        assert e["http"]["request"]["url"] == f"http://[::1]:{srv.port}/hello?id={m}"
        assert body_bytes(e["http"]["response"]["body"]) == b"hello world\n"
    finally:
        srv.stop()


def test_nginx_static_files_copy_and_sendfile(qtap, tmp_path):
    """nginx serving files: with sendfile off the body is written from user
    memory and captured byte for byte; with sendfile on it never passes
    through user memory: qtap reports its full size, truncated, and keeps
    parsing the next request on the same connection."""
    from peers.nginx import Nginx
    data = os.urandom(100 * 1024)
    srv = Nginx(tmp_path, {"copy/f.bin": data, "sendfile/f.bin": data})
    try:
        m = marker()
        base = f"http://127.0.0.1:{srv.port}"
        run_curl("-o", "/dev/null", f"{base}/copy/f.bin?id={m}-copy",
                 "-o", "/dev/null", f"{base}/sendfile/f.bin?id={m}-sf",
                 "-o", "/dev/null", f"{base}/copy/f.bin?id={m}-after")
        recs = {r["http"]["request"]["path"].split("-")[-1]: r
                for r in qtap.wait_for(lambda r: by_marker(m, "ingress")(r) and r["process"]["pid"] == srv.pid,
                                       count=3, what="nginx's three responses")}
        copy = recs["copy"]["http"]["response"]["body"]
        assert copy["truncated"] is False and body_bytes(copy) == data
        sf = recs["sf"]["http"]["response"]["body"]
        assert sf["size"] == len(data) and sf["truncated"] is True
        assert recs["after"]["http"]["response"]["status"] == 200
        assert body_bytes(recs["after"]["http"]["response"]["body"]) == data
        assert recs["sf"]["process"]["exe"] == "/usr/sbin/nginx"
        # The client side saw every byte.
        client = qtap.wait_for(lambda r: by_marker(m, "egress")(r) and "-sf" in r["http"]["request"]["path"],
                               what="curl's view of the sendfile response")[0]
        assert body_bytes(client["http"]["response"]["body"]) == data
    finally:
        srv.stop()
