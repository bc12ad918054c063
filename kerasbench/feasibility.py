"""The one rule book: can this benchmark point run here, and if not, which rule says why.

Every "can it run" question is answered here and nowhere else: ordered, named
rules, each a function of the point, its backend's declared capabilities
(``kerasbench.backends``), its model (``kerasbench.models``) and the host (its
GPU count). The first rule that objects decides; a point no rule objects to
runs. ``kerasbench run --dry-run`` prints the verdict and the rule of each
point, and the launcher records a skipped point with the same reason.

What is malformed (an unknown model, a batch of 0) is a validation error in
``kerasbench.spec`` instead: such a point cannot even be described.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from kerasbench import backends
from kerasbench.backends import BACKENDS, BackendInfo
from kerasbench.models import MODELS, ModelInfo, get_model
from kerasbench.spec import Spec
from kerasbench.spec_serving import SERVING_MODES

# Modes a data-parallel engine measures, and what data it feeds.
DATA_PARALLEL_MODES = ("fit", "train_on_batch", "predict")
# The model input each real dataset makes (ModelInfo.input_kind).
DATASET_INPUT_KINDS = {"cifar10": "image", "imagefolder": "image", "text": "tokens"}


@dataclass(frozen=True)
class Host:
    """What the rules need to know about the machine the point would run on."""

    gpus: int = 0


@dataclass(frozen=True)
class Verdict:
    """A point's fate: runnable (``rule`` None) or skipped by ``rule`` for ``reason``."""

    rule: str | None = None
    reason: str | None = None

    @property
    def runnable(self) -> bool:
        return self.rule is None

    def describe(self) -> str:
        return "run" if self.runnable else f"skipped [{self.rule}]: {self.reason}"


@dataclass(frozen=True)
class Point:
    """What a rule looks at: the point, its backend's and model's entries, and the host."""

    spec: Spec
    backend: BackendInfo
    model: ModelInfo
    host: Host

    @property
    def data_parallel(self) -> bool:
        return self.spec.devices > 1 or self.spec.num_hosts > 1

    @property
    def cpu_devices(self) -> bool:
        """The point's devices are simulated CPU devices rather than GPUs."""
        kind = self.spec.device_kind
        return kind == "cpu" or (kind == "auto" and self.host.gpus == 0)


def installed(p: Point) -> str | None:
    missing = backends.missing_packages(p.spec.backend)  # looked up late: tests patch it
    if missing:
        return (
            f"backend {p.spec.backend} is not installed (missing {', '.join(missing)}); "
            f"install it with: {p.backend.install_hint}"
        )
    return None


def inference_only(p: Point) -> str | None:
    if not p.backend.training and p.spec.mode not in ("predict", *SERVING_MODES):
        return (
            f"backend {p.spec.backend} is inference-only; it runs modes predict, "
            f"{', '.join(SERVING_MODES)} only"
        )
    return None


def generate_needs_causal_lm(p: Point) -> str | None:
    s, m = p.spec, p.model
    if s.mode != "generate":
        return None
    if not m.causal_lm:
        lms = ", ".join(name for name, info in MODELS.items() if info.causal_lm)
        return f"mode generate needs a causal language model; {s.model} is not one ({lms})"
    if s.dataset != "synthetic" or s.input != "arrays":
        return "mode generate takes synthetic prompts (dataset synthetic, input arrays)"
    if (s.seq_len or m.default_seq_len or 0) < 2:
        return "mode generate needs seq_len of at least 2 (a prompt and one new token)"
    return None


def dataset_fits_model(p: Point) -> str | None:
    s, m = p.spec, p.model
    wanted = DATASET_INPUT_KINDS.get(s.dataset)
    if wanted and wanted != m.input_kind:
        return (
            f"dataset {s.dataset} feeds {wanted} models; model {s.model} takes "
            f"{m.input_kind} inputs"
        )
    return None


