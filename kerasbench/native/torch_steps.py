"""torch-native training and inference: the step functions a worker times for ``torch-native``.

One ``TorchNative`` holds a model, its optimizer and loss, and offers the
three modes the Keras side has: ``train_step`` (one optimizer step per call,
as Keras' ``train_on_batch``), ``fit`` (a loop over a DataLoader, as
``model.fit``) and ``predict`` / ``predict_step``. ``compile`` is ``eager`` or
a ``torch.compile`` mode (``default``, ``max-autotune``) applied to the model,
as PyTorch's torch.compile tutorial does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from kerasbench.native import torch_models
from kerasbench.native.common import NativeConfig, ParamCounts
from kerasbench.native.optim import OptimizerChoice

COMPILE_MODES = ("eager", "default", "max-autotune")


class TorchNative:
    """A torch-native model with its optimizer, loss and step functions."""

    framework = "torch"

    def __init__(self, config: NativeConfig) -> None:
        import torch

        if config.compile not in COMPILE_MODES:
            valid = ", ".join(COMPILE_MODES)
            raise ValueError(f"unknown compile mode {config.compile!r}; valid: {valid}")
        torch.manual_seed(config.seed)
        name, num_classes, precision = config.name, config.num_classes, config.precision
        self.name, self.input_shape, self.num_classes = name, config.input_shape, num_classes
        self.hparams = dict(config.hparams)
        self.precision, self.compile_mode = precision, config.compile
        self.device = torch.device(config.device)
        self.module = torch_models.build(name, self.input_shape, num_classes, self.hparams)
        self.module.to(self.device)
        self.optimizer_choice = OptimizerChoice.of(config.optimizer, config.learning_rate)
        # Only trainable parameters: the LSTM's frozen zero bias is not updated.
        trainable = [p for p in self.module.parameters() if p.requires_grad]
        self.optimizer = self.optimizer_choice.torch(trainable)
        # Logits in, mean over the batch: Keras' softmax + sparse categorical cross-entropy.
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self._autocast = {"mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}.get(
            precision
        )
        # Keras' mixed_float16 scales the loss (LossScaleOptimizer); torch's GradScaler does here.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=precision == "mixed_float16")
        self.forward = self.module
        if config.compile != "eager":
            self.forward = torch.compile(self.module, mode=config.compile)
        self._training: bool | None = None

    # -- data ---------------------------------------------------------------------------------

    def to_device(self, array: np.ndarray) -> Any:
        """``array`` as a tensor on the model's device (class ids become int64, as torch wants)."""
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if tensor.dtype in (torch.int32, torch.int16, torch.uint8):
            tensor = tensor.long()
        return tensor.to(self.device)

    def make_loader(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> Any:
        """A DataLoader over in-memory arrays, in order, whole batches only (as the Keras side)."""
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        labels = torch.from_numpy(np.ascontiguousarray(y)).long()
        dataset = TensorDataset(torch.from_numpy(np.ascontiguousarray(x)), labels)
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, drop_last=True)

    def to_host(self, value: Any) -> np.ndarray:
        """A device tensor as a numpy array (a synchronising copy)."""
        return value.detach().float().cpu().numpy()

    def sync(self) -> None:
        """Wait for the device's queued work: call at the edges of a timed window only."""
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # -- steps --------------------------------------------------------------------------------

    def _mode(self, training: bool) -> None:
        if self._training is not training:
            self.module.train(training)
            self._training = training

    def _autocast_context(self) -> Any:
        import torch

        if self._autocast is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self._autocast)

    def train_step(self, x: Any, y: Any) -> Any:
        """One optimizer step on a batch already on the device; returns the loss (on device)."""
        self._mode(True)
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast_context():
            loss = self.loss_fn(self.forward(x), y)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()

    def predict_step(self, x: Any) -> Any:
        """Class probabilities of a batch on the device (inference mode, no gradients)."""
        import torch

        self._mode(False)
        with torch.no_grad(), self._autocast_context():
            return torch.softmax(self.forward(x).float(), dim=-1)

    def fit(
        self,
        loader: Iterable[Any],
        epochs: int = 1,
        on_batch_end: Callable[[int, Any], Any] | None = None,
    ) -> float:
        """Train over ``loader`` ``epochs`` times; ``on_batch_end(step, loss)`` after each step.

        Returns the last loss (a host float: the one synchronisation of the loop).
        A callback that returns True stops the loop (the worker's clock has enough).
        """
        step, loss = 0, None
        for _ in range(epochs):
            for x, y in loader:
                loss = self.train_step(x.to(self.device), y.to(self.device))
                if on_batch_end is not None and on_batch_end(step, loss):
                    return float(loss)
                step += 1
        if loss is None:
            raise ValueError("fit: the loader gave no batch (fewer samples than one batch?)")
        return float(loss)

    def predict(
        self, loader: Iterable[Any], on_batch_end: Callable[[int, Any], Any] | None = None
    ) -> np.ndarray:
        """Probabilities for every batch of ``loader`` (inputs, or (inputs, labels)) on the host.

        Each batch comes back to the host, as ``model.predict`` brings its outputs.
        """
        outputs = []
        for step, batch in enumerate(loader):
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            outputs.append(self.to_host(self.predict_step(x.to(self.device))))
            if on_batch_end is not None and on_batch_end(step, outputs[-1]):
                break
        return np.concatenate(outputs)

    # -- equal work ---------------------------------------------------------------------------

    def param_counts(self) -> ParamCounts:
        """Trainable parameters, and non-trainable state (frozen parameters, BN statistics)."""
        return count_params(self.module)

    def forward_flops_per_sample(self) -> int:
        """Forward FLOPs of one sample by kerasbench's rule: 2 per multiply-add, matmuls only."""
        return 2 * forward_macs(self.name, self.input_shape, self.num_classes, self.hparams)

    def settings(self) -> dict[str, Any]:
        """What a result records about how this side ran."""
        import torch

        return {
            "native_framework": f"torch {torch.__version__}",
            "torch_compile": self.compile_mode,
            "optimizer": self.optimizer_choice.describe(),
            "loss": "CrossEntropyLoss (logits; softmax in predict)",
            "precision": self.precision,
            "image_data_format": "channels_first",
        }


