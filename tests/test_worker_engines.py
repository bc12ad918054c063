"""One run_point for every engine: the engine lookup, and a data-parallel point that records
the same explicit settings and gets the same FLOPs and MFU as a single-device point."""

from __future__ import annotations

import pytest

from kerasbench import envinfo
from kerasbench.orchestrate import point
from kerasbench.worker import engines, frameworks
from kerasbench.worker.engines.single import SingleDeviceEngine
from tests.conftest import backend_params, needs_backend
from tests.factories import make_spec


def test_engine_lookup() -> None:
    assert type(engines.engine_for(make_spec())) is SingleDeviceEngine
    jax_dp = engines.engine_for(make_spec(devices=2, device_kind="cpu"))
    assert type(jax_dp).__name__ == "JaxEngine" and jax_dp.local_batch == 128
    with pytest.raises(ValueError, match="backend openvino has no data-parallel engine"):
        engines.engine_for(make_spec(backend="openvino", mode="predict", devices=2))


def test_framework_lookup_names_the_valid_backends() -> None:
    with pytest.raises(ValueError, match="unknown backend 'mxnet'; valid: jax, tensorflow"):
        frameworks.get("mxnet")
    for name in frameworks.MODULES:
        module = frameworks.get(name)
        for attr in ("describe", "apply_settings", "peak_device_memory_bytes"):
            assert callable(getattr(module, attr)), (name, attr)
        assert hasattr(module, "matmul_runner") and callable(module.data_parallel_engine)


def _run(backend: str, devices: int):
    spec = make_spec(
        backend=backend,
        model="mnist_mlp",
        mode="train_on_batch",
        batch_size=16,
        steps=2,
        warmup=1,
        window_steps=1,
        devices=devices,
        device_kind="cpu",
        timeout=300,
    )
    return point.run_point(spec, envinfo.collect())


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params())
def test_data_parallel_point_records_settings_and_mfu(backend: str) -> None:
    result = _run(backend, devices=2)
    assert result.status == "ok", (result.error, result.stderr_tail)
    settings = result.settings
    assert settings["distribution"] and settings["tf32"] is False
    assert settings["mixed_precision_policy"] == "float32"
    specific = {
        "jax": "jax_default_matmul_precision",
        "tensorflow": "tf_xla_auto_clustering",
        "torch": "torch_float32_matmul_precision",
    }[backend]
    assert specific in settings
    assert result.forward_flops_per_sample == 2 * (784 * 512 + 512 * 512 + 512 * 10)
    assert result.flops_per_step == 3 * result.forward_flops_per_sample * 16
    assert result.peak_tflops and result.mfu == pytest.approx(
        result.achieved_tflops / result.peak_tflops
    )


@pytest.mark.slow
@needs_backend("jax")
def test_single_and_data_parallel_records_have_the_same_settings_keys() -> None:
    one, two = _run("jax", 1), _run("jax", 2)
    assert one.status == two.status == "ok"
    data_parallel_only = {
        "distribution",
        "training_loop",
        "host_rank",
        "processes",
        "per_process_batch",
        "per_device_batch",
        "process_window_times_s",
    }
    assert set(two.settings) - set(one.settings) == data_parallel_only
    assert set(one.settings) <= set(two.settings)
