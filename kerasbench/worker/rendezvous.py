"""Hosts meet at host 0 before their engine starts, and learn each other's addresses.

TF_CONFIG must list every worker's HOST:PORT, but a multi-host point only
knows host 0's address (``--coordinator``). Host 0 listens there, on that
address only; every other host connects, proves it holds the run's shared
secret, says its rank and the address its TensorFlow server will listen on,
and receives the complete list, itself signed. Messages are one JSON line each;
nothing is unpickled. A TF_CONFIG the user's launcher already set is used as it
is (the TensorFlow engine skips this exchange); this is the fallback.

Authentication: HMAC-SHA256 with the secret from ``KERASBENCH_RENDEZVOUS_SECRET``
or the file named by ``KERASBENCH_RENDEZVOUS_SECRET_FILE``. Host 0 sends a fresh
nonce; a host answers with its own nonce and a MAC over both nonces, its rank
and its address; host 0 answers with the list and a MAC over it and that host's
nonce. Without a secret the exchange refuses to start unless ``insecure=True``
(a trusted network; the MACs then use an empty key and prove nothing).

Host 0 serves each connection in its own thread with a short timeout, so a
peer that sends garbage, the wrong MAC or nothing at all is dropped without
stalling the others. A host that has not joined by the deadline ends the
exchange with an error that names it, so the point fails instead of hanging.
JAX meets here too, only to get that error: its coordination client aborts
the process when a host never joins. PyTorch's rendezvous raises by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

MAX_MESSAGE_BYTES = 1 << 16
PEER_TIMEOUT_S = 10.0  # the most one connection may take to say who it is
MAX_PEERS = 256  # connections served at once; more wait in the listen queue
SECRET_ENV, SECRET_FILE_ENV = "KERASBENCH_RENDEZVOUS_SECRET", "KERASBENCH_RENDEZVOUS_SECRET_FILE"


class RendezvousError(RuntimeError):
    """Hosts that did not join in time, a missing secret, or a bad answer from host 0."""


def secret_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The run's shared secret from the environment, or None when none is set."""
    env = os.environ if environ is None else environ
    if env.get(SECRET_ENV):
        return env[SECRET_ENV].encode()
    name = env.get(SECRET_FILE_ENV)
    if not name:
        return None
    try:
        with open(name, "rb") as f:
            secret = f.read(4096).strip()
    except OSError as exc:
        raise RendezvousError(f"{SECRET_FILE_ENV}={name}: cannot read ({exc.strerror})") from None
    if not secret:
        raise RendezvousError(f"{SECRET_FILE_ENV}={name}: the file is empty")
    return secret


def _mac(key: bytes, *parts: object) -> str:
    return hmac.new(key, json.dumps(parts).encode(), hashlib.sha256).hexdigest()


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _ephemeral_range() -> tuple[int, int]:
    """The ports the OS hands to outgoing connections (Linux's default where unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port that is free now (a server binds it moments later), outside the ephemeral range.

    A client that retries connecting to a port in the ephemeral range before its
    server listens can be handed that very port as its own source port and connect
    to itself (TCP simultaneous open): it then "talks" to itself while the real
    server waits for it. Ports below the range are never chosen as source ports.
    """
    low, _ = _ephemeral_range()
    candidates = random.sample(range(10_000, low), k=min(64, max(0, low - 10_000)))
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _send(conn: socket.socket, message: object) -> None:
    conn.sendall((json.dumps(message) + "\n").encode())


def _read_line(conn: socket.socket, deadline: float) -> object:
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RendezvousError("timed out reading a rendezvous message")
        conn.settimeout(remaining)
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            raise RendezvousError("timed out reading a rendezvous message") from None
        if not chunk:
            raise RendezvousError("rendezvous peer closed the connection")
        data += chunk
        if len(data) > MAX_MESSAGE_BYTES:
            raise RendezvousError("rendezvous message too long")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise RendezvousError("malformed rendezvous message") from None


