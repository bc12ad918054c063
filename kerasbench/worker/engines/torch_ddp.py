"""PyTorch data-parallel engine: one process per device (torchrun), ``DistributedDataParallel``
around the Keras model (gloo on CPUs, NCCL on GPUs).

Keras' ``fit`` does not drive DDP, so training is a torch loop of Keras' loss
and optimizer around it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import timedelta
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.worker import measure
from kerasbench.worker.engines import compile_model
from kerasbench.worker.engines.data_parallel import DataParallelEngine, first_line, join_timeout_s

# How long this rank waits for its process group to be torn down after measuring.
TEARDOWN_S = 20.0


def _die_with_parent() -> None:
    """End this rank when its torchrun agent dies: torchrun starts ranks in sessions
    of their own, so a launcher that kills the agent's group would miss them."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the agent died before prctl took effect
        os._exit(1)


class TorchEngine(DataParallelEngine):
    distribution = "torch.nn.parallel.DistributedDataParallel"
    training_loop = (
        "torch loop: DistributedDataParallel(Keras model), Keras loss and optimizer "
        "(Keras fit/train_on_batch do not drive DDP); the loss reaches the host every "
        "step for train_on_batch, at window edges for fit"
    )

    def start(self) -> None:
        import torch
        import torch.distributed as dist

        _die_with_parent()
        self.rank = int(os.environ["RANK"])
        self.world = int(os.environ["WORLD_SIZE"])
        self.local_rank = int(os.environ["LOCAL_RANK"])
        if self.world != self.spec.total_devices:
            raise RuntimeError(
                f"torchrun started {self.world} processes; the point asks for "
                f"{self.spec.total_devices}"
            )
        self.process_index, self.process_count = self.rank, self.world
        self.on_gpu = self.spec.device_kind != "cpu" and torch.cuda.is_available()
        if self.on_gpu:
            torch.cuda.set_device(self.local_rank)
        timeout = join_timeout_s(self.spec)
        try:
            dist.init_process_group(
                "nccl" if self.on_gpu else "gloo", timeout=timedelta(seconds=timeout)
            )
        except Exception as exc:
            raise RuntimeError(
                f"not all {self.world} processes joined within {timeout:g} s "
                f"(init_process_group: {first_line(exc)})"
            ) from exc

    def build(self, info: ModelInfo) -> Any:
        from torch.nn.parallel import DistributedDataParallel

        model = info.build(self.spec)
        compile_model(model, info, self.spec)
        model.optimizer.build(model.trainable_variables)
        # DDP broadcasts rank 0's weights at construction and averages gradients
        # over all processes during backward().
        device_ids = [self.local_rank] if self.on_gpu else None
        self.ddp = DistributedDataParallel(model, device_ids=device_ids)
        return model

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        import keras
        import torch

        spec, b = self.spec, self.local_batch
        n = len(x) // b
        if spec.mode == "predict":
            self.training_loop = "model(x) on each process's slice, no gradient"

            def predict_step(i: int) -> None:
                j = (i % n) * b
                with torch.no_grad():
                    out = model(keras.ops.convert_to_tensor(x[j : j + b]), training=False)
                keras.ops.convert_to_numpy(out)  # to the host, as predict returns it

            return measure.time_step_loop(predict_step, spec, started), []

        weights = model.trainable_variables
        local_losses: list[Any] = []
        first_timed = 1 + spec.warmup

        def must_sync(i: int) -> bool:
            """train_on_batch returns the loss every step; fit waits at window edges only."""
            edge = i < first_timed or (i - first_timed + 1) % spec.window_steps == 0
            return spec.mode == "train_on_batch" or edge

        def train_step(i: int) -> None:
            j = (i % n) * b
            xb = keras.ops.convert_to_tensor(x[j : j + b])
            yb = keras.ops.convert_to_tensor(y[j : j + b])
            y_pred = self.ddp(xb, training=True)
            model.zero_grad()
            loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
            model.optimizer.scale_loss(loss).backward()  # DDP all-reduces gradients here
            with torch.no_grad():
                model.optimizer.apply([w.value.grad for w in weights], weights)
            local_losses.append(loss.detach())
            if must_sync(i):
                float(local_losses[-1])  # to the host: the step is done on the device

        timing = measure.time_step_loop(train_step, spec, started)
        # Equal slices: the global loss is the mean of the processes' losses.
        per_process = self.gather([float(v) for v in local_losses])
        return timing, [float(v) for v in np.mean(per_process, axis=0)]

    def gather(self, values: list[float]) -> list[list[float]]:
        import torch
        import torch.distributed as dist

        device = f"cuda:{self.local_rank}" if self.on_gpu else "cpu"
        mine = torch.tensor(values, dtype=torch.float64, device=device)
        rows = [torch.empty_like(mine) for _ in range(self.world)]
        dist.all_gather(rows, mine)
        return [r.cpu().tolist() for r in rows]

    def settings(self) -> dict[str, Any]:
        import torch

        return {**super().settings(), "torch_threads_per_process": torch.get_num_threads()}

    def finish(self) -> None:
        """Tear the process group down, within ``TEARDOWN_S``: the measurement is done, and
        a peer that is already gone must not keep this host from writing its result."""
        import torch.distributed as dist

        teardown = threading.Thread(target=dist.destroy_process_group, daemon=True)
        teardown.start()
        teardown.join(TEARDOWN_S)
        if teardown.is_alive():
            print(
                f"torch_ddp: destroy_process_group did not return within {TEARDOWN_S:g} s; "
                "the result is written without it",
                file=sys.stderr,
                flush=True,
            )
