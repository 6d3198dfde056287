"""The config file at work: filters in userspace and in the kernel, the audit
with its findings and alerts, redaction by default, and SIGHUP reloads."""
import json
import re
import signal
import subprocess
import uuid

import pytest

from harness import QTAP_BIN, SYS_PYTHON, header, http_server, marker, Qtap, require_bpf, wait_until

CURL = "/usr/bin/curl"
# A test card number (Visa's documented test PAN): valid Luhn, never real.
TEST_CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def server():
    require_bpf()
    s = http_server()
    yield s
    s.stop()


def start_qtap(tmp_path, config_text, *args):
    cfg = tmp_path / "qtap.yaml"
    cfg.write_text(config_text)
    return Qtap(tmp_path / "q", "--config", str(cfg), *args).start(), cfg


def curl(url, *args):
    subprocess.run([CURL, "-sS", "--max-time", "20", *args, url], check=True, capture_output=True)


def python_get(url):
    """A request from /usr/bin/python3 (another exe than curl)."""
    subprocess.run([SYS_PYTHON, "-c", f"import urllib.request; urllib.request.urlopen({url!r}).read()"],
                   check=True, timeout=20)


def with_path(m, direction=None, exe=None):
    def pred(r):
        if r["type"] != "http" or not r["http"]["request"] or m not in r["http"]["request"]["path"]:
            return False
        if direction and r["connection"]["direction"] != direction:
            return False
        return exe is None or r["process"]["exe"] == exe
    return pred


def stop(q):
    assert q.stop() == 0, q.stderr()
    return q.stderr()


EXCLUDE_CURL = """
filters:
  - name: no-curl
    match:
      exe: /usr/bin/curl
    capture: none
"""


def assert_curl_excluded_python_kept(q, server):
    m = marker()
    curl(f"http://127.0.0.1:{server.port}/hello?id={m}-curl")
    python_get(f"http://127.0.0.1:{server.port}/hello?id={m}-py")
    q.wait_for(with_path(m + "-py", "egress"), what="python's request")
    # The server (python) saw curl's request: qtap has processed it by now.
    q.wait_for(with_path(m + "-curl", "ingress"), what="the server's view of curl's request")
    assert not [r for r in q.records() if with_path(m + "-curl", "egress")(r)], "curl was excluded"
    return m


def test_exe_filter_excludes_curl_keeps_python(server, tmp_path):
    q, _ = start_qtap(tmp_path, EXCLUDE_CURL)
    try:
        assert_curl_excluded_python_kept(q, server)
    finally:
        err = stop(q)
    assert re.search(r"qtap policy: [1-9]\d* records not reported", err), err


def test_port_filter_dropped_in_the_kernel(tmp_path):
    require_bpf()
    dropped, kept = http_server(), http_server()
    try:
        q, _ = start_qtap(tmp_path, f"""
filters:
  - name: not-this-service
    match:
      port: {dropped.port}
    capture: none
""")
        assert "kernel filter: 1 local port(s) excluded, 1 remote port(s) excluded" in q.stderr(), q.stderr()
        m = marker()
        for i in range(3):
            curl(f"http://127.0.0.1:{dropped.port}/echo?id={m}-{i}", "-d", "x" * 5000)
        curl(f"http://127.0.0.1:{kept.port}/hello?id={m}")
        q.wait_for(with_path(m, "egress"), what="the request to the kept port")
        err = stop(q)
    finally:
        dropped.stop()
        kept.stop()
    ports = {dropped.port}
    leaked = [r for r in q.records() if r["type"] in ("http", "connection") and
              ports & {r["connection"]["local"]["port"], r["connection"]["remote"]["port"]}]
    assert not leaked, leaked[:2]
    # Both sides of 3 connections, dropped in the kernel: counted, not copied.
    n = re.search(r"qtap kernel filters: (\d+) connections \(([^)]*)\) dropped before copying", err)
    assert n and int(n.group(1)) >= 6, err
    # Nothing of it reached userspace as "not reported" either.
    assert re.search(r"qtap policy: 0 records not reported", err), err


def test_card_number_finding_and_redacted_authorization(server, tmp_path):
    q, _ = start_qtap(tmp_path, """
audit:
  alerts:
    allowed_domains: ["*.corp.example"]
""")
    m = marker()
    secret = "Bearer " + uuid.uuid4().hex
    body = json.dumps({"order": m, "card": TEST_CARD, "note": "test purchase"})
    try:
        curl(f"http://127.0.0.1:{server.port}/echo?id={m}", "-H", f"Authorization: {secret}",
             "-H", "Content-Type: application/json", "-d", body)
        rec = q.wait_for(with_path(m, "egress"), what="the payment request")[0]
        fnd = q.wait_for(lambda r: r["type"] == "finding" and m in (r["http"]["url"] or "") and
                         r["connection"]["direction"] == "egress" and r["location"] == "request.body",
                         what="the finding event")[0]
    finally:
        stop(q)
    req = rec["http"]["request"]
    assert header(req, "Authorization") == ["[REDACTED]"]
    cards = [f for f in rec["findings"] if f["detector"] == "credit_card"]
    # /echo sends the body back: found both ways, alerting (the host is not allowed).
    assert cards == [{"detector": "credit_card", "location": loc, "count": 1, "alert": True}
                     for loc in ("request.body", "response.body")], rec["findings"]
    assert fnd["detector"] == "credit_card" and fnd["location"] == "request.body" and fnd["alert"] is True
    assert fnd["http"]["method"] == "POST" and fnd["process"]["exe"] == CURL
    # The secret header value is nowhere in the output.
    assert secret.split()[1] not in q.out.read_text()


def test_sighup_with_an_invalid_file_keeps_the_old_config(server, tmp_path):
    q, cfg = start_qtap(tmp_path, EXCLUDE_CURL)
    try:
        assert_curl_excluded_python_kept(q, server)
        cfg.write_text("filters:\n  - match: {exe: /usr/bin/curl}\n    capture: nothing\n")
        q.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "config reload failed, keeping the previous config" in q.stderr(), 10,
                   "qtap to reject the new file")
        assert re.search(r"qtap\.yaml:3: filters\[0\]\.capture", q.stderr()), q.stderr()
        assert_curl_excluded_python_kept(q, server)
        # A valid file takes effect: curl is reported again.
        cfg.write_text("default_capture: full\n")
        q.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in q.stderr(), 10, "qtap to load the new file")
        m = marker()
        curl(f"http://127.0.0.1:{server.port}/hello?id={m}")
        q.wait_for(with_path(m, "egress", CURL), what="curl's request after the reload")
    finally:
        stop(q)


def test_invalid_config_at_start_names_line_and_field(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("direction: sideways\nfilters:\n  - match: {port: http}\n")
    p = subprocess.run([QTAP_BIN, "--config", str(cfg)], capture_output=True, text=True)
    assert p.returncode == 2
    assert "bad.yaml:1: direction" in p.stderr and "bad.yaml:3: filters[0].match.port" in p.stderr, p.stderr
