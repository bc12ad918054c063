"""Bisect across releases: the first release of a package that made a configuration slower.

``kerasbench bisect keras 3.8.0 3.11.0 --model mnist_mlp --backend jax`` lists the
releases between GOOD and BAD from the package index (``pip index versions``), makes an
environment per release it needs (``named.create``), and measures each against GOOD in
ABBA rounds (GOOD, NEW, NEW, GOOD, ...) so that the machine's drift over minutes falls
on both sides alike. It first checks that BAD really is slower than GOOD, then halves
the range: a release is "slower" when its throughput ratio to GOOD is below
1 - threshold with p < alpha - a release that is beyond the threshold but not
significant is "unclear" and counts as not slower, so the search stays on the side of
the evidence. The result is the table of every release tried and the first slower one.

The test is paired over rounds, as ``compare`` does for interleaved runs: each round
gives one ratio (NEW's median throughput over GOOD's, from the two processes that ran
next to each other), and the verdict is a one-sample t-test on the log ratios with its
95% t interval. Each process is one sample, not each window: two processes of one
point differ by several % (tens of % on a loaded machine) while windows within one
agree, so a test over pooled windows calls that luck significant (a first real run
found keras 3.15.1 "0.52x slower than 3.10.0, p=0.049" from one unlucky process).

The measuring is a callback, ``measure(env_name) -> throughput samples``: the lead's
runner runs the configuration in that environment and returns its per-window (or
per-process) throughputs; tests inject a slowdown.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from kerasbench.envs.named import EnvError, Index, create, run_checked

Measure = Callable[[str], Sequence[float]]
Build = Callable[[str], str]  # version -> environment name
ALPHA = 0.05
ROUNDS = 4  # ABBA BAAB ...: an even count balances the positions; a t-test needs 2+


def _version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise EnvError(f"{what} {text!r} is not a version") from None


def parse_index_versions(output: str) -> list[str]:
    """The versions in ``pip index versions`` output ("Available versions: 1.2, 1.1, ...")."""
    match = re.search(r"^Available versions:\s*(.*)$", output, re.MULTILINE)
    if match is None:
        raise EnvError("pip index versions printed no 'Available versions:' line")
    return [v.strip() for v in match.group(1).split(",") if v.strip()]


def released_versions(
    package: str,
    good: str,
    bad: str,
    index: Index | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The releases of ``package`` from GOOD to BAD inclusive, oldest first.

    Pre-releases are listed only when GOOD or BAD is one. Both ends must be releases
    the index has (for ``python``'s platform: what pip could install there).
    """
    lo, hi = _version(good, "GOOD"), _version(bad, "BAD")
    if not lo < hi:
        raise EnvError(f"GOOD {good} must be older than BAD {bad}")
    pre = lo.is_prerelease or hi.is_prerelease
    cmd = [python, "-m", "pip", "index", "versions", package, "--disable-pip-version-check"]
    cmd += (index or Index()).pip_args() + (["--pre"] if pre else [])
    found = sorted(
        {Version(v) for v in parse_index_versions(run_checked(cmd, "pip index versions"))}
    )
    for end, name in ((lo, "GOOD"), (hi, "BAD")):
        if end not in found:
            raise EnvError(f"{name} {end}: not a release of {package} on this index")
    return [str(v) for v in found if lo <= v <= hi]


@dataclass(frozen=True)
class Trial:
    """One release measured against GOOD: NEW/GOOD throughput ratio, its CI, p, verdict."""

    version: str
    env: str
    ratio: float  # the median of the per-round ratios
    ci: tuple[float, float]
    p: float
    verdict: str  # "slower", "unclear" (beyond the threshold, not significant), "same"
    rounds: tuple[float, ...] = ()  # each round's NEW/GOOD throughput ratio


@dataclass(frozen=True)
class Bisection:
    """What a bisection tried and found (``first_bad`` None: BAD was not slower)."""

    package: str
    versions: tuple[str, ...]
    trials: tuple[Trial, ...]
    first_bad: str | None
    last_good: str | None


def paired_test(ratios: Sequence[float]) -> tuple[float, tuple[float, float], float]:
    """(median ratio, 95% t interval, p) of per-round ratios: a t-test on their logs."""
    from scipy import stats

    if len(ratios) < 2:
        raise EnvError(f"a paired test needs 2 rounds or more, not {len(ratios)}")
    logs = [math.log(r) for r in ratios]
    mean, sd = statistics.fmean(logs), statistics.stdev(logs)
    if sd < 1e-12:  # identical ratios: certain, unless there is no change at all
        return ratios[0], (ratios[0], ratios[0]), 1.0 if mean == 0 else 0.0
    half = float(stats.t.ppf(0.975, len(logs) - 1)) * sd / math.sqrt(len(logs))
    p = float(stats.ttest_1samp(logs, 0.0).pvalue)
    return statistics.median(ratios), (math.exp(mean - half), math.exp(mean + half)), p


