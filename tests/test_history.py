"""History: series by date and by version, change points, step significance, the CI gate."""

from __future__ import annotations

import random
from dataclasses import replace

from kerasbench.history import (
    build_series,
    detect,
    exit_code,
    newest_regression,
    package_version,
    report_lines,
    timeline,
)
from tests.factories import make_result

THRESHOLD = 0.05


def _run(i: int, speed: float, rng: random.Random, **kw):
    """The i-th run of a series: run-to-run noise of 2%, window noise of 3%, a date each."""
    level = speed * rng.gauss(1.0, 0.02)
    return make_result(
        level,
        n=10,
        sd=0.03,
        seed=i,
        started_at=f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00",
        **kw,
    )


def _series(levels: list[float], seed: int = 0, **kw):
    rng = random.Random(seed)
    return [_run(i, speed, rng, **kw) for i, speed in enumerate(levels)]


def _history(results, by=None):
    (series,) = build_series(results, by=by)
    return detect(series)


def test_clean_step_found_at_its_index_with_small_p():
    history = _history(_series([1000.0] * 12 + [800.0] * 12))
    assert [s.at for s in history.steps] == [12]
    (step,) = history.steps
    assert step.p < 0.01
    assert 0.75 < step.ratio < 0.85
    assert step.ci[0] < step.ratio < step.ci[1]
    first, second = history.segments
    assert (first.n_results, second.n_results) == (12, 12)
    assert 950 < first.throughput < 1050 and 760 < second.throughput < 840


def test_flat_noisy_series_has_no_change():
    for seed in range(3):
        history = _history(_series([1000.0] * 30, seed=seed))
        assert history.steps == (), seed
        assert len(history.segments) == 1
        assert exit_code([history], THRESHOLD) == 0


def test_regression_in_newest_segment_exits_1():
    history = _history(_series([1000.0] * 10 + [850.0] * 4))
    step = newest_regression(history, THRESHOLD)
    assert step is not None and step.at == 10
    assert exit_code([history], THRESHOLD) == 1
    assert any(line.startswith("  REGRESSION") for line in report_lines([history], THRESHOLD))


def test_improvement_exits_0():
    history = _history(_series([1000.0] * 10 + [1200.0] * 4))
    assert [s.at for s in history.steps] == [10]
    assert history.steps[0].ratio > 1.1
    assert exit_code([history], THRESHOLD) == 0


def test_old_regression_then_recovery_does_not_gate():
    history = _history(_series([1000.0] * 8 + [800.0] * 8 + [1000.0] * 8))
    assert [s.at for s in history.steps] == [8, 16]
    assert exit_code([history], THRESHOLD) == 0


def test_regression_below_threshold_does_not_gate():
    history = _history(_series([1000.0] * 12 + [960.0] * 12))
    assert exit_code([history], threshold=0.10) == 0


def _versioned(version: str, i: int, speed: float, rng: random.Random):
    return _run(i, speed, rng, raw={"keras_version": version})


def test_by_version_orders_with_packaging_and_snaps_to_releases():
    rng = random.Random(1)
    # Stored out of order, and "3.10.0" sorts after "3.9.1" only as a version, not as text.
    plan = [("3.10.0", 800.0), ("3.8.0", 1000.0), ("3.9.1", 1000.0), ("3.11.0", 800.0)]
    results = [
        _versioned(version, i * 4 + j, speed, rng)
        for i, (version, speed) in enumerate(plan)
        for j in range(4)
    ]
    history = _history(results, by="keras")
    labels = [e.label for e in history.series.entries]
    assert labels == ["3.8.0"] * 4 + ["3.9.1"] * 4 + ["3.10.0"] * 4 + ["3.11.0"] * 4
    assert [(s.at, s.label) for s in history.steps] == [(8, "3.10.0")]
    assert [(s.first, s.last) for s in history.segments] == [
        ("3.8.0", "3.9.1"),
        ("3.10.0", "3.11.0"),
    ]
    assert exit_code([history], THRESHOLD) == 1


def test_by_version_joins_the_environments_that_hold_the_versions():
    # run --env k380,k390,k3100: each release in its own environment, env in the point key.
    rng = random.Random(4)
    plan = [("k380", "3.8.0", 1000.0), ("k390", "3.9.0", 1000.0), ("k3100", "3.10.0", 800.0)]
    results = [
        replace(_versioned(version, i * 4 + j, speed, rng), env=env)
        for i, (env, version, speed) in enumerate(plan)
        for j in range(4)
    ]
    (series,) = build_series(results, by="keras")
    assert [e.label for e in series.entries] == ["3.8.0"] * 4 + ["3.9.0"] * 4 + ["3.10.0"] * 4
    assert "env" not in series.title
    history = detect(series)
    assert [(s.at, s.label) for s in history.steps] == [(8, "3.10.0")]
    # By date each environment stays a configuration of its own, named by its env.
    by_date = build_series(results)
    assert sorted(s.title.split()[-1] for s in by_date) == ["k3100", "k380", "k390"]


def test_results_without_the_version_are_left_out_and_counted():
    rng = random.Random(2)
    results = [_versioned("3.8.0", i, 1000.0, rng) for i in range(3)]
    results.append(_run(3, 1000.0, rng))  # no keras version recorded
    (series,) = build_series(results, by="keras")
    assert len(series.entries) == 3 and series.dropped == 1
    assert "1 left out: no keras version" in report_lines([detect(series)], THRESHOLD)[0]


def test_package_version_sources():
    result = make_result(1000.0, backend="jax", raw={"keras_version": "3.9.0"})
    result = replace(result, backend_version="0.6.2", python_version="3.11.4")
    assert package_version(result, "keras") == "3.9.0"
    assert package_version(result, "jax") == "0.6.2"
    assert package_version(result, "Python") == "3.11.4"
    assert package_version(result, "torch") is None
    named_env = replace(result, settings={"versions": {"ml_dtypes": "0.5.1"}})
    assert package_version(named_env, "ml-dtypes") == "0.5.1"


def test_configurations_are_separate_and_filtered():
    rng = random.Random(3)
    results = [_run(i, 1000.0, rng, backend="jax") for i in range(4)]
    results += [_run(i, 500.0, rng, backend="torch") for i in range(4)]
    results.append(make_result(status="failed", backend="jax"))
    assert [s.title for s in build_series(results)] == [
        "mnist_mlp jax train_on_batch batch 128",
        "mnist_mlp torch train_on_batch batch 128",
    ]
    (torch,) = build_series(results, backends=["torch"])
    assert len(torch.entries) == 4
    assert build_series(results, models=["resnet50"]) == []


def test_lines_and_timeline_show_segments_and_steps():
    history = _history(_series([1000.0] * 6 + [800.0] * 6))
    lines = report_lines([history], THRESHOLD)
    assert lines[0].startswith("mnist_mlp jax train_on_batch batch 128: 12 results by date")
    step_lines = [line for line in lines if line.strip().startswith("step at")]
    assert len(step_lines) == 1 and "-2" in step_lines[0] and "p=" in step_lines[0]
    data = timeline(history)
    assert len(data["points"]) == 12
    assert [s["at"] for s in data["steps"]] == [6]
    assert [(s["start"], s["end"]) for s in data["segments"]] == [(0, 6), (6, 12)]
    assert report_lines([], THRESHOLD) == ["no results to show a history of"]
