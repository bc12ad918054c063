"""gpu_check's output: the table of checks as text, Markdown and JSON, and the closing summary."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpu_check.checks import FAIL, OK, Check

COLUMNS = ("check", "backend", "precision", "figure", "verdict")


def _cells(check: Check) -> tuple[str, ...]:
    return (check.name, check.backend, check.precision, check.figure, check.verdict)


def text(checks: Sequence[Check]) -> str:
    """A fixed-width table, one row per check; failures' reasons below it."""
    rows = [COLUMNS, *(_cells(c) for c in checks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {c.verdict} {c.name} [{c.backend}]: {c.detail}" for c in checks if c.detail]
    return "\n".join(lines + ([""] + notes if notes else []))


def markdown(checks: Sequence[Check]) -> str:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(COLUMNS), row(["---"] * len(COLUMNS))]
    lines += [row(_cells(c)) for c in checks]
    notes = [f"- **{c.verdict}** {c.name} [{c.backend}]: {c.detail}" for c in checks if c.detail]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def summary(checks: Sequence[Check], phases: Sequence[tuple[str, float]], wall_s: float) -> str:
    """Counts by verdict, the failures, and where the time went."""
    counts = Counter("n/a" if c.verdict.startswith("n/a") else c.verdict for c in checks)
    order = [OK, FAIL, "n/a"] + sorted(set(counts) - {OK, FAIL, "n/a"})
    tally = ", ".join(f"{counts[v]} {v}" for v in order if counts[v])
    lines = [f"{len(checks)} checks: {tally}. Wall time {wall_s:.0f} s."]
    lines.append("Phases: " + ", ".join(f"{name} {s:.0f} s" for name, s in phases))
    failed = [c for c in checks if c.failed]
    if failed:
        names = [f"{c.name} [{c.backend} {c.precision}]" for c in failed]
        lines.append("FAILED: " + "; ".join(names))
    else:
        lines.append("No check failed.")
    return "\n".join(lines)


def write(out: Path, checks: Sequence[Check], meta: dict[str, Any]) -> list[Path]:
    """checks.json (rows with their numbers, and the run's settings) and checks.md."""
    out.mkdir(parents=True, exist_ok=True)
    data = {**meta, "checks": [dataclasses.asdict(c) for c in checks]}
    paths = [out / "checks.json", out / "checks.md"]
    paths[0].write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    paths[1].write_text(markdown(checks), encoding="utf-8")
    return paths