def legacy_worker(p: Point) -> str | None:
    """The Keras 2 worker knows fewer models and modes (kerasbench/legacy/worker.py)."""
    if not p.backend.legacy:
        return None
    from kerasbench.legacy.launch import WORKER_MODELS, WORKER_MODES

    if p.spec.model not in WORKER_MODELS:
        return (
            f"model {p.spec.model} has no Keras 2 version in the legacy worker; "
            f"it has: {', '.join(sorted(WORKER_MODELS))}"
        )
    if p.spec.mode not in WORKER_MODES:
        return f"the legacy worker runs modes {', '.join(WORKER_MODES)}, not {p.spec.mode}"
    from kerasbench.legacy.keras2_env import OPTIMIZERS

    if p.spec.optimizer and p.spec.optimizer not in OPTIMIZERS:
        return f"Keras 2 has no optimizer {p.spec.optimizer}; it has {', '.join(OPTIMIZERS)}"
    return None


def backend_axes(p: Point) -> str | None:
    """Datasets, inputs, precisions and jit the backend declares."""
    s, b = p.spec, p.backend
    who = "the legacy worker" if b.legacy else f"backend {s.backend}"
    if s.dataset not in b.datasets:
        return f"{who} measures {', '.join(b.datasets)} data only, not {s.dataset}"
    if s.input not in b.inputs:
        return f"{who} feeds in-memory arrays only, not input {s.input}"
    if s.precision not in b.precisions:
        return f"{s.backend} runs {', '.join(b.precisions)} only"
    if s.jit_compile == "on" and not b.jit:
        return f"{s.backend} has no jit_compile"
    return None


def native_input(p: Point) -> str | None:
    if p.spec.input != "native":
        return None
    if not p.backend.native_input:
        return (
            f"backend {p.spec.backend} has no native input pipeline; "
            "use --input arrays or generator"
        )
    needed = p.backend.native_input_missing()
    if needed:
        return (
            f"the {p.spec.backend} native input pipeline needs {needed}; "
            f"install it with: pip install {needed}"
        )
    return None


def data_parallel_engine(p: Point) -> str | None:
    s, b = p.spec, p.backend
    if not p.data_parallel:
        return None
    engines = [n for n, i in BACKENDS.items() if i.data_parallel and i.multi_host]
    if not b.data_parallel:
        return (
            f"backend {s.backend} has no data-parallel engine here; "
            f"devices > 1 and num_hosts > 1 run on {', '.join(engines)}"
        )
    if s.num_hosts > 1 and not b.multi_host:
        return f"backend {s.backend} runs on one host (num_hosts must be 1)"
    if s.mode not in DATA_PARALLEL_MODES:
        return f"data-parallel points measure {', '.join(DATA_PARALLEL_MODES)}, not {s.mode}"
    if s.dataset != "synthetic" or s.input != "arrays":
        return (
            "data-parallel points feed synthetic in-memory arrays here, not "
            f"dataset={s.dataset} input={s.input}"
        )
    return None


def enough_devices(p: Point) -> str | None:
    s, gpus = p.spec, p.host.gpus
    if p.data_parallel and p.backend.data_parallel == "multi_gpu_model" and gpus < s.devices:
        return f"keras-mxnet's multi_gpu_model needs {s.devices} GPUs; this host has {gpus}"
    if s.device_kind == "gpu" and gpus < s.devices:
        return f"needs {s.devices} GPU(s); this host has {gpus}"
    if p.data_parallel and s.device_kind != "cpu" and 0 < gpus < s.devices:
        return (
            f"needs {s.devices} GPU(s) per host; this host has {gpus} "
            "(--device-kind cpu simulates devices on the CPU)"
        )
    if s.num_hosts > 1 and s.devices > 1 and p.cpu_devices and p.backend.multi_host_cpu_one_device:
        return (
            f"{s.backend}'s multi-host strategy uses one CPU device per worker "
            f"(TensorFlow's MultiWorkerMirroredStrategy); multi-host CPU points on "
            f"{s.backend} need devices = 1"
        )
    return None


# How to install what serves each export runtime (kerasbench.serving.export.FORMATS).
RUNTIME_INSTALL = {
    "saved_model": "pip install tensorflow",
    "onnx": "pip install onnxruntime (exporting also needs tf2onnx or onnxscript)",
    "openvino": "pip install openvino",
    "litert": "pip install ai-edge-litert",
    "torch_export": "pip install torch",
}


