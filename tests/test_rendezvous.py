"""The multi-host address exchange under attack, on 127.0.0.1 only.

Bad peers (garbage, wrong secret, silence) are dropped without stalling the
hosts that do join; no secret means no exchange unless insecure is asked for.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from kerasbench.worker import rendezvous
from kerasbench.worker.rendezvous import RendezvousError, exchange_addresses, free_port

SECRET = b"s3cret-for-this-run"


def _hosts(coordinator: str, ranks: list[int], size: int, **kw) -> dict[int, object]:
    """Run ``ranks`` as threads; each rank's worker list, or the exception it raised."""
    got: dict[int, object] = {}

    def host(rank: int) -> None:
        try:
            got[rank] = exchange_addresses(coordinator, rank, size, **kw)
        except Exception as exc:  # recorded for the test to look at
            got[rank] = exc

    threads = [threading.Thread(target=host, args=(r,)) for r in ranks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return got


def _connect(port: int) -> socket.socket:
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            threading.Event().wait(0.05)
    raise AssertionError("host 0 never listened")


def test_hosts_with_the_secret_agree_and_host0_binds_only_its_address(monkeypatch) -> None:
    bound: list[tuple[str, int]] = []
    real = socket.create_server
    monkeypatch.setattr(socket, "create_server", lambda a, **k: bound.append(a) or real(a, **k))
    port = free_port()
    got = _hosts(f"127.0.0.1:{port}", [2, 1, 0], 3, timeout=20, secret=SECRET)
    assert got[0] == got[1] == got[2] and len(got[0]) == 3
    assert bound == [("127.0.0.1", port)]


def test_bad_peers_are_dropped_without_stalling_the_exchange() -> None:
    port = free_port()
    coordinator = f"127.0.0.1:{port}"
    results: dict[int, object] = {}
    server = threading.Thread(
        target=lambda: results.update(_hosts(coordinator, [0], 2, timeout=30, secret=SECRET))
    )
    server.start()
    idle = _connect(port)  # connects and says nothing
    garbage = _connect(port)
    garbage.sendall(b"\x00\xffnot json at all\n")
    liar = _connect(port)  # a well-formed claim to rank 1 under the wrong secret
    nonce = json.loads(liar.makefile().readline())["nonce"]
    mac = rendezvous._mac(b"guess", "join", nonce, "n", 1, "6.6.6.6:1")
    liar.sendall(
        (json.dumps({"rank": 1, "address": "6.6.6.6:1", "nonce": "n", "mac": mac}) + "\n").encode()
    )
    host1 = _hosts(coordinator, [1], 2, timeout=30, secret=SECRET)
    server.join(60)
    for s in (idle, garbage, liar):
        s.close()
    assert results[0] == host1[1] and "6.6.6.6:1" not in results[0]


def test_missing_host_is_named_with_the_dropped_peers() -> None:
    port = free_port()
    got: dict[int, object] = {}
    server = threading.Thread(
        target=lambda: got.update(_hosts(f"127.0.0.1:{port}", [0], 3, timeout=2, secret=SECRET))
    )
    server.start()
    bad = _connect(port)
    bad.sendall(b"{}\n")
    server.join(30)
    bad.close()
    error = got[0]
    assert isinstance(error, RendezvousError)
    assert "host(s) 1, 2 of 3 did not join" in str(error) and "dropped 1 bad peer" in str(error)


def test_no_secret_refuses_unless_insecure(monkeypatch) -> None:
    monkeypatch.delenv(rendezvous.SECRET_ENV, raising=False)
    monkeypatch.delenv(rendezvous.SECRET_FILE_ENV, raising=False)
    with pytest.raises(RendezvousError, match="needs a shared secret"):
        exchange_addresses(f"127.0.0.1:{free_port()}", 0, 2, timeout=1)
    got = _hosts(f"127.0.0.1:{free_port()}", [1, 0], 2, timeout=20, insecure=True)
    assert got[0] == got[1] and len(got[0]) == 2


def test_secret_from_environment_or_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    assert rendezvous.secret_from_env({rendezvous.SECRET_ENV: "abc"}) == b"abc"
    env = {rendezvous.SECRET_FILE_ENV: str(key_file)}
    assert rendezvous.secret_from_env(env) == b"from-a-file"
    assert rendezvous.secret_from_env({}) is None
    key_file.write_text("")
    with pytest.raises(RendezvousError, match="the file is empty"):
        rendezvous.secret_from_env(env)


def test_host_with_another_secret_does_not_join() -> None:
    port = free_port()
    both: dict[int, object] = {}
    t0 = threading.Thread(
        target=lambda: both.update(_hosts(f"127.0.0.1:{port}", [0], 2, timeout=3, secret=SECRET))
    )
    t0.start()
    other = _hosts(f"127.0.0.1:{port}", [1], 2, timeout=3, secret=b"another")
    t0.join(30)
    assert isinstance(both[0], RendezvousError) and "host(s) 1 of 2" in str(both[0])
    assert "wrong rendezvous secret" in str(both[0])
    assert isinstance(other[1], RendezvousError)