class _Meeting:
    """Host 0's side: the ranks that joined, their connections, and the peers dropped."""

    def __init__(self, host: str, size: int, key: bytes) -> None:
        self.size, self.key = size, key
        self.addresses = {0: f"{host}:{free_port()}"}
        self.joined: dict[int, tuple[socket.socket, str]] = {}
        self.dropped: list[str] = []
        self.lock = threading.Lock()
        self.full = threading.Event()

    def serve(self, conn: socket.socket, peer: str, deadline: float) -> None:
        """Hear one connection out; keep it when it is a host that proves the secret."""
        try:
            nonce = secrets.token_hex(16)
            conn.settimeout(PEER_TIMEOUT_S)
            _send(conn, {"nonce": nonce})
            message = _read_line(conn, min(deadline, time.monotonic() + PEER_TIMEOUT_S))
            if not isinstance(message, dict):
                raise RendezvousError("malformed rendezvous message")
            rank, address, theirs, mac = (
                message.get(k) for k in ("rank", "address", "nonce", "mac")
            )
            if not isinstance(theirs, str) or not isinstance(mac, str):
                raise RendezvousError("rendezvous message without nonce and mac")
            if not hmac.compare_digest(mac, _mac(self.key, "join", nonce, theirs, rank, address)):
                raise RendezvousError("wrong rendezvous secret")
            if type(rank) is not int or not 0 < rank < self.size:
                raise RendezvousError(f"rank {rank!r} out of range")
            if not isinstance(address, str) or len(address) > 300:
                raise RendezvousError("bad address")
            with self.lock:
                if rank in self.joined:
                    raise RendezvousError(f"rank {rank} joined twice")
                self.joined[rank] = (conn, theirs)
                self.addresses[rank] = address
                if len(self.addresses) == self.size:
                    self.full.set()
        except (RendezvousError, OSError) as exc:
            with self.lock:
                self.dropped.append(f"{peer}: {exc}")
            conn.close()

    def finish(self, deadline: float) -> list[str]:
        workers = [self.addresses[r] for r in range(self.size)]
        for conn, theirs in self.joined.values():
            try:
                conn.settimeout(max(1.0, deadline - time.monotonic()))
                _send(conn, {"workers": workers, "mac": _mac(self.key, "list", theirs, workers)})
            except OSError:
                pass  # that host will time out and report it itself
        return workers

    def close(self) -> None:
        for conn, _ in self.joined.values():
            conn.close()


def _serve(host: str, port: int, size: int, timeout: float, key: bytes) -> list[str]:
    deadline = time.monotonic() + timeout
    meeting = _Meeting(host, size, key)
    try:
        # Only the coordinator's address, never every interface.
        server = socket.create_server((host, port))
    except OSError as exc:
        raise RendezvousError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    with server:
        server.settimeout(0.2)
        try:
            while not meeting.full.is_set():
                if time.monotonic() >= deadline:
                    with meeting.lock:
                        missing = sorted(set(range(size)) - set(meeting.addresses))
                        dropped = list(meeting.dropped)
                    note = (
                        f"; dropped {len(dropped)} bad peer(s), first: {dropped[0]}"
                        if dropped
                        else ""
                    )
                    raise RendezvousError(
                        f"host(s) {', '.join(map(str, missing))} of {size} did not join "
                        f"{host}:{port} within {timeout:g} s{note}"
                    )
                try:
                    conn, peer = server.accept()
                except TimeoutError:
                    continue
                if threading.active_count() > MAX_PEERS:
                    conn.close()
                    continue
                threading.Thread(
                    target=meeting.serve, args=(conn, f"{peer[0]}:{peer[1]}", deadline), daemon=True
                ).start()
            return meeting.finish(deadline)
        finally:
            meeting.close()


def _join(host: str, port: int, rank: int, size: int, timeout: float, key: bytes) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = socket.create_connection((host, port), timeout=1.0)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RendezvousError(
                    f"host 0 did not answer at {host}:{port} within {timeout:g} s"
                ) from None
            time.sleep(0.2)  # host 0 may not listen yet
    with conn:
        challenge = _read_line(conn, deadline)
        nonce = challenge.get("nonce") if isinstance(challenge, dict) else None
        if not isinstance(nonce, str):
            raise RendezvousError(f"{host}:{port} is not a kerasbench rendezvous")
        # The interface that reaches host 0 is the one the other workers can reach.
        own = f"{conn.getsockname()[0]}:{free_port()}"
        mine = secrets.token_hex(16)
        mac = _mac(key, "join", nonce, mine, rank, own)
        _send(conn, {"rank": rank, "address": own, "nonce": mine, "mac": mac})
        reply = _read_line(conn, deadline)
    workers = reply.get("workers") if isinstance(reply, dict) else None
    if not isinstance(workers, list) or len(workers) != size:
        raise RendezvousError("malformed worker list from host 0")
    if not hmac.compare_digest(str(reply.get("mac")), _mac(key, "list", mine, workers)):
        raise RendezvousError(f"the worker list from {host}:{port} is not signed with our secret")
    return [str(w) for w in workers]


def exchange_addresses(
    coordinator: str,
    rank: int,
    size: int,
    timeout: float,
    secret: bytes | None = None,
    insecure: bool = False,
) -> list[str]:
    """Every worker's HOST:PORT in rank order, agreed by all ``size`` hosts.

    ``secret`` defaults to ``secret_from_env()``; without one, the exchange
    refuses to start unless ``insecure`` (a trusted network) is passed.
    """
    if secret is None:
        secret = secret_from_env()
    if not secret and not insecure:
        raise RendezvousError(
            f"a multi-host run needs a shared secret: set {SECRET_ENV} (or {SECRET_FILE_ENV}) "
            "to the same value on every host, or pass --insecure-rendezvous on a trusted network"
        )
    host, port = split_address(coordinator)
    key = secret or b""
    if rank == 0:
        return _serve(host, port, size, timeout, key)
    return _join(host, port, rank, size, timeout, key)
