"""jax-native training and inference: Flax modules, optax, jitted steps, for ``jax-native``.

The loop is Flax's examples/imagenet one: a ``TrainState`` (parameters,
optimizer state, batch-norm statistics) passed through a ``jax.jit``-ed
``train_step`` that returns the next state, its buffers donated as Keras' JAX
trainer donates its own. JAX is always jitted; there is no eager variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np

from kerasbench.native.common import NativeConfig, ParamCounts
from kerasbench.native.optim import OptimizerChoice


class NumpyBatches:
    """In-memory batches as numpy arrays, in order, whole batches only; re-iterable (epochs)."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, batch_size: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for i in range(len(self)):
            cut = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield self.x[cut], None if self.y is None else self.y[cut]


def _train_state_class() -> Any:
    from flax.training import train_state

    class TrainState(train_state.TrainState):
        """Flax's TrainState with the batch-norm statistics beside the parameters."""

        batch_stats: Any = None

    return TrainState


def _loss(logits: Any, labels: Any) -> Any:
    """Mean sparse categorical cross-entropy on logits (Keras: softmax, then its loss)."""
    import optax

    return optax.softmax_cross_entropy_with_integer_labels(logits.astype("float32"), labels).mean()


def _train_step(state: Any, x: Any, y: Any, dropout_key: Any) -> tuple[Any, Any]:
    import jax

    key = jax.random.fold_in(dropout_key, state.step)

    def loss_fn(params: Any) -> tuple[Any, Any]:
        logits, updates = state.apply_fn(
            {"params": params, "batch_stats": state.batch_stats},
            x,
            train=True,
            rngs={"dropout": key},
            mutable=["batch_stats"],
        )
        return _loss(logits, y), updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads=grads, batch_stats=updates.get("batch_stats", {}))
    return state, loss


def _predict_step(state: Any, x: Any) -> Any:
    import jax

    logits = state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x)
    return jax.nn.softmax(logits.astype("float32"), axis=-1)


