"""Bisect: releases listed from a local index of fake wheels; searches with injected slowdowns."""

from __future__ import annotations

import random
import subprocess

import pytest
from packaging.version import Version

from kerasbench.envs import EnvError, get
from kerasbench.envs.bisect import (
    bisect,
    env_builder,
    paired_test,
    parse_index_versions,
    released_versions,
    table_lines,
)
from tests.test_envs import fake_index, venv_missing

RELEASES = ["1.0.0", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.4.0", "2.0.0rc1", "2.0.0"]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return fake_index(tmp_path_factory.mktemp("index"), RELEASES)


def test_released_versions_between_good_and_bad(index):
    found = released_versions("fakepkg", "1.1.0", "2.0.0", index=index)
    assert found == ["1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.4.0", "2.0.0"]  # no rc
    assert released_versions("fakepkg", "1.4.0", "2.0.0rc1", index=index) == ["1.4.0", "2.0.0rc1"]


def test_released_versions_errors(index):
    with pytest.raises(EnvError, match="BAD 9.0: not a release of fakepkg"):
        released_versions("fakepkg", "1.0.0", "9.0", index=index)
    with pytest.raises(EnvError, match="must be older"):
        released_versions("fakepkg", "1.2.0", "1.0.0", index=index)
    with pytest.raises(EnvError, match="not a version"):
        released_versions("fakepkg", "one", "1.0.0", index=index)


def test_parse_index_versions():
    out = "fakepkg (1.2.0)\nAvailable versions: 1.2.0, 1.1.0, 1.0.0\n"
    assert parse_index_versions(out) == ["1.2.0", "1.1.0", "1.0.0"]
    with pytest.raises(EnvError, match="Available versions"):
        parse_index_versions("ERROR: No matching distribution found for nothing")


def _bench(first_slow: str | None, factor: float = 0.8, noise: float = 0.01, between: float = 0.0):
    """build/measure callbacks: releases from ``first_slow`` on run ``factor`` as fast.

    ``noise``: spread of a process's windows; ``between``: spread between processes
    (each measure call is one process, whose windows agree among themselves).
    """
    rng = random.Random(0)
    built, measured = [], []

    def build(version: str) -> str:
        built.append(version)
        return f"env-{version}"

    def measure(env: str) -> list[float]:
        measured.append(env)
        version = Version(env.removeprefix("env-"))
        slow = first_slow is not None and version >= Version(first_slow)
        level = 1000.0 * (factor if slow else 1.0) * rng.gauss(1.0, between)
        return [rng.gauss(level, noise * level) for _ in range(8)]

    return build, measure, built, measured


def test_bisect_finds_the_first_slower_release(index):
    versions = released_versions("fakepkg", "1.0.0", "2.0.0", index=index)
    build, measure, built, measured = _bench("1.3.0")
    result = bisect("fakepkg", versions, measure, build, threshold=0.05, log=str)
    assert (result.first_bad, result.last_good) == ("1.3.0", "1.2.1")
    tried = {t.version: t for t in result.trials}
    assert tried["2.0.0"].verdict == "slower" and tried["2.0.0"].ratio == pytest.approx(
        0.8, abs=0.02
    )
    assert all(t.verdict == ("slower" if Version(t.version) >= Version("1.3.0") else "same")
               for t in result.trials)  # fmt: skip
    assert len(result.trials) <= 4  # BAD, then log2(6) halvings
    assert len(set(built)) == len(built)  # each environment made once
    # ABBA: every comparison alternates the sides, round after round (4 by default).
    good, bad = "env-1.0.0", "env-2.0.0"
    assert measured[:8] == [good, bad, bad, good, good, bad, bad, good]
    lines = table_lines(result, 0.05)
    assert "first slower release: 1.3.0" in lines[-1]
    assert [line.split()[0] for line in lines[2:-1]] == sorted(tried, key=Version)


def test_no_slowdown_means_nothing_to_bisect():
    build, measure, _, _ = _bench(None)
    result = bisect("fakepkg", ["1.0.0", "1.1.0", "1.2.0"], measure, build, log=str)
    assert result.first_bad is None and [t.verdict for t in result.trials] == ["same"]
    assert "nothing to bisect" in table_lines(result, 0.05)[-1]


def test_slowdown_below_threshold_is_not_a_regression():
    build, measure, _, _ = _bench("1.1.0", factor=0.97)
    result = bisect("fakepkg", ["1.0.0", "1.1.0", "1.2.0"], measure, build, threshold=0.05, log=str)
    assert result.first_bad is None


def test_noisy_slowdown_is_unclear_not_slower():
    build, measure, _, _ = _bench("1.1.0", factor=0.9, noise=0.3)
    result = bisect("fakepkg", ["1.0.0", "1.1.0"], measure, build, rounds=2, log=str)
    assert [t.verdict for t in result.trials] in (["unclear"], ["same"])
    assert result.first_bad is None


def test_processes_not_windows_are_the_samples():
    # No change at all, but each process lands 20% off at random (a loaded machine) while
    # its windows agree within 1%: a test over pooled windows finds "slower" releases in
    # that luck; the paired test over rounds must not.
    for seed_shift in range(3):
        build, measure, _, _ = _bench(None, noise=0.01, between=0.2)
        for _ in range(seed_shift):
            measure("env-1.0.0")  # other draws of the process levels
        result = bisect("fakepkg", ["1.0.0", "1.1.0"], measure, build, log=str)
        assert result.first_bad is None, result.trials
        (trial,) = result.trials
        assert len(trial.rounds) == 4 and trial.p > 0.05


def test_consistent_slowdown_is_slower_with_its_per_round_ratios():
    build, measure, _, _ = _bench("1.1.0", factor=0.8, between=0.02)
    result = bisect("fakepkg", ["1.0.0", "1.1.0"], measure, build, log=str)
    (trial,) = result.trials
    assert trial.verdict == "slower" and trial.ci[1] < 0.95
    assert all(0.7 < r < 0.9 for r in trial.rounds)
    assert table_lines(result, 0.05)[2].endswith(" ".join(f"{r:.3f}" for r in trial.rounds))


def test_paired_test_needs_two_rounds():
    with pytest.raises(EnvError, match="2 rounds or more"):
        paired_test([0.8])
    assert paired_test([0.8, 0.8]) == (0.8, (0.8, 0.8), 0.0)
    assert paired_test([1.0, 1.0])[2] == 1.0


def test_bisect_builds_real_environments_from_the_index(index, tmp_path):
    """End to end: env_builder makes a venv per release; measure asks each which it holds."""
    reason = venv_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path / "home"
    build = env_builder("fakepkg", index=index, root=root, worker_deps=False, log=str)

    def measure(env: str) -> list[float]:
        python = get(env, root).python
        code = "import fakepkg; print(fakepkg.__version__)"
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        slow = Version(out.stdout.strip()) >= Version("1.1.0")
        return [700.0 + i if slow else 1000.0 + i for i in range(6)]

    result = bisect("fakepkg", ["1.0.0", "1.1.0"], measure, build, log=str)
    assert result.first_bad == "1.1.0"
    assert [t.env for t in result.trials] == ["bisect-fakepkg-1.1.0"]
    assert get("bisect-fakepkg-1.0.0", root).versions["fakepkg"] == "1.0.0"
