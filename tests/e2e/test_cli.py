"""The command line: usage errors, preflight, --pid, signals, console output."""
import os
import signal
import subprocess
import uuid

import pytest

from harness import (QTAP_BIN, SYS_PYTHON, Qtap, http_server, require_bpf, wait_until)


def qtap(*args, **kw):
    return subprocess.run([QTAP_BIN, *args], capture_output=True, text=True, timeout=60, **kw)


def test_help_and_version():
    r = qtap("--help")
    assert r.returncode == 0
    for flag in ("--format", "--output", "--pid", "--ready-file", "--max-body", "--log-level", "check"):
        assert flag in r.stdout
    r = qtap("--version")
    assert r.returncode == 0 and r.stdout.startswith("qtap ")


@pytest.mark.parametrize("args", [["--bogus"], ["--format", "xml"], ["--pid", "abc"],
                                  ["--log-level", "loud"], ["tap", "--nope"], ["frobnicate"],
                                  ["--ringbuf-mb", "3"]])
def test_usage_errors_exit_2(args):
    r = qtap(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("qtap: ")
    assert "--help" in r.stderr


def test_not_root_is_one_clear_sentence():
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", QTAP_BIN], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert "must run as root" in lines[0]
    assert "errno" not in lines[0].lower()


def test_unwritable_output_fails_before_capture(tmp_path):
    require_bpf()
    r = qtap("--output", str(tmp_path / "no" / "such" / "dir" / "out.jsonl"),
             "--ready-file", str(tmp_path / "ready"))
    assert r.returncode == 1
    assert "cannot write the output file" in r.stderr
    assert not (tmp_path / "ready").exists()


def test_check_lists_capabilities():
    require_bpf()
    r = qtap("check")
    assert r.returncode == 0, r.stdout
    names = {l.split()[1] for l in r.stdout.splitlines() if l.split() and l.split()[0] in ("ok", "missing", "MISSING")}
    for name in ("privileges", "BTF", "ring", "tracepoints", "uprobes", "lockdown"):
        assert name in names, r.stdout
    assert "qtap can capture on this machine" in r.stdout


def test_tap_subcommand_and_sigterm_stats(tmp_path):
    require_bpf()
    q = Qtap(tmp_path, "tap", "--log-level=info").start()
    assert q.stop(signal.SIGTERM) == 0
    err = q.stderr()
    assert "qtap stats:" in err and "qtap drops:" in err


def test_pid_filter(tmp_path):
    require_bpf()
    srv = http_server()
    m = uuid.uuid4().hex
    # A client that waits for a line on stdin, then makes one request.
    code = ("import sys,urllib.request\nsys.stdin.readline()\n"
            f"urllib.request.urlopen('http://127.0.0.1:{srv.port}/hello?id={m}-'+sys.argv[1]).read()\n")
    wanted = subprocess.Popen([SYS_PYTHON, "-c", code, "wanted"], stdin=subprocess.PIPE, text=True)
    other = subprocess.Popen([SYS_PYTHON, "-c", code, "other"], stdin=subprocess.PIPE, text=True)
    q = Qtap(tmp_path, "--pid", str(wanted.pid)).start()
    try:
        other.communicate("go\n", timeout=30)
        wanted.communicate("go\n", timeout=30)
        q.wait_for(lambda r: r["type"] == "http" and f"{m}-wanted" in r["http"]["request"]["path"],
                   what="the filtered process's request")
        assert q.stop() == 0
        recs = q.records()
        assert {r["process"]["pid"] for r in recs} == {wanted.pid}
        assert not [r for r in recs if r["type"] == "http" and f"{m}-other" in r["http"]["request"]["path"]]
    finally:
        q.stop()
        srv.stop()


def test_console_output(tmp_path):
    require_bpf()
    srv = http_server()
    m = uuid.uuid4().hex
    out = tmp_path / "console.txt"
    ready = tmp_path / "ready"
    p = subprocess.Popen([QTAP_BIN, "-v", "--output", str(out), "--ready-file", str(ready), "--no-color"],
                         stderr=subprocess.PIPE)
    try:
        wait_until(lambda: ready.exists() or p.poll() is not None, 30, "qtap ready")
        subprocess.run(["curl", "-sS", "-H", f"X-Marker: {m}", f"http://127.0.0.1:{srv.port}/hello?id={m}"],
                       check=True, capture_output=True)
        url = f"http://127.0.0.1:{srv.port}/hello?id={m}"

        def lines():
            return [l for l in out.read_text(errors="replace").splitlines() if url in l] if out.exists() else []
        wait_until(lambda: len(lines()) >= 2, 20, "two console lines (client and server)")
        text = out.read_text()
        client_line = [l for l in lines() if "curl[" in l][0]
        assert "→" in client_line and "GET" in client_line and "200" in client_line
        assert f"X-Marker: {m}" in text  # -v prints headers
        assert "hello world" in text     # and bodies
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 0
        srv.stop()