class FlaxNative:
    """A jax-native model: Flax module, optax optimizer, jitted train and predict steps."""

    framework = "jax"

    def __init__(self, config: NativeConfig) -> None:
        import jax
        import jax.numpy as jnp

        from kerasbench.native import jax_models

        if config.compile not in ("jit", "eager"):  # "eager" accepted as the factory's default
            raise ValueError(
                f"jax-native is always jitted; compile {config.compile!r} is not 'jit'"
            )
        if config.precision == "mixed_float16":
            raise ValueError("jax-native: mixed_float16 needs loss scaling, which optax lacks")
        name, num_classes, precision = config.name, config.num_classes, config.precision
        self.name, self.input_shape, self.num_classes = name, config.input_shape, num_classes
        self.hparams, self.precision = dict(config.hparams), precision
        # The JAX platform is chosen by the process (JAX_PLATFORMS); its first device runs it.
        self.device = jax.devices()[0]
        dtype = jnp.bfloat16 if precision == "mixed_bfloat16" else jnp.float32
        self.module = jax_models.build(name, num_classes, self.hparams, dtype=dtype)
        self.optimizer_choice = OptimizerChoice.of(config.optimizer, config.learning_rate)
        init_key, self._dropout_key = jax.random.split(jax.random.key(config.seed))
        variables = jax.jit(partial(self.module.init, train=False))(
            init_key, jnp.zeros((1, *self.input_shape), jnp.float32)
        )
        self.state = _train_state_class().create(
            apply_fn=self.module.apply,
            params=variables["params"],
            tx=self.optimizer_choice.optax(),
            batch_stats=variables.get("batch_stats", {}),
        )
        self._train = jax.jit(_train_step, donate_argnums=0)
        self._predict = jax.jit(_predict_step)
        self._last: Any = None

    # -- data ---------------------------------------------------------------------------------

    def to_device(self, array: np.ndarray) -> Any:
        import jax

        return jax.device_put(array, self.device)

    def make_loader(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> NumpyBatches:
        """Numpy batches over in-memory arrays, in order (a plain Python iterator, as Flax's)."""
        return NumpyBatches(x, y, batch_size)

    def to_host(self, value: Any) -> np.ndarray:
        return np.asarray(value)

    def sync(self) -> None:
        """Wait for the last step's outputs: call at the edges of a timed window only."""
        import jax

        jax.block_until_ready((self.state, self._last))

    # -- steps --------------------------------------------------------------------------------

    def train_step(self, x: Any, y: Any) -> Any:
        """One optimizer step (the state is replaced); returns the loss, still on the device."""
        self.state, loss = self._train(self.state, x, y, self._dropout_key)
        self._last = loss
        return loss

    def predict_step(self, x: Any) -> Any:
        """Class probabilities of a batch (inference mode: no dropout, running BN statistics)."""
        self._last = self._predict(self.state, x)
        return self._last

    def fit(
        self,
        loader: Iterable[Any],
        epochs: int = 1,
        on_batch_end: Callable[[int, Any], Any] | None = None,
    ) -> float:
        """Train over ``loader`` ``epochs`` times; ``on_batch_end(step, loss)`` after each step.

        Returns the last loss as a host float; a callback returning True stops early.
        """
        step, loss = 0, None
        for _ in range(epochs):
            for x, y in loader:
                loss = self.train_step(self.to_device(x), self.to_device(y))
                if on_batch_end is not None and on_batch_end(step, loss):
                    return float(loss)
                step += 1
        if loss is None:
            raise ValueError("fit: the loader gave no batch (fewer samples than one batch?)")
        return float(loss)

    def predict(
        self, loader: Iterable[Any], on_batch_end: Callable[[int, Any], Any] | None = None
    ) -> np.ndarray:
        """Probabilities for every batch of ``loader`` on the host, as ``model.predict`` gives."""
        outputs = []
        for step, batch in enumerate(loader):
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            outputs.append(self.to_host(self.predict_step(self.to_device(x))))
            if on_batch_end is not None and on_batch_end(step, outputs[-1]):
                break
        return np.concatenate(outputs)

    # -- equal work ---------------------------------------------------------------------------

    def param_counts(self) -> ParamCounts:
        import jax

        def size(tree: Any) -> int:
            return sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(tree))

        return ParamCounts(size(self.state.params), size(self.state.batch_stats))

    def forward_flops_per_sample(self) -> int:
        """Forward FLOPs of one sample by kerasbench's rule: 2 per multiply-add, matmuls only."""
        return 2 * forward_macs(self.module, self.input_shape, self.state.params)

    def settings(self) -> dict[str, Any]:
        import flax
        import jax

        return {
            "native_framework": f"jax {jax.__version__}, flax {flax.__version__}",
            "jit": "jax.jit (train state donated)",
            "optimizer": self.optimizer_choice.describe(),
            "loss": "optax.softmax_cross_entropy_with_integer_labels (logits)",
            "precision": self.precision,
            "image_data_format": "channels_last",
        }


def forward_macs(module: Any, input_shape: tuple[int, ...], params: Any) -> int:
    """Multiply-adds of one sample's forward pass, by kerasbench/worker/flops.py's rules.

    Dense and Conv calls are intercepted during an abstract forward pass
    (``jax.eval_shape``); the recurrent layer, a scan, is counted from its
    kernels instead: every kernel once per step.
    """
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    total = 0

    def count(next_fun: Callable[..., Any], args: tuple, kwargs: dict, context: Any) -> Any:
        nonlocal total
        out = next_fun(*args, **kwargs)
        layer = context.module
        in_cell = layer.path[:1] == ("cell",)  # traced once per scan, not once per step
        if context.method_name == "__call__" and not in_cell:
            if isinstance(layer, nn.Conv):
                kernel = layer.variables["params"]["kernel"].shape  # (*window, in / groups, out)
                total += out.size * int(np.prod(kernel[:-1]))
            elif isinstance(layer, nn.Dense):
                total += out.size * args[0].shape[-1]
        return out

    variables = {"params": params}
    sample = jnp.zeros((1, *input_shape), jnp.float32)
    with nn.intercept_methods(count):
        jax.eval_shape(lambda v, x: module.apply(v, x, mutable=["batch_stats"]), variables, sample)
    if "cell" in params:
        steps = input_shape[0]
        kernels = jax.tree_util.tree_leaves_with_path(params["cell"])
        total += steps * sum(int(leaf.size) for path, leaf in kernels if "kernel" in str(path))
    return total
