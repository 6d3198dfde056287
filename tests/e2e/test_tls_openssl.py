"""TLS plaintext from OpenSSL-based programs: curl and Debian's python (dynamic
libssl.so.3), nginx, node (OpenSSL linked in statically), a libssl copy
loaded through LD_LIBRARY_PATH. Field by field in the JSON."""
import json
import os
import random
import shutil
import socket
import stat
import string
import subprocess

import pytest

from harness import (QTAP_BIN, SYS_PYTHON, Qtap, addr, body_bytes, header, http_server, marker, mine,
                     require_bpf, wait_until)

CURL = "/usr/bin/curl"
NODE = shutil.which("node") or "/usr/bin/node"


@pytest.fixture(scope="module")
def server(cert):
    require_bpf()
    s = http_server(tls=cert)  # before qtap: its libssl is found among running processes
    yield s
    s.stop()


@pytest.fixture(scope="module")
def qtap(server, tmp_path_factory):
    q = Qtap(tmp_path_factory.mktemp("qtap")).start()
    yield q
    assert q.stop() == 0, q.stderr()


def curl(cert, *args, env=None):
    p = subprocess.run([CURL, "-sS", "--max-time", "30", "--cacert", str(cert), *args],
                       capture_output=True, env=env)
    assert p.returncode == 0, p.stderr
    return p


def check_tls(r):
    assert r["connection"]["tls"] is True
    assert r["connection"]["tls_library"] == "openssl"


def test_curl_to_python_both_views(server, qtap, cert, tmp_path):
    m = marker()
    token = "".join(random.choices(string.ascii_letters, k=20))
    body = "".join(random.choices(string.ascii_letters, k=50_000)).encode()
    (tmp_path / "b").write_bytes(body)
    url = f"https://localhost:{server.port}/echo?id={m}"
    client = subprocess.Popen([CURL, "-sS", "--cacert", str(cert[0]), "-o", str(tmp_path / "out"),
                               "-H", f"X-Qtap-Marker: {token}", "-H", "Content-Type: text/plain",
                               "--data-binary", f"@{tmp_path / 'b'}", url])
    assert client.wait(30) == 0
    e = qtap.wait_for(mine(m, "egress"), what="curl's TLS record")[0]
    i = qtap.wait_for(mine(m, "ingress"), what="the python server's TLS record")[0]
    for r in (e, i):
        check_tls(r)
        req, resp = r["http"]["request"], r["http"]["response"]
        assert req["method"] == "POST"
        assert req["url"] == url
        assert header(req, "X-Qtap-Marker") == [token]
        assert body_bytes(req["body"]) == body
        assert resp["status"] == 200
        assert body_bytes(resp["body"]) == body
        assert r["http"]["notes"] == []
        # The ClientHello crossed the socket before any key: both views name the server.
        assert r["connection"]["tls_sni"] == "localhost"
    assert e["process"]["pid"] == client.pid and e["process"]["exe"] == CURL
    assert i["process"]["pid"] == server.pid and i["process"]["exe"] == os.path.realpath(SYS_PYTHON)
    assert addr(e["connection"]["remote"]) == ("127.0.0.1", server.port)
    assert addr(i["connection"]["local"]) == addr(e["connection"]["remote"])
    assert addr(i["connection"]["remote"]) == addr(e["connection"]["local"])


def test_large_upload_and_download(server, qtap, cert, tmp_path):
    m = marker()
    up = os.urandom(1 << 20)
    (tmp_path / "up").write_bytes(up)
    curl(cert[0], "-o", "/dev/null", "--data-binary", f"@{tmp_path / 'up'}",
         "-H", "Content-Type: application/octet-stream", f"https://localhost:{server.port}/echo?id={m}-up")
    curl(cert[0], "-o", str(tmp_path / "down"), f"https://localhost:{server.port}/big?n={5 << 20}&id={m}-down")
    assert (tmp_path / "down").stat().st_size == 5 << 20
    for direction in ("egress", "ingress"):
        r = qtap.wait_for(lambda r: mine(m + "-up", direction)(r), what=f"1 MiB upload ({direction})")[0]
        b = r["http"]["request"]["body"]
        assert b["size"] == 1 << 20 and b["truncated"] is False
        assert body_bytes(b) == up
        r = qtap.wait_for(lambda r: mine(m + "-down", direction)(r), what=f"5 MiB download ({direction})")[0]
        b = r["http"]["response"]["body"]
        assert b["size"] == 5 << 20
        assert b["truncated"] is True
        assert b["captured"] == 1 << 20
        assert len(body_bytes(b)) == 1 << 20


