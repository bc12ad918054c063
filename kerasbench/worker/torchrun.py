"""python -m kerasbench.worker.torchrun SPEC_JSON RESULT_JSON

Starts a PyTorch data-parallel point: torch's own launcher (``torch.distributed.run``,
i.e. torchrun) runs ``python -m kerasbench.worker SPEC_JSON RESULT_JSON`` once per
device of this host. One host: ``--standalone``. Several hosts: static rendezvous
at the coordinator, this host's rank as ``--node-rank``, and half the point's
timeout for the others to join. When torchrun fails before a rank has written
the result (a host never joined, a rank died), this writes a failed result
with torchrun's reason, so the launcher never has to guess. When the result is
written but torchrun's agent lingers in its exit barrier (waiting up to 300 s for
the other hosts' agents to sign off), this host ends after a grace period: its
result is whole, and waiting on would turn it into a timeout.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from kerasbench.spec import Spec
from kerasbench.worker import protocol
from kerasbench.worker.engines.data_parallel import join_timeout_s


def torchrun_args(spec: Spec, spec_path: str, result_path: str) -> list[str]:
    """torchrun's command line for ``spec`` (without the program name)."""
    if spec.num_hosts == 1:
        placement = ["--standalone", "--nnodes=1"]
    else:
        host, _, port = spec.coordinator.rpartition(":")
        placement = [
            f"--nnodes={spec.num_hosts}",
            f"--node-rank={spec.host_rank}",
            f"--master-addr={host}",
            f"--master-port={port}",
            f"--rdzv-conf=timeout={int(join_timeout_s(spec))}",
        ]
    return [
        *placement,
        f"--nproc-per-node={spec.devices}",
        "--max-restarts=0",
        "-m",
        "kerasbench.worker",
        spec_path,
        result_path,
    ]


# How long torchrun's agent may linger after this host's result is written.
SIGN_OFF_GRACE_S = 30.0


def _end_when_result_lingers(result_path: Path, grace_s: float = SIGN_OFF_GRACE_S) -> None:
    """Watch (in a daemon thread) for the result, then end this process ``grace_s`` later.

    The ranks die with this process (``PR_SET_PDEATHSIG``, see ``torch_ddp``); the
    result file was written atomically, so the launcher reads it whole.
    """

    def watch() -> None:
        while not result_path.exists():
            time.sleep(0.5)
        time.sleep(grace_s)
        print(
            f"kerasbench.worker.torchrun: the result is written; torchrun's agent was still "
            f"waiting for other hosts to sign off {grace_s:g} s later, so this host ends",
            file=sys.stderr,
            flush=True,
        )
        os._exit(0)

    threading.Thread(target=watch, name="sign-off-watch", daemon=True).start()


def _reason(exc: BaseException) -> str:
    """torchrun's reason in one line (its ChildFailedError text is a framed table)."""
    failures = getattr(exc, "failures", None)
    if failures:
        rank, failure = min(failures.items())
        return f"torchrun: rank {rank} exited with code {failure.exitcode}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip().strip("=-")]
    return f"torchrun: {type(exc).__name__}: {lines[0] if lines else ''}"[:500]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    spec_path, result_path = argv
    spec = Spec.from_dict(
        json.loads(Path(spec_path).read_text(encoding="utf-8"))["spec"], "worker spec"
    )
    from torch.distributed.run import main as torchrun

    error = None
    _end_when_result_lingers(Path(result_path))
    try:
        torchrun(torchrun_args(spec, spec_path, result_path))
    except SystemExit as exc:  # argument errors
        if exc.code:
            error = f"torchrun exited with code {exc.code}"
    except Exception as exc:
        error = _reason(exc)
    if error is None:
        return 0
    print(f"kerasbench.worker.torchrun: {error}", file=sys.stderr)
    if not Path(result_path).exists():
        protocol.write(Path(result_path), protocol.failure(error))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
