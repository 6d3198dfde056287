"""Runs qtap and peers for the end-to-end tests, and waits on what qtap reports.

Every wait is for an observed condition with a deadline; nothing sleeps and
hopes. qtap captures the whole machine, so tests find their own records by
markers (random header values, paths, pids).
"""
import base64
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QTAP_BIN = os.environ.get("QTAP_BIN") or str(REPO / "build" / "qtap")
PEERS = Path(__file__).resolve().parent / "peers"
# Debian's python: its path is stable and its packages (grpcio, ...) belong to it.
SYS_PYTHON = "/usr/bin/python3"
IN_CI = os.environ.get("CI") == "true"


def require_bpf():
    """Tests that need root and BPF: skipped on a developer box without them,
    a failure in CI, where the capability must be there."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root")
    if not Path(QTAP_BIN).exists():
        problems.append(f"{QTAP_BIN} is not built")
    else:
        r = subprocess.run([QTAP_BIN, "check"], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("qtap check: " + r.stdout.strip().replace("\n", "; "))
    if problems:
        msg = "end-to-end tests need root and BPF: " + ", ".join(problems)
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Qtap:
    """A qtap process writing JSON Lines to a file."""

    def __init__(self, workdir, *args):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.out = self.workdir / "qtap.jsonl"
        self.err = self.workdir / "qtap.stderr"
        self.ready = self.workdir / "ready"
        self.args = list(args)
        self.proc = None
        self._seen = []
        self._offset = 0
        self._partial = b""

    def start(self, timeout=30):
        cmd = [QTAP_BIN, "--format", "json", "--output", str(self.out),
               "--ready-file", str(self.ready), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.err, "wb"))
        wait_until(lambda: self.ready.exists() or self.proc.poll() is not None, timeout,
                   "qtap to become ready")
        if not self.ready.exists():
            raise AssertionError(f"qtap exited with {self.proc.returncode}: {self.stderr()}")
        return self

    def stderr(self):
        return self.err.read_text(errors="replace") if self.err.exists() else ""

    def wait_probed(self, path, timeout=20):
        """Until qtap logs that it probes the TLS code in `path`: a program
        exec'd for the first time runs unprobed until then (milliseconds;
        the log line says how many)."""
        return wait_until(lambda: f"TLS: probing {path}:" in self.stderr(), timeout, f"qtap to probe {path}")

    def records(self):
        """Every complete JSON line written so far."""
        if self.out.exists():
            with open(self.out, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
            self._offset += len(chunk)
            data = self._partial + chunk
            lines = data.split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                if line.strip():
                    self._seen.append(json.loads(line))
        return self._seen

    def wait_for(self, pred, count=1, timeout=20, what="records"):
        def found():
            m = [r for r in self.records() if pred(r)]
            return m if len(m) >= count else None
        try:
            return wait_until(found, timeout, what)
        except AssertionError:
            summary = "\n".join(describe(r) for r in self.records()[-40:])
            raise AssertionError(f"timed out waiting for {count} {what}; last records:\n{summary}\n"
                                 f"qtap stderr:\n{self.stderr()[-3000:]}")

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        return self.proc.returncode


def marker():
    """A random string to find a test's own records among everything captured."""
    return uuid.uuid4().hex


def mine(m, direction):
    """HTTP records whose request path carries marker `m`, seen from `direction`."""
    def pred(r):
        req = r["type"] == "http" and r["http"]["request"]
        return bool(req) and m in req["path"] and r["connection"]["direction"] == direction
    return pred


def describe(r):
    p = r.get("process", {})
    if r.get("type") == "http":
        req = r["http"].get("request") or {}
        resp = r["http"].get("response") or {}
        return (f"http {p.get('comm')}[{p.get('pid')}] {r['connection']['direction']} "
                f"{req.get('method')} {req.get('url')} -> {resp.get('status')}")
    return f"{r.get('type')} {p.get('comm')}[{p.get('pid')}] {r.get('connection', {}).get('protocol')}"


def body_bytes(body):
    """The captured bytes of a body object."""
    if body["encoding"] == "base64":
        return base64.b64decode(body["data"])
    return body["data"].encode("utf-8")


def header(msg, name):
    """All values of a header, in order."""
    return [h["value"] for h in msg["headers"] if h["name"].lower() == name.lower()]


def addr(endpoint):
    """(ip, port) of connection.local or .remote: the remote one also has a scope."""
    return endpoint["ip"], endpoint["port"]


class Peer:
    """A helper process that prints 'READY <port>' when it listens."""

    def __init__(self, cmd, timeout=20):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.proc.kill()
            raise AssertionError(f"{cmd} did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def http_server(host="127.0.0.1", tls=None):
    """The python peer; tls=(cert, key) serves HTTPS."""
    extra = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else []
    return Peer([SYS_PYTHON, str(PEERS / "http_server.py"), "0", host, *extra])


def make_cert(directory):
    """A self-signed certificate for localhost and 127.0.0.1: (cert, key)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key
