"""Interleaved A/B: ABBA rounds, places in rounds, paired ratios, env axis end to end."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from kerasbench import cli
from kerasbench.legacy import envs as legacy
from kerasbench.orchestrate.interleave import paired, paired_verdict, round_positions, rounds
from kerasbench.report.host_speed import host_speed_line
from kerasbench.spec import Spec, SpecError
from kerasbench.store import Store
from tests.factories import make_result, make_spec


def test_rounds_alternate_the_sides_abba():
    specs = [make_spec(env=e, repeats=4) for e in ("a", "b")]
    plan = rounds(specs)
    assert [(s.env, s.repeat) for s in plan] == [
        ("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2), ("b", 3), ("a", 3),
    ]  # fmt: skip


def test_rounds_keep_the_sides_of_a_configuration_together():
    specs = [make_spec(model=m, env=e, repeats=2) for e in ("a", "b") for m in ("mnist_mlp", "gru")]
    plan = rounds(specs)
    pairs = [(s.model, s.env) for s in plan]
    assert pairs[:4] == [("mnist_mlp", "a"), ("mnist_mlp", "b"), ("gru", "a"), ("gru", "b")]
    assert pairs[4:] == [("gru", "b"), ("gru", "a"), ("mnist_mlp", "b"), ("mnist_mlp", "a")]
    assert round_positions([s.to_dict() for s in plan]) == {i: i % 4 for i in range(8)}


def test_env_names_are_checked():
    with pytest.raises(SpecError, match="env: '../x' is not an environment name"):
        make_spec(env="../x")
    assert make_spec(env="keras-3.10").env == "keras-3.10"


def _side(env: str, speeds: list[float], run_id: str = "r1", probe: float = 10.0) -> list:
    out = []
    for i, speed in enumerate(speeds):
        r = make_result(speed, n=6, run_id=run_id)
        out.append(
            dataclasses.replace(
                r,
                env=env,
                round_index=i,
                probe_before={"gflops": probe, "gbps": probe, "seconds": 0.1, "version": 1},
                probe_after={"gflops": probe, "gbps": probe, "seconds": 0.1, "version": 1},
            )
        )
    return out


def test_paired_ratios_cancel_a_drift_both_sides_shared():
    drift = [1.0, 0.8, 0.9, 0.7, 1.0, 0.75]  # the machine's speed round by round
    base = _side("a", [100 * d for d in drift])
    new = _side("b", [90 * d for d in drift])
    (pair,) = paired(base, new, "env")
    assert pair.ratio == pytest.approx(0.9) and pair.ratios == pytest.approx([0.9] * 6)
    assert pair.p is not None and pair.p < 0.05
    assert paired_verdict(pair, 0.05, 0.05) == "regression"
    assert paired_verdict(pair, 0.2, 0.05) == "no change beyond the threshold"
    # Different runs never pair: the rounds must be of one run.
    assert paired(base, _side("b", [90] * 6, run_id="other"), "env") == []


def test_host_speed_line_names_a_slower_host():
    base, new = _side("a", [100] * 3, probe=10.0), _side("b", [80] * 3, probe=8.0)
    line = host_speed_line(base, new)
    assert line is not None and line.startswith("this host ran 20% slower during NEW")
    assert host_speed_line(base, _side("b", [80] * 3, probe=9.8)) is None  # within 5%


def test_compare_two_envs_of_one_interleaved_run(tmp_path, capsys):
    db = tmp_path / "r.db"
    drift = [1.0, 0.7, 0.9, 0.6]
    with Store(db) as store:
        run_id = store.begin_run(None, "", [], {}, [])
        base = _side("a", [100 * d for d in drift], run_id=run_id)
        new = _side("b", [70 * d for d in drift], run_id=run_id, probe=8.0)
        for r in [x for pair in zip(base, new, strict=True) for x in pair]:
            store.save(r)
    code = cli.main(["compare", str(db), "--base-env", "a", "--new-env", "b"])
    out = capsys.readouterr().out
    assert "paired over 4 interleaved rounds" in out and "NEW/BASE 0.700" in out
    assert "this host ran 20% slower during NEW" in out
    assert code == 1


def _register(home, name: str, versions: dict[str, str]) -> None:
    record = legacy.EnvRecord(
        backend=name,
        path=str(home / "envs" / name),
        python=sys.executable,  # runs in this interpreter: the harness, not the versions
        python_version="3",
        requirements=[],
        versions=versions,
        created_at="2025-01-01T00:00:00+00:00",
        extra={"kind": "named"},
    )
    legacy.save_record(record, home)


def test_run_with_an_env_axis_interleaves_and_records_versions(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("KERASBENCH_HOME", str(home))
    monkeypatch.setenv("KERASBENCH_NO_PROBE", "1")
    _register(home, "old", {"keras": "3.1.0", "numpy": "1"})
    _register(home, "new", {"keras": "3.2.0", "numpy": "1"})
    db = tmp_path / "r.db"
    argv = ["run", "--models", "mnist_mlp", "--modes", "input_only", "--backends", "jax"]
    argv += ["--env", "old,new", "--repeats", "2", "--steps", "4", "--results", str(db)]
    assert cli.main(argv) == 0, capsys.readouterr()
    with Store(db) as store:
        got = store.results(latest=False)
    assert [(r.env, r.round_index, r.round_position) for r in got] == [
        ("old", 0, 0), ("new", 0, 1), ("new", 1, 0), ("old", 1, 1),
    ]  # fmt: skip
    assert {r.versions["keras"] for r in got if r.env == "old"} == {"3.1.0"}
    assert len({r.point_key for r in got}) == 2  # the env is part of the configuration
    capsys.readouterr()
    assert cli.main(["history", "--results", str(db), "--by", "keras"]) == 0
    out = capsys.readouterr().out
    assert "by keras" in out
    # An environment nobody made is bad input, named.
    assert cli.main([*argv, "--env", "nope"]) == 2  # argparse keeps the last --env
    assert "no environment 'nope'" in capsys.readouterr().err


def test_run_points_carry_host_probes(tmp_path, capsys):
    db = tmp_path / "r.db"
    argv = ["run", "--models", "mnist_mlp", "--modes", "input_only", "--backends", "jax"]
    assert cli.main([*argv, "--steps", "2", "--results", str(db)]) == 0, capsys.readouterr()
    with Store(db) as store:
        (r,) = store.results()
    assert r.probe_before["gflops"] > 0 and r.probe_after["gbps"] > 0
    assert r.versions.get("numpy") and r.env == "" and r.round_index == 0
    json.dumps(r.to_dict())


def test_spec_env_round_trips():
    spec = make_spec(env="x")
    assert Spec.from_dict(spec.to_dict()) == spec


def test_html_report_says_when_the_host_ran_slower(tmp_path):
    from kerasbench.report.html import render_html
    from kerasbench.report.select import Query, Selection

    base = [dataclasses.replace(r, label="old") for r in _side("", [100] * 3, probe=10.0)]
    new = [dataclasses.replace(r, label="new") for r in _side("", [80] * 3, probe=7.0)]
    selection = Selection(results=new, base=base)
    html = render_html(selection, Query(compare="old"))
    assert "this host ran 30% slower during this report&#x27;s results" in html
