"""The worker protocol: one schema for the raw record, checked strictly when read back."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from kerasbench.worker import protocol
from kerasbench.worker.protocol import PROTOCOL, ProtocolError, RawMeasurement
from tests.factories import make_result, make_spec

GOOD = {"status": "ok", "window_times_s": [0.2, 0.2, 0.2], "time_to_first_step_s": 1.0}


def test_every_field_survives_the_json_round_trip(tmp_path: Path) -> None:
    record = RawMeasurement(
        "ok",
        window_times_s=(0.1, 0.2),
        losses=(2.3, math.nan),  # a diverged loss is a measurement, kept
        items_per_step=32,
        flops_uncounted=("conv (Conv9D)",),
        settings={"tf32": False},
    )
    path = tmp_path / "result.json"
    protocol.write(path, record)
    data = json.loads(path.read_text("utf-8"))
    assert set(data) == protocol.FIELDS and data["protocol"] == PROTOCOL
    back = RawMeasurement.from_json(data)
    assert back.window_times_s == record.window_times_s and back.settings == record.settings
    assert math.isnan(back.losses[1]) and back.flops_uncounted == record.flops_uncounted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window_times_s": "0.1,0.2"}, "window_times_s must be a list"),
        ({"window_times_s": [0.1, 0.0]}, r"window_times_s\[1\] is 0.0, not a positive"),
        ({"window_times_s": [0.1, -1]}, r"window_times_s\[1\] is -1"),
        ({"window_times_s": [math.nan]}, r"window_times_s\[0\] is nan"),
        ({"window_times_s": [math.inf]}, r"window_times_s\[0\] is inf"),
        ({"window_times_s": [True]}, r"window_times_s\[0\] must be a number"),
        ({"window_times_s": ["0.1"]}, r"window_times_s\[0\] must be a number"),
        ({"status": "great"}, "status 'great' is not one of ok, failed, skipped"),
        ({"protocol": 2}, "protocol 2; this kerasbench reads 1"),
        ({"items_per_step": 2.5}, "items_per_step must be an integer"),
        ({"items_per_step": 0}, "items_per_step is 0, not a positive"),
        ({"peak_host_memory_bytes": "1 GB"}, "peak_host_memory_bytes must be an integer"),
        ({"settings": ["tf32"]}, "settings must be an object"),
        ({"device_name": 7}, "device_name must be a string"),
        ({"losses": [None]}, r"losses\[0\] must be a number"),
        ({"wall_clock": 3}, "unknown field"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(change: dict, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        RawMeasurement.from_json({**GOOD, **change})


def test_missing_status_and_non_objects_are_refused() -> None:
    with pytest.raises(ProtocolError, match="status is missing"):
        RawMeasurement.from_json({"window_times_s": [0.1]})
    with pytest.raises(ProtocolError, match="expected a JSON object, got list"):
        RawMeasurement.from_json([GOOD])


def test_a_malformed_record_becomes_a_failed_result_not_a_traceback() -> None:
    spec = make_spec()
    from kerasbench.result import Result

    bad = Result.from_worker(spec, {**GOOD, "window_times_s": [0.2, "fast"]})
    assert bad.status == "failed" and "window_times_s[1] must be a number" in bad.error
    assert bad.samples_per_sec is None
    good = Result.from_worker(spec, RawMeasurement.from_json(GOOD))
    assert good.status == "ok" and good.n_windows == 3


def test_failures_and_unsupported_combinations() -> None:
    failed = protocol.failure(RuntimeError("out of memory\nsecond line"))
    assert failed.status == "failed" and failed.error == "RuntimeError: out of memory"
    skipped = protocol.failure(ValueError("XlaRuntimeError: UNIMPLEMENTED: no bf16 dot here"))
    assert skipped.status == "skipped" and "unsupported by the backend" in skipped.error
    assert protocol.unsupported_error(ValueError("shapes do not match")) is None
    assert protocol.failure("torchrun: rank 1 exited with code 1").error.startswith("torchrun")


def test_the_factory_builds_results_through_the_protocol() -> None:
    result = make_result(1000.0, raw={"items_per_step": 128, "stop_reason": "steps"})
    assert result.status == "ok" and result.samples_per_sec == pytest.approx(1000.0, rel=1e-9)
    assert {f.name for f in dataclasses.fields(RawMeasurement)} == protocol.FIELDS
