"""Container context through the real kernel probes, without a container
engine: a cgroup named as kubelet + containerd name theirs, and a workload in
its own mount, pid and network namespaces moved into it. qtap must say which
container, pod and network namespace each exchange came from."""
import os
import secrets
import subprocess
import uuid
from pathlib import Path

import pytest

from harness import PEERS, SYS_PYTHON, Qtap, http_server, marker, mine, require_bpf, wait_until

CURL = "/usr/bin/curl"


def cgroup2_mount():
    """Where cgroup2 is mounted (/sys/fs/cgroup, or .../unified on a hybrid host)."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        dash = fields.index("-")
        if fields[dash + 1] == "cgroup2":
            return Path(fields[4])
    pytest.fail("no cgroup2 mount in /proc/self/mountinfo", pytrace=False)


class PodCgroup:
    """/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_>.slice/
    cri-containerd-<id>.scope, as kubelet's systemd driver and containerd name it.
    Only the directories this creates are removed again."""

    def __init__(self):
        self.pod_uid = str(uuid.uuid4())
        self.container_id = secrets.token_hex(32)
        slice_uid = self.pod_uid.replace("-", "_")
        self.rel = ("/kubepods.slice/kubepods-besteffort.slice/"
                    f"kubepods-besteffort-pod{slice_uid}.slice/"
                    f"cri-containerd-{self.container_id}.scope")
        self.root = cgroup2_mount()
        self.path = self.root / self.rel.lstrip("/")
        self.created = []
        d = self.root
        for part in self.rel.strip("/").split("/"):
            d = d / part
            if not d.exists():
                d.mkdir()
                self.created.append(d)

    def remove(self):
        # A cgroup can be removed once its last process has gone, which the
        # kernel notes a moment after the exit.
        for d in reversed(self.created):
            def gone():
                try:
                    d.rmdir()
                    return True
                except FileNotFoundError:
                    return True
                except OSError:
                    return False
            wait_until(gone, 10, f"cgroup {d} to be removable")


@pytest.fixture(scope="module")
def pod():
    require_bpf()
    p = PodCgroup()
    yield p
    p.remove()


@pytest.fixture(scope="module")
def qtap(pod, tmp_path_factory):
    q = Qtap(tmp_path_factory.mktemp("qtap")).start()
    yield q
    rc = q.stop()
    assert rc == 0, q.stderr()


def host_netns():
    return os.stat("/proc/self/ns/net").st_ino


def run_in_container(pod, script, timeout=60):
    """Runs `script` (sh) as pid 1 of new mount, pid and network namespaces,
    moved into the pod's cgroup before anything else runs: every process it
    starts is born in the container."""
    # Lines, not "&&": a "&" at the end of the script would take the whole
    # list, echo included, into a background subshell.
    wrapper = f"echo $$ > {pod.path / 'cgroup.procs'}\nip link set lo up\n{script}"
    return subprocess.run(["unshare", "--mount", "--pid", "--net", "--fork", "sh", "-ec", wrapper],
                          capture_output=True, text=True, timeout=timeout)


def test_container_and_pod_on_both_ends(pod, qtap, tmp_path):
    m = marker()
    ready = tmp_path / "ready"
    # The server in the background, then curl to it over the namespace's own
    # loopback. --limit-rate keeps curl alive for about a second, so qtap
    # reads its /proc entry (netns) while it runs, not from the exit side.
    script = f"""
{SYS_PYTHON} {PEERS / 'http_server.py'} 0 127.0.0.1 > {ready} &
i=0
until grep -q READY {ready}; do i=$((i+1)); [ $i -lt 400 ] || exit 3; sleep 0.05; done
port=$(cut -d' ' -f2 {ready})
{CURL} -sS --max-time 20 --limit-rate 32k -o /dev/null "http://127.0.0.1:$port/big?n=40000&id={m}"
"""
    r = run_in_container(pod, script)
    assert r.returncode == 0, r.stderr

    egress = qtap.wait_for(mine(m, "egress"), what="curl's record from the container")[0]
    ingress = qtap.wait_for(mine(m, "ingress"), what="the server's record from the container")[0]

    assert egress["process"]["comm"] == "curl"
    assert "http_server.py" in ingress["process"]["cmdline"]
    for rec in (egress, ingress):
        p = rec["process"]
        assert p["cgroup"] == pod.rel
        c = p["container"]
        assert c is not None, p
        assert c["id"] == pod.container_id
        assert p["container_id"] == pod.container_id  # the older key, kept
        assert c["runtime"] == "containerd"
        assert c["pod_uid"] == pod.pod_uid
        # No containerd socket is asked: what only the runtime knows is null.
        assert c["name"] is None and c["image"] is None and c["labels"] == {}
        assert p["netns"] not in (0, host_netns())
        assert rec["connection"]["remote"]["ip"] == "127.0.0.1"
        assert rec["connection"]["remote"]["scope"] == "loopback"
        assert rec["http"]["response"]["status"] == 200
    # One namespace, one connection seen from both ends.
    assert egress["process"]["netns"] == ingress["process"]["netns"]
    assert egress["connection"]["local"]["port"] == ingress["connection"]["remote"]["port"]


def test_host_process_has_no_container(qtap):
    server = http_server()
    try:
        m = marker()
        r = subprocess.run([CURL, "-sS", "--max-time", "20", "-o", "/dev/null",
                            f"http://127.0.0.1:{server.port}/hello?id={m}"], capture_output=True)
        assert r.returncode == 0, r.stderr
        rec = qtap.wait_for(mine(m, "egress"), what="host curl's record")[0]
        srv = qtap.wait_for(mine(m, "ingress"), what="host server's record")[0]
        assert srv["process"]["pid"] == server.pid
        assert rec["process"]["container"] is None
        assert rec["process"]["container_id"] is None
        assert srv["process"]["container"] is None
        assert srv["process"]["netns"] == host_netns()
        assert rec["connection"]["remote"]["scope"] == "loopback"
    finally:
        server.stop()