def test_nginx_keepalive_every_request_once(qtap, cert, tmp_path):
    from peers.nginx import Nginx
    srv = Nginx(tmp_path / "nginx", {"copy/small.txt": b"small body\n"}, tls=cert)
    try:
        m = marker()
        n_conns, per_conn = 4, 50
        # Each python client process makes `per_conn` requests on one connection.
        code = ("import http.client,ssl,sys\n"
                f"ctx=ssl.create_default_context(cafile='{cert[0]}')\n"
                f"c=http.client.HTTPSConnection('localhost',{srv.port},context=ctx)\n"
                f"for k in range({per_conn}):\n"
                f"    c.request('GET','/copy/small.txt?id={m}-'+sys.argv[1]+'-'+str(k)); r=c.getresponse(); assert r.read()==b'small body\\n'\n")
        procs = [subprocess.Popen([SYS_PYTHON, "-c", code, str(j)]) for j in range(n_conns)]
        assert all(p.wait(60) == 0 for p in procs)
        total = n_conns * per_conn
        for direction, pid_ok in (("egress", lambda pid: pid in {p.pid for p in procs}),
                                  ("ingress", lambda pid: pid == srv.pid)):
            recs = qtap.wait_for(mine(m, direction), count=total, what=f"{total} nginx exchanges ({direction})")
            paths = [r["http"]["request"]["path"] for r in recs]
            assert len(paths) == len(set(paths)) == total, "a request was reported twice"
            assert len({r["connection"]["id"] for r in recs}) == n_conns
            for r in recs:
                check_tls(r)
                assert pid_ok(r["process"]["pid"])
                assert r["http"]["response"]["status"] == 200
                assert body_bytes(r["http"]["response"]["body"]) == b"small body\n"
        # Nothing invented: no other record mentions the marker.
        extra = [r for r in qtap.records() if r["type"] == "http" and r["http"]["request"] and
                 m in r["http"]["request"]["path"]]
        assert len(extra) == 2 * total
    finally:
        srv.stop()


