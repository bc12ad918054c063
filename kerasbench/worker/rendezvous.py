"""Hosts meet at host 0 before their engine starts, and learn each other's addresses.

TF_CONFIG must list every worker's HOST:PORT, but a multi-host point only
knows host 0's address (``--coordinator``). Host 0 listens there; every other
host connects, says its rank and the address its TensorFlow server will
listen on, and receives the complete list. Messages are one JSON line each;
nothing is unpickled. A host that has not joined by the deadline ends the
exchange with an error that names it, so the point fails instead of hanging.
JAX meets here too, only to get that error: its coordination client aborts
the process when a host never joins. PyTorch's rendezvous raises by itself.
"""

from __future__ import annotations

import json
import socket
import time

MAX_MESSAGE_BYTES = 1 << 16


class RendezvousError(RuntimeError):
    """Hosts that did not join in time, or a malformed message."""


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def free_port() -> int:
    """A port the OS says is free now (TensorFlow binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _read_line(conn: socket.socket, deadline: float) -> object:
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RendezvousError("timed out reading a rendezvous message")
        conn.settimeout(remaining)
        chunk = conn.recv(4096)
        if not chunk:
            raise RendezvousError("rendezvous peer closed the connection")
        data += chunk
        if len(data) > MAX_MESSAGE_BYTES:
            raise RendezvousError("rendezvous message too long")
    try:
        return json.loads(data)
    except ValueError:
        raise RendezvousError("malformed rendezvous message") from None


def _serve(host: str, port: int, size: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    addresses = {0: f"{host}:{free_port()}"}
    peers: list[socket.socket] = []
    with socket.create_server(("", port)) as server:
        try:
            while len(addresses) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = sorted(set(range(size)) - set(addresses))
                    raise RendezvousError(
                        f"host(s) {', '.join(map(str, missing))} of {size} did not join "
                        f"{host}:{port} within {timeout:g} s"
                    )
                server.settimeout(remaining)
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                peers.append(conn)
                message = _read_line(conn, deadline)
                rank = message.get("rank") if isinstance(message, dict) else None
                address = message.get("address") if isinstance(message, dict) else None
                if not isinstance(rank, int) or not 0 < rank < size or rank in addresses:
                    raise RendezvousError(f"bad or repeated rank in rendezvous message: {rank!r}")
                if not isinstance(address, str):
                    raise RendezvousError(f"bad address in rendezvous message: {address!r}")
                addresses[rank] = address
            workers = [addresses[r] for r in range(size)]
            reply = (json.dumps(workers) + "\n").encode()
            for conn in peers:
                conn.settimeout(max(1.0, deadline - time.monotonic()))
                conn.sendall(reply)
            return workers
        finally:
            for conn in peers:
                conn.close()


def _join(host: str, port: int, rank: int, size: int, timeout: float) -> list[str]:
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
        # The interface that reaches host 0 is the one the other workers can reach.
        own = f"{conn.getsockname()[0]}:{free_port()}"
        conn.sendall((json.dumps({"rank": rank, "address": own}) + "\n").encode())
        workers = _read_line(conn, deadline)
    if not isinstance(workers, list) or len(workers) != size:
        raise RendezvousError("malformed worker list from host 0")
    return [str(w) for w in workers]


def exchange_addresses(coordinator: str, rank: int, size: int, timeout: float) -> list[str]:
    """Every worker's HOST:PORT in rank order, agreed by all ``size`` hosts."""
    host, port = split_address(coordinator)
    if rank == 0:
        return _serve(host, port, size, timeout)
    return _join(host, port, rank, size, timeout)
