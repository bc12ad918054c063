"""compare: verdicts, marks, one-sided points, inputs and exit codes (synthetic results)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from kerasbench.report import verdicts as compare
from kerasbench.report.pool import pool_repeats, spread_notes
from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.store import Store


def make_result(
    step_s: float,
    sd: float = 0.01,
    n: int = 20,
    seed: int = 0,
    model: str = "mnist_mlp",
    backend: str = "jax",
    run_id: str = "run1",
    repeat: int = 0,
    **extra: object,
) -> Result:
    rng = random.Random(seed)
    spec = Spec(model=model, backend=backend, steps=2 * n, window_steps=2).resolved()
    windows = [2 * rng.gauss(step_s, sd * step_s) for _ in range(n)]
    raw = {"status": "ok", "window_times_s": windows, "first_step_s": 1.0}
    return Result.from_worker(spec, raw, run_id=run_id, repeat=repeat, **extra)


def test_regression_improvement_and_no_change() -> None:
    base = [make_result(0.010, seed=1), make_result(0.020, seed=2, backend="torch")]
    new = [make_result(0.0125, seed=3), make_result(0.0201, seed=4, backend="torch")]
    result = compare.compare(base, new, threshold=0.05)
    verdicts = {p.backend: p for p in result.points}
    assert verdicts["jax"].verdict == compare.REGRESSION
    assert verdicts["jax"].ratio == pytest.approx(0.8, rel=0.02)
    assert verdicts["jax"].ratio_ci[0] < verdicts["jax"].ratio < verdicts["jax"].ratio_ci[1]
    assert verdicts["torch"].verdict == compare.NO_CHANGE
    assert result.exit_code == 1

    faster = compare.compare(new, base, threshold=0.05)
    assert {p.backend: p.verdict for p in faster.points}["jax"] == compare.IMPROVEMENT
    assert faster.exit_code == 0


def test_significant_but_below_threshold_is_no_change() -> None:
    base, new = [make_result(0.010, sd=0.001, seed=1)], [make_result(0.0102, sd=0.001, seed=2)]
    point = compare.compare(base, new, threshold=0.05).points[0]
    assert point.p_value < 0.05
    assert point.verdict == compare.NO_CHANGE


def test_large_but_noisy_difference_is_not_significant() -> None:
    base = [make_result(0.010, sd=0.5, n=8, seed=1)]
    new = [make_result(0.012, sd=0.5, n=8, seed=2)]
    point = compare.compare(base, new).points[0]
    assert point.p_value >= 0.05
    assert point.verdict == compare.NO_CHANGE


def test_not_comparable_and_one_sided_points() -> None:
    spec = Spec(model="mnist_mlp", backend="tensorflow").resolved()
    failed = Result.from_spec(spec, "failed", "boom", run_id="r")
    base = [make_result(0.01, seed=1), failed, make_result(0.01, model="cifar10_cnn")]
    new = [make_result(0.01, seed=2), make_result(0.01, seed=3, backend="tensorflow")]
    new.append(make_result(0.01, backend="torch"))
    result = compare.compare(base, new)
    by_backend = {p.backend: p for p in result.points}
    assert by_backend["tensorflow"].verdict == compare.NOT_COMPARABLE
    assert "base: no timed windows (failed)" in by_backend["tensorflow"].reason
    assert [r.model for r in result.only_base] == ["cifar10_cnn"]
    assert [r.backend for r in result.only_new] == ["torch"]
    assert result.exit_code == 0
    text = "\n".join(compare.format_lines(result))
    assert "only in base: cifar10_cnn" in text and "only in new: mnist_mlp torch" in text


def test_different_hosts_and_versions_are_marked() -> None:
    base = [replace(make_result(0.01, seed=1, hostname="a"), keras_version="3.15.1")]
    new = [replace(make_result(0.01, seed=2, hostname="b"), keras_version="3.16.0")]
    point = compare.compare(base, new).points[0]
    assert "different host: a -> b" in point.marks
    assert "different keras: 3.15.1 -> 3.16.0" in point.marks


def test_repeats_are_pooled_per_side() -> None:
    base = [make_result(0.010, seed=s, repeat=s) for s in range(3)]
    new = [make_result(0.013, seed=10 + s, run_id="run2", repeat=s) for s in range(3)]
    point = compare.compare(base, new).points[0]
    assert point.verdict == compare.REGRESSION
    assert point.method == compare.BY_PROCESSES and point.processes == (3, 3)
    pooled = pool_repeats(base)
    assert len(pooled) == 1 and pooled[0].repeats_pooled == 3 and pooled[0].n_windows == 60


def test_latest_run_wins_within_a_side() -> None:
    old = make_result(0.030, run_id="old")
    base = [old, make_result(0.010, seed=1, run_id="newer")]
    point = compare.compare(base, [make_result(0.010, seed=2)]).points[0]
    assert point.verdict == compare.NO_CHANGE


def test_threshold_parsing() -> None:
    assert compare.parse_threshold("5%") == pytest.approx(0.05)
    assert compare.parse_threshold("0.1") == pytest.approx(0.1)
    with pytest.raises(compare.CompareError, match="threshold"):
        compare.parse_threshold("five")


def _export(path: Path, results: list[Result]) -> Path:
    path.write_text(json.dumps([r.to_dict() for r in results]), encoding="utf-8")
    return path


def test_cli_exit_codes_on_json_exports_and_stores(tmp_path: Path) -> None:
    from kerasbench.cli import main

    base = _export(tmp_path / "base.json", [make_result(0.010, seed=1)])
    same = _export(tmp_path / "same.json", [make_result(0.010, seed=2)])
    slow = _export(tmp_path / "slow.json", [make_result(0.012, seed=3)])
    assert main(["compare", str(base), str(same)]) == 0
    assert main(["compare", str(base), str(slow)]) == 1
    assert main(["compare", str(base), str(slow), "--threshold", "30%"]) == 0

    db = tmp_path / "results.db"
    with Store(db) as store:
        store.save(replace(make_result(0.010, seed=1), label="main"))
        store.save(replace(make_result(0.015, seed=2, run_id="run2"), label="branch"))
    assert main(["compare", str(db), "--base-label", "main", "--new-label", "branch"]) == 1
    assert main(["compare", str(db), "--base-label", "branch", "--new-label", "main"]) == 0


def test_cli_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kerasbench.cli import main

    base = _export(tmp_path / "base.json", [make_result(0.010)])
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    assert main(["compare", str(base), str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    assert main(["compare", str(base), str(junk)]) == 2
    assert "junk.json: neither a results store nor a JSON export" in capsys.readouterr().err
    assert main(["compare", str(base), str(base), "--threshold", "lots"]) == 2
    assert main(["compare", str(base)]) == 2


def test_processes_not_windows_are_the_unit_when_both_sides_repeat() -> None:
    """Two runs of one point whose processes differ by several % (as on a shared VM).

    Each process's windows agree to 1%, so a test over pooled windows calls the
    ~7% lower median of NEW a significant regression; the processes overlap, so
    over processes it is no change.
    """
    base_speeds, new_speeds = (1.00, 1.00, 1.09), (1.07, 1.07, 0.99)
    base = [make_result(0.010 * f, seed=s, repeat=s) for s, f in enumerate(base_speeds)]
    new = [
        make_result(0.010 * f, seed=10 + s, run_id="run2", repeat=s)
        for s, f in enumerate(new_speeds)
    ]
    point = compare.compare(base, new).points[0]
    assert point.method == compare.BY_PROCESSES
    assert point.ratio < 0.95
    assert point.p_value >= 0.05 and point.verdict == compare.NO_CHANGE
    assert point.ratio_ci[0] < 0.95 < 1.0 < point.ratio_ci[1]

    single = compare.compare(base[:1], new[:1])  # one process a side: windows only
    assert single.points[0].method == compare.BY_WINDOWS
    assert single.points[0].verdict == compare.REGRESSION
    text = "\n".join(compare.format_lines(single))
    assert " 1:1 " in text and "one process on a side" in text and "--repeats 3" in text
    assert "one process on a side" not in "\n".join(
        compare.format_lines(compare.compare(base, new))
    )


def test_cpu_steal_is_marked_and_noted() -> None:
    base = [make_result(0.010, seed=1, cpu_steal_fraction=0.001)]
    new = [make_result(0.011, seed=2, cpu_steal_fraction=0.16)]
    point = compare.compare(base, new).points[0]
    assert "cpu steal (other tenants of this VM's host): 0% -> 16%" in point.marks
    quiet = compare.compare(base, [make_result(0.010, seed=2, cpu_steal_fraction=0.004)])
    assert quiet.points[0].marks == ()
    notes = spread_notes(pool_repeats(new))
    assert any("gave 16% of this machine's CPU time to other tenants" in n for n in notes)
    assert not spread_notes(pool_repeats(base))