def compare(
    good_env: str, new_env: str, measure: Measure, rounds: int, threshold: float, alpha: float
) -> tuple[float, tuple[float, float], float, str, tuple[float, ...]]:
    """Measure NEW against GOOD in ABBA rounds; (ratio, CI, p, verdict, per-round ratios)."""
    ratios = []
    for r in range(rounds):
        order = (good_env, new_env) if r % 2 == 0 else (new_env, good_env)
        speed = {}
        for env in order:  # ABBA: GOOD NEW | NEW GOOD | GOOD NEW ...
            samples = measure(env)
            if not samples:
                raise EnvError(f"measuring {env} gave no samples")
            speed[env] = statistics.median(samples)
        ratios.append(speed[new_env] / speed[good_env])
    ratio, (low, high), p = paired_test(ratios)
    if ratio < 1 - threshold:
        verdict = "slower" if p < alpha and high < 1 else "unclear"
    else:
        verdict = "same"
    return ratio, (low, high), p, verdict, tuple(ratios)


def bisect(
    package: str,
    versions: Sequence[str],
    measure: Measure,
    build: Build,
    threshold: float = 0.05,
    rounds: int = ROUNDS,
    alpha: float = ALPHA,
    log: Callable[[str], None] = print,
) -> Bisection:
    """Find the first of ``versions`` (oldest first; [0] GOOD, [-1] BAD) slower than GOOD."""
    if len(versions) < 2:
        raise EnvError("bisect needs GOOD and BAD (two versions at least)")
    envs = {versions[0]: build(versions[0])}
    trials: list[Trial] = []

    def tried(i: int) -> Trial:
        version = versions[i]
        envs.setdefault(version, build(version))
        ratio, ci, p, verdict, per_round = compare(
            envs[versions[0]], envs[version], measure, rounds, threshold, alpha
        )
        trial = Trial(version, envs[version], ratio, ci, p, verdict, per_round)
        log(f"{package} {version}: {ratio:.3f} x {versions[0]} (p={p:.3g}) {verdict}")
        trials.append(trial)
        return trial

    lo, hi = 0, len(versions) - 1
    if tried(hi).verdict != "slower":
        return Bisection(package, tuple(versions), tuple(trials), None, None)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tried(mid).verdict == "slower":
            hi = mid
        else:
            lo = mid
    return Bisection(package, tuple(versions), tuple(trials), versions[hi], versions[lo])


def env_builder(
    package: str,
    extra_specs: Sequence[str] = (),
    index: Index | None = None,
    python: str | None = None,
    log: Callable[[str], None] = print,
    **create_kw: object,
) -> Build:
    """A ``build`` that makes (or reuses) ``bisect-PACKAGE-VERSION`` with PACKAGE==VERSION."""

    def build(version: str) -> str:
        name = f"bisect-{package}-{version}"
        specs = [f"{package}=={version}", *extra_specs]
        create(name, specs, python=python, index=index, log=log, **create_kw)  # type: ignore[arg-type]
        return name

    return build


def table_lines(result: Bisection, threshold: float) -> list[str]:
    """The table of releases tried, then the verdict, as plain text."""
    lines = [
        f"{result.package}: {len(result.versions)} releases from {result.versions[0]} "
        f"to {result.versions[-1]}; {len(result.trials)} tried against {result.versions[0]}",
        f"  {'version':<14} {'ratio':>7} {'95% CI':>17} {'p':>8}  {'verdict':<8} per round",
    ]
    for t in sorted(result.trials, key=lambda t: Version(t.version)):
        ci = f"{t.ci[0]:.3f}..{t.ci[1]:.3f}"
        per_round = " ".join(f"{r:.3f}" for r in t.rounds)
        lines.append(
            f"  {t.version:<14} {t.ratio:>7.3f} {ci:>17} {t.p:>8.3g}  {t.verdict:<8} {per_round}"
        )
    if result.first_bad is None:
        lines.append(
            f"  {result.versions[-1]} is not significantly more than {threshold:.0%} slower "
            f"than {result.versions[0]}: nothing to bisect"
        )
    else:
        lines.append(
            f"  first slower release: {result.first_bad} (last good: {result.last_good}; "
            f"threshold {threshold:.0%})"
        )
    return lines
