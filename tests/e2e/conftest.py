import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402

from harness import Qtap, make_cert, require_bpf  # noqa: E402


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for localhost: (cert, key)."""
    return make_cert(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def qtap(tmp_path_factory):
    """One qtap for the module, capturing everything (modules that need a peer
    started before qtap define their own)."""
    require_bpf()
    q = Qtap(tmp_path_factory.mktemp("qtap")).start()
    yield q
    assert q.stop() == 0, q.stderr()
