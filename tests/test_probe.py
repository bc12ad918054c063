"""The machine speed probe: the shape of its figures and a simulated slowdown (no timing)."""

from __future__ import annotations

import itertools
import json

import pytest

from kerasbench import probe


def _clock(step_s: float):
    """A timer that advances ``step_s`` on every call: each timed piece takes ``step_s``."""
    ticks = itertools.count()
    return lambda: next(ticks) * step_s


def test_figures_have_their_shape_and_round_trip():
    fig = probe.run_probe(repeats=1, threads=1)
    assert fig.gflops > 0 and fig.gbps > 0 and fig.seconds > 0
    assert fig.version == probe.PROBE_VERSION
    assert probe.ProbeFigures.from_dict(json.loads(json.dumps(fig.to_dict()))) == fig


def test_figures_follow_the_work_and_the_timer():
    fig = probe.run_probe(timer=_clock(0.01), repeats=3, threads=2)
    flops = 2 * probe.MATMUL_N**3 * probe.MATMUL_CALLS * 2
    assert fig.gflops == pytest.approx(flops / 0.01 / 1e9)
    assert fig.gbps == pytest.approx(2 * probe.COPY_BYTES / 0.01 / 1e9)


def test_a_simulated_slowdown_is_reported_as_such():
    before = probe.run_probe(timer=_clock(0.010), repeats=3, threads=1)
    during = probe.run_probe(timer=_clock(0.0125), repeats=3, threads=1)
    change = probe.drift(before, during)
    assert change.compute == pytest.approx(0.8) and change.memory == pytest.approx(0.8)
    assert probe.describe(change, "NEW").startswith("this host ran 20% slower during NEW")
    assert "same speed" in probe.describe(probe.drift(before, before), "NEW")
    assert "faster" in probe.describe(probe.drift(during, before), "NEW")


def test_bracket_keeps_the_slower_probe_of_each_figure():
    fast = probe.ProbeFigures(gflops=20.0, gbps=10.0, seconds=0.1)
    slow = probe.ProbeFigures(gflops=15.0, gbps=12.0, seconds=0.2)
    both = probe.bracket(fast, slow)
    assert (both.gflops, both.gbps) == (15.0, 10.0)


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="probe figures"):
        probe.ProbeFigures.from_dict({"gflops": 1.0})
    other = probe.ProbeFigures(1.0, 1.0, 0.1, version=probe.PROBE_VERSION + 1)
    with pytest.raises(ValueError, match="not comparable"):
        probe.drift(probe.ProbeFigures(1.0, 1.0, 0.1), other)


def test_cli_prints_json(capsys):
    assert probe.main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"gflops", "gbps", "seconds", "version"}
    with pytest.raises(SystemExit):
        probe.main(["--median-of", "0"])
