"""What the data-format, precision, jit and input axes mean per backend.

``AXES_HELP`` is the table ``kerasbench run --help`` prints (docs/axes.md has
the long form). The known rules for combinations a backend cannot run are in
``kerasbench.feasibility``; the errors such a combination raises inside a worker
are recognised there (``kerasbench.worker.protocol.unsupported_error``).
"""

from __future__ import annotations

AXES_HELP = """\
axes, per backend (docs/axes.md has the details):
  --jit-compile   tensorflow: on = XLA (tf.function(jit_compile=True)); auto = XLA only
                  when a GPU/TPU is present, plain tf.function graphs on CPU; off = no XLA.
                  jax: the step is always jax.jit (XLA); off = op-by-op (slow, for debugging).
                  torch: on = torch.compile (Inductor; needs a C++ compiler on CPU);
                  auto and off = eager PyTorch.
  --data-format   channels_last (NHWC) or channels_first (NCHW) for every image layer;
                  each backend runs both on CPU here (TensorFlow through oneDNN).
  --precision     float32, mixed_float16, mixed_bfloat16: Keras dtype policies (variables
                  float32, compute in 16 bits). On CPUs without 16-bit units they run, slowly.
  --input         arrays: batches made before timing, in memory (measures the model alone).
                  generator: keras.utils.PyDataset with --workers threads (processes with
                  --use-multiprocessing), Keras' own enqueuer.
                  native: tensorflow tf.data (parallel map, AUTOTUNE, prefetch);
                  torch DataLoader (--workers processes, pin_memory on GPU);
                  jax grain (--workers threads, processes with --use-multiprocessing).
                  openvino has no native loader (skipped).
  --mode input_only  times the loader alone (no model): samples/s it can deliver.
A combination a backend cannot run is reported as skipped, with the rule and the
reason (kerasbench run --dry-run shows them before anything runs).
"""