def run_node_client(server, cert, tmp_path, paths):
    """node's https.request POSTs "node body PATH" to each path in turn over
    one keep-alive connection; returns the finished process."""
    if not os.path.exists(NODE):
        pytest.fail("node is part of this machine kind and must be installed")
    script = tmp_path / "client.js"
    script.write_text(f"""
const https = require('https'), fs = require('fs');
const agent = new https.Agent({{keepAlive: true}});
function get(path) {{
  return new Promise((ok, fail) => {{
    const r = https.request({{host: 'localhost', port: {server.port}, path, agent, method: 'POST',
      ca: fs.readFileSync('{cert[0]}'), headers: {{'X-From': 'node', 'Content-Type': 'text/plain'}}}},
      res => {{ let d = ''; res.on('data', c => d += c); res.on('end', () => ok(d)); }});
    r.on('error', fail); r.end('node body ' + path);
  }});
}}
(async () => {{
  for (const p of {json.dumps(paths)}) console.log(await get(p));
  agent.destroy();
}})();
""")
    p = subprocess.Popen([NODE, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    return p


def check_node_record(r, server):
    check_tls(r)
    path = r["http"]["request"]["path"]
    assert r["process"]["comm"] == "node"
    assert header(r["http"]["request"], "X-From") == ["node"]
    assert body_bytes(r["http"]["request"]["body"]) == f"node body {path}".encode()
    assert body_bytes(r["http"]["response"]["body"]) == f"node body {path}".encode()
    # node's OpenSSL writes into memory; qtap matched the session to its
    # socket by call order, and says so. The socket is the right one:
    assert addr(r["connection"]["remote"]) == ("127.0.0.1", server.port)
    assert any("call order" in n for n in r["http"]["notes"])


def test_node_https_request(server, qtap, cert, tmp_path):
    m = marker()
    run_node_client(server, cert, tmp_path, [f"/echo?id={m}-1", f"/echo?id={m}-2"])
    recs = qtap.wait_for(mine(m, "egress"), count=2, what="node's two requests")
    for r in recs:
        check_node_record(r, server)
        assert r["process"]["exe"] == os.path.realpath(NODE)
    assert len({r["connection"]["id"] for r in recs}) == 1


def test_record_only_then_replay(server, cert, tmp_path):
    """--record-only decodes nothing live and leaves an owner-only recording;
    node, started after qtap is ready, is still found and probed (process
    events go through), and `qtap replay` turns the recording into records."""
    rec = tmp_path / "capture.qrec"
    q = Qtap(tmp_path / "q", "--record-only", str(rec)).start()
    try:
        m = marker()
        node = run_node_client(server, cert, tmp_path, [f"/echo?id={m}-1", f"/echo?id={m}-2"])
        curl(cert[0], "-o", "/dev/null", f"https://localhost:{server.port}/hello?id={m}-curl")
    finally:
        assert q.stop() == 0, q.stderr()
    assert q.records() == []  # nothing decoded live
    assert "decoding nothing live" in q.stderr()
    assert stat.S_IMODE(rec.stat().st_mode) == 0o600
    p = subprocess.run([QTAP_BIN, "replay", str(rec), "--format", "json"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    # A replay looks at nothing of this host (no /proc, no cgroup tree), and says nothing of it.
    assert "warning" not in p.stderr, p.stderr
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    node_recs = [r for r in recs if mine(f"{m}-", "egress")(r) and r["process"]["pid"] == node.pid]
    assert sorted(r["http"]["request"]["path"] for r in node_recs) == [f"/echo?id={m}-1", f"/echo?id={m}-2"]
    for r in node_recs:
        check_node_record(r, server)
        assert r["process"]["exe"] == NODE  # from the recorded exec event
    served = [r for r in recs if mine(f"{m}-curl", "ingress")(r)]
    assert len(served) == 1 and served[0]["process"]["pid"] == server.pid
    # Started before qtap and never exec'd while recording: what /proc said
    # then is in the recording, as is the host.
    assert served[0]["process"]["exe"] == os.path.realpath(SYS_PYTHON)
    assert served[0]["host"]["hostname"] == socket.gethostname()
    check_tls(served[0])
    assert body_bytes(served[0]["http"]["response"]["body"]) == b"hello world\n"
    # The same file as text: context entries first where they were recorded.
    p = subprocess.run([QTAP_BIN, "replay", "--events", str(rec)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == f"recorded on host {socket.gethostname()}"
    snapshots = [json.loads(line.split(": ", 1)[1]) for line in lines
                 if line.startswith("process as /proc showed it: ")]
    assert any(s["pid"] == server.pid and s["exe"] == os.path.realpath(SYS_PYTHON) for s in snapshots)
    assert any(f"/hello?id={m[:8]}" in line for line in lines)  # the plaintext's first bytes


def test_client_started_after_ready(server, cert, tmp_path):
    q = Qtap(tmp_path / "q").start()
    try:
        m = marker()
        curl(cert[0], "-o", "/dev/null", f"https://localhost:{server.port}/hello?id={m}")
        r = q.wait_for(mine(m, "egress"), what="first TLS request of a client started after ready")[0]
        check_tls(r)
        assert body_bytes(r["http"]["response"]["body"]) == b"hello world\n"
    finally:
        assert q.stop() == 0


def test_libssl_outside_the_usual_directories(server, qtap, cert, tmp_path):
    """A private copy of libssl (another file: its own inode) loaded through
    LD_LIBRARY_PATH is discovered when it is mapped, and probed."""
    libdir = tmp_path / "private-lib"
    libdir.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", libdir / "libssl.so.3")
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
    m = marker()
    code = ("import ssl,http.client,sys\n"
            f"ctx=ssl.create_default_context(cafile='{cert[0]}')\n"
            f"c=http.client.HTTPSConnection('localhost',{server.port},context=ctx)\n"
            f"c.request('GET','/hello?id={m}'); assert c.getresponse().read()==b'hello world\\n'\n")
    p = subprocess.Popen([SYS_PYTHON, "-c", code], env=env)
    assert p.wait(30) == 0
    r = qtap.wait_for(mine(m, "egress"), what="request through the private libssl copy")[0]
    check_tls(r)
    assert r["process"]["pid"] == p.pid
    maps = [l for l in qtap.stderr().splitlines() if "probing" in l and str(libdir) in l]
    assert maps, qtap.stderr()


def waiting_client_code(server, cert, m, ssl_first=False):
    """Python code that prints "running", waits for a line on stdin, then GETs
    /hello?id=M from the server. libssl is loaded (`import ssl`) after the
    wait, or before printing with `ssl_first`."""
    load = ("import ssl,http.client\n"
            f"ctx=ssl.create_default_context(cafile='{cert[0]}')\n")
    wait = "import sys\nprint('running', flush=True); sys.stdin.readline()\n"
    return ((load + wait) if ssl_first else (wait + load)) + (
        f"c=http.client.HTTPSConnection('localhost',{server.port},context=ctx)\n"
        f"c.request('GET','/hello?id={m}'); assert c.getresponse().read()==b'hello world\\n'\n")


def start_waiting_client(code, libdir=None, argv=None):
    """Starts `code` under python (or `argv`, given the code as its last
    argument), with `libdir` as LD_LIBRARY_PATH; returns it once it has
    printed "running"."""
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir)) if libdir else None
    p = subprocess.Popen(argv + [code] if argv else [SYS_PYTHON, "-c", code], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "running"
    return p


def go_under_new_qtap(tmp_path, p, m, what):
    """Starts qtap, then lets the waiting client `p` go; returns qtap's stderr
    once the client's request is in qtap's output, as TLS, from its pid."""
    q = Qtap(tmp_path / "q").start()
    try:
        p.communicate("go\n", timeout=30)
        assert p.returncode == 0
        r = q.wait_for(mine(m, "egress"), what=what)[0]
        check_tls(r)
        assert r["process"]["pid"] == p.pid
        assert body_bytes(r["http"]["response"]["body"]) == b"hello world\n"
        return q.stderr()
    finally:
        assert q.stop() == 0


def test_deleted_library_still_probed(server, cert, tmp_path):
    """A process keeps using a libssl whose file was deleted before qtap
    started: qtap finds it through /proc/PID/map_files and probes it."""
    libdir = tmp_path / "gone-lib"
    libdir.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", libdir / "libssl.so.3")
    m = marker()
    p = start_waiting_client(waiting_client_code(server, cert, m, ssl_first=True), libdir)
    (libdir / "libssl.so.3").unlink()
    go_under_new_qtap(tmp_path, p, m, "request through a deleted libssl")


def test_library_dlopened_after_ready_by_a_running_process(server, cert, tmp_path):
    """A process already running when qtap starts loads a libssl qtap has not
    seen (a private copy: its own inode) only afterwards, with dlopen (python's
    `import ssl`), and makes its request right away: that first request is
    captured."""
    libdir = tmp_path / "late-lib"
    libdir.mkdir()
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", libdir / "libssl.so.3")
    m = marker()
    p = start_waiting_client(waiting_client_code(server, cert, m), libdir)
    err = go_under_new_qtap(tmp_path, p, m, "first request through a libssl dlopen()ed after ready")
    assert any("probing" in line and str(libdir) in line for line in err.splitlines()), err


def test_container_root_with_its_own_libssl(server, qtap, cert, tmp_path):
    """Started after qtap is ready the way a container runtime starts one: a
    first program in a new mount namespace, then a new root (here chroot into
    a bind of the host's tree) whose libssl.so.3 is another file than the
    host's, mounted there as a single file, as a Kubernetes subPath mount is
    (the file's own name is not libssl's, so only the scan of the new root
    can tell what it is). qtap scans the new root when python is exec'd in
    it; python loads that libssl once the probes are live, and its request is
    captured."""
    newroot = tmp_path / "newroot"
    newroot.mkdir()
    copy = tmp_path / "from-the-image"
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", copy)
    m = marker()
    script = (f"mount --rbind / {newroot}\n"
              f"mount --bind {copy} {newroot}/usr/lib/x86_64-linux-gnu/libssl.so.3\n"
              f'exec chroot {newroot} {SYS_PYTHON} -c "$0"\n')
    p = start_waiting_client(waiting_client_code(server, cert, m),
                             argv=["unshare", "--mount", "--propagation", "private", "sh", "-ec", script])
    try:
        wanted = f"TLS: probing /proc/{p.pid}/root/usr/lib/x86_64-linux-gnu/libssl.so.3: OpenSSL 3"
        wait_until(lambda: wanted in qtap.stderr(), 20, "the new root's libssl to be probed")
        p.communicate("go\n", timeout=30)
        assert p.returncode == 0
    finally:
        p.kill()
    r = qtap.wait_for(mine(m, "egress"), what="python's request from the new root")[0]
    check_tls(r)
    assert r["process"]["pid"] == p.pid
    assert body_bytes(r["http"]["response"]["body"]) == b"hello world\n"