def count_params(module: Any) -> ParamCounts:
    """Trainable parameters; non-trainable: frozen parameters and batch-norm statistics."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    # Float buffers are batch-norm running statistics; num_batches_tracked is bookkeeping.
    stats = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    return ParamCounts(trainable, frozen + stats)


def forward_macs(
    name: str, input_shape: tuple[int, ...], num_classes: int, hparams: Mapping[str, Any]
) -> int:
    """Multiply-adds of one sample's forward pass, counted with hooks on a meta-device model.

    The rules are kerasbench/worker/flops.py's: convolutions (output size x
    kernel window x input channels per group), linear layers, and recurrent
    layers (input and recurrent kernels at every step); nothing elementwise.
    """
    import torch
    from torch import nn

    torch_models.import_torchvision(name)
    with torch.device("meta"):
        module = torch_models.build(name, input_shape, num_classes, hparams).eval()
    total = 0

    def hook(layer: Any, args: tuple, out: Any) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            window = layer.kernel_size[0] * layer.kernel_size[1]
            total += out.numel() * window * layer.in_channels // layer.groups
        elif isinstance(layer, nn.Linear):
            total += out.numel() * layer.in_features
        else:  # nn.LSTM / nn.GRU, batch first
            steps = args[0].shape[1]
            total += steps * (layer.weight_ih_l0.numel() + layer.weight_hh_l0.numel())

    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear, nn.LSTM, nn.GRU)):
            layer.register_forward_hook(hook)
    with torch.no_grad():
        module(torch.empty((1, *input_shape), device="meta"))
    return total