def runtime_needs_serving(p: Point) -> str | None:
    s = p.spec
    if s.runtime != "keras" and s.mode not in SERVING_MODES:
        return f"runtime {s.runtime} serves modes {', '.join(SERVING_MODES)} only, not {s.mode}"
    return None


def serving_point(p: Point) -> str | None:
    """Serving scenarios: one single-input model on one device, fed synthetic requests.

    A causal LM is served too, in mode latency only, by its own KV-cached sampler
    (generation latency: TTFT and TPOT, ``kerasbench.serving.generation``).
    """
    s, m = p.spec, p.model
    if s.mode not in SERVING_MODES:
        return None
    if m.causal_lm:
        return _generation_point(p)
    if m.make_inputs is not None:  # a Keras Hub task takes a dict of named inputs
        return f"mode {s.mode} serves single-input models; Keras Hub model {s.model} takes several"
    if s.dataset != "synthetic" or s.input != "arrays":
        return f"mode {s.mode} serves synthetic requests (dataset synthetic, input arrays)"
    if s.mode == "server" and s.find_peak and s.p99_bound_ms <= 0:
        return "--find-peak needs --p99-bound-ms (the bound the search keeps p99 under)"
    if s.mode == "server" and not s.find_peak and s.qps <= 0:
        return "mode server needs a target rate (--qps) or --find-peak with --p99-bound-ms"
    return None


def _generation_point(p: Point) -> str | None:
    """What generation latency of a causal LM measures: keras, single stream, >= 2 tokens."""
    s = p.spec
    if s.mode != "latency":
        return (
            f"mode {s.mode} is not implemented for causal LMs ({s.model}); "
            "use --modes latency (TTFT/TPOT per request) or generate"
        )
    if s.runtime != "keras":
        return (
            f"runtime {s.runtime} does not apply to generation: the sampler is Keras Hub's "
            "KV-cached generate loop, not an exported forward pass; use runtime keras"
        )
    if s.dataset != "synthetic" or s.input != "arrays":
        return f"mode {s.mode} serves synthetic prompts (dataset synthetic, input arrays)"
    if s.new_tokens == 1:
        return "generation latency needs new_tokens >= 2 (TPOT is time per token after the first)"
    return None


def runtime_installed(p: Point) -> str | None:
    from importlib.util import find_spec

    from kerasbench.serving.export import FORMATS

    s = p.spec
    if s.runtime == "keras" or s.mode not in SERVING_MODES:
        return None
    packages = FORMATS[s.runtime].packages
    if not any(find_spec(name) for name in packages):
        return (
            f"runtime {s.runtime} is not installed (needs {' or '.join(packages)}); "
            f"install it with: {RUNTIME_INSTALL[s.runtime]}"
        )
    return None


def native_backend(p: Point) -> str | None:
    """Native baselines measure the models and modes they have, compiled by --compile."""
    s, b = p.spec, p.backend
    if not b.native:
        if s.compile != "auto":
            return (
                f"compile names what a native baseline compiles; Keras backend {s.backend} "
                "takes compile auto and names its own with --jit-compile"
            )
        return None
    from kerasbench import native

    if b.modes and s.mode not in b.modes:
        return f"{s.backend} measures modes {', '.join(b.modes)}, not {s.mode}"
    if not native.supports(b.native, s.model):
        return (
            f"{s.backend} has no native {native.native_name(s.model)}; "
            f"it has: {', '.join(native.MODELS[b.native])}"
        )
    if s.compile not in b.compiles:
        return f"{s.backend} takes compile {', '.join(b.compiles)}, not {s.compile}"
    if s.jit_compile != "auto":
        return f"{s.backend} compiles by --compile, not --jit-compile (jit_compile must be auto)"
    return None


@cache
def torchvision_error() -> str | None:
    """Why torchvision does not import here, or None; probed once, in a child process.

    Only importing tells: a torchvision built for another torch (a CUDA wheel
    beside a CPU torch) is installed but fails with "operator torchvision::nms
    does not exist". The launcher itself never imports torch.
    """
    if importlib.util.find_spec("torchvision") is None:
        return "torchvision is not installed; install it with: pip install 'kerasbench[torch]'"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import torchvision"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return "importing torchvision took over 300 s"
    if proc.returncode == 0:
        return None
    lines = proc.stderr.strip().splitlines() or ["no error message"]
    return f"torchvision does not import: {lines[-1][:200]}"


def torchvision_imports(p: Point) -> str | None:
    """torch-native builds resnet50, vgg16, mobilenet_v2, efficientnet_b0 with torchvision."""
    if p.backend.native != "torch":
        return None
    from kerasbench.native import native_name
    from kerasbench.native.torch_models import TORCHVISION

    if native_name(p.spec.model) not in TORCHVISION:
        return None
    error = torchvision_error()
    return f"{p.spec.backend} {p.spec.model} needs torchvision: {error}" if error else None


# Modes a user's model runs (kerasbench.worker.usermodels), and the modes that train.
USER_MODEL_MODES = ("fit", "train_on_batch", "predict")
TRAINING_MODES = ("fit", "train_on_batch")


def model_modes(p: Point) -> str | None:
    """Modes a model declares it cannot run (``ModelInfo.skip_modes``), with its reason."""
    return p.model.skip_modes.get(p.spec.mode)


def model_inputs(p: Point) -> str | None:
    """A user's model and a Keras Hub task take inputs made for them, on one device."""
    s, m = p.spec, p.model
    if not m.user and m.make_inputs is None:
        return None
    who = "your own model" if m.user else f"Keras Hub model {s.model}"
    if m.user and s.mode not in USER_MODEL_MODES:
        return f"{who} runs modes {', '.join(USER_MODEL_MODES)}, not {s.mode}"
    if s.dataset != "synthetic" or s.input != "arrays":
        return f"{who} takes synthetic inputs made for it (dataset synthetic, input arrays)"
    if p.data_parallel:
        return f"{who} runs on one device here (devices 1, num_hosts 1)"
    return None


def lora(p: Point) -> str | None:
    """LoRA fine-tuning: a Keras Hub backbone's ``enable_lora``, in a training mode."""
    s, m = p.spec, p.model
    if not s.lora_rank:
        return None
    if m.make_inputs is None:
        return f"lora_rank needs a Keras Hub model (its backbone's enable_lora); {s.model} is not"
    if s.mode not in TRAINING_MODES:
        return f"lora_rank fine-tunes: modes {', '.join(TRAINING_MODES)}, not {s.mode}"
    return None


# The rule book, in order: the first rule that objects names the skip.
RULES: tuple[tuple[str, Callable[[Point], str | None]], ...] = (
    ("installed", installed),
    ("inference-only", inference_only),
    ("generate-needs-causal-lm", generate_needs_causal_lm),
    ("runtime-needs-serving", runtime_needs_serving),
    ("serving-point", serving_point),
    ("runtime-installed", runtime_installed),
    ("dataset-fits-model", dataset_fits_model),
    ("legacy-worker", legacy_worker),
    ("model-modes", model_modes),
    ("model-inputs", model_inputs),
    ("lora", lora),
    ("backend-axes", backend_axes),
    ("native-input", native_input),
    ("data-parallel-engine", data_parallel_engine),
    ("enough-devices", enough_devices),
    ("native-backend", native_backend),
    ("torchvision", torchvision_imports),
)


def check(spec: Spec, host: Host) -> Verdict:
    """The verdict of the rule book on ``spec`` running on ``host``."""
    point = Point(spec, BACKENDS[spec.backend], get_model(spec.model), host)
    for name, rule in RULES:
        reason = rule(point)
        if reason:
            return Verdict(name, reason)
    return Verdict()


def skip_reason(spec: Spec, gpus: int) -> str | None:
    """Why ``spec`` cannot run on a host with ``gpus`` GPUs, or None."""
    return check(spec, Host(gpus)).reason
