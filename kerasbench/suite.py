"""Suites: named lists of matrix blocks that expand to benchmark points (Specs).

A suite file is TOML: an optional ``description``, a ``[defaults]`` table and
one or more ``[[matrix]]`` tables. Every key is a Spec field; a list value is an
axis, and each matrix block expands to the product of its axes::

    [defaults]
    steps = 20

    [[matrix]]
    model = ["mnist_mlp", "cifar10_cnn"]
    mode = ["fit", "train_on_batch", "predict"]

Command-line flags override the same keys in every block. Every key and value is
validated when the suite is read, so a typo fails before anything runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kerasbench.backends import BACKENDS
from kerasbench.spec import REQUIRED_CHOICES, SPEC_KEYS, Spec, SpecError, check_choice

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SUITES_DIR = Path(__file__).parent / "suites"

# A matrix bigger than this is a typo (or a denial of service), not a benchmark plan.
MAX_POINTS = 100_000
MAX_SUITE_BYTES = 1 << 20


@dataclass(frozen=True)
class Suite:
    """A named list of matrix blocks (each a mapping of Spec keys to values or lists)."""

    name: str
    description: str
    blocks: tuple[dict[str, Any], ...]  # each already merged with the defaults
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)

    def select(self, key: str, wanted: list[Any]) -> Suite:
        """Keep only ``wanted`` values of a selection axis (``model`` or ``mode``).

        Every wanted combination is kept: a wanted model runs on the settings of
        the blocks that hold it, or on the suite's defaults when none does; each
        model of the suite runs every wanted mode, on the settings of its blocks
        that hold that mode, else of its first block. Points that cannot run are
        planned anyway and skipped with the rule book's reason, never dropped.
        """
        for value in wanted:
            check_choice(key, value, REQUIRED_CHOICES[key])
        if key == "model":
            blocks = []
            for model in wanted:
                own = [{**b, "model": [model]} for b in self.blocks if model in _held(b, "model")]
                blocks += own or [{**self.defaults, "model": [model]}]
            return dataclasses.replace(self, blocks=tuple(blocks))
        models = list(dict.fromkeys(m for b in self.blocks for m in _held(b, "model")))
        blocks = []
        for model in models:
            own = [{**b, "model": [model]} for b in self.blocks if model in _held(b, "model")]
            for mode in wanted:
                with_mode = [b for b in own if mode in _held(b, "mode")]
                blocks += [{**b, "mode": [mode]} for b in with_mode or own[:1]]
        return dataclasses.replace(self, blocks=tuple(blocks))

    def expand(
        self, overrides: Mapping[str, Any] | None = None, default_backends: Iterable[str] = ()
    ) -> list[Spec]:
        """All points of the suite, in file order, with ``overrides`` applied to each block.

        ``default_backends`` fills ``backend`` where neither the block nor the
        overrides name one (the CLI passes the installed backends).
        """
        overrides = dict(overrides or {})
        specs: list[Spec] = []
        seen: set[Spec] = set()
        for index, block in enumerate(self.blocks):
            merged = {**block, **overrides}
            if "backend" not in merged:
                merged["backend"] = list(default_backends)
            where = f"{self.name}: matrix block {index + 1}"
            axes = {k: v if isinstance(v, list) else [v] for k, v in merged.items()}
            for key, values in axes.items():
                if key not in SPEC_KEYS:
                    raise SpecError(
                        f"{where}: unknown key {key!r}; valid: {', '.join(sorted(SPEC_KEYS))}"
                    )
                if not values:
                    raise SpecError(f"{where}: {key} is an empty list")
            if math.prod(len(v) for v in axes.values()) + len(specs) > MAX_POINTS:
                raise SpecError(f"{where}: the matrix has more than {MAX_POINTS} points")
            keys = list(axes)
            for combo in itertools.product(*(axes[k] for k in keys)):
                spec = Spec.from_dict(dict(zip(keys, combo, strict=True)), where)
                if spec not in seen:
                    seen.add(spec)
                    specs.append(spec)
        # Repeats become points too: count them before anything expands them.
        if sum(s.repeats for s in specs) > MAX_POINTS:
            raise SpecError(f"{self.name}: with repeats the plan has more than {MAX_POINTS} points")
        return specs


def _held(block: Mapping[str, Any], key: str) -> list[Any]:
    """The values a matrix block holds for ``key`` (its default when absent), as a list."""
    value = block.get(key, Spec.__dataclass_fields__[key].default)
    return value if isinstance(value, list) else [value]


def _check_table(where: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a table, got {type(value).__name__}")
    return value


def _rebase(block: dict[str, Any], base: Path) -> dict[str, Any]:
    """A block whose user-model files are relative to the suite file's folder ``base``."""
    block = dict(block)
    for key in ("model_path", "custom_objects"):
        value = block.get(key)
        values = value if isinstance(value, list) else [value]
        if value and all(isinstance(v, str) for v in values):
            rebased = [_rebased_path(v, base) for v in values]
            block[key] = rebased if isinstance(value, list) else rebased[0]
    return block


def _rebased_path(value: str, base: Path) -> str:
    """``m.keras`` or ``lib.py:fn`` under ``base``; a module reference stays as it is."""
    if not value:
        return value
    target, sep, func = value.rpartition(":")
    if sep and target.endswith(".py"):
        return f"{base / target}:{func}" if not Path(target).is_absolute() else value
    if sep and not value.endswith(".keras"):
        return value  # package.module:function, imported from sys.path
    return value if Path(value).is_absolute() else str(base / value)


def parse_suite(text: str, name: str, base_dir: Path | None = None) -> Suite:
    """Parse suite TOML; ``name`` (the file) prefixes every error; user-model paths are
    relative to ``base_dir`` (the suite file's folder) when given."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{name}: malformed TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{name}: malformed TOML: nested too deeply") from None
    allowed = {"description", "defaults", "matrix"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(
            f"{name}: unknown top-level key {unknown[0]!r}; valid: {', '.join(sorted(allowed))}"
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{name}: description must be a string")
    defaults = _check_table(f"{name}: defaults", data.get("defaults", {}))
    matrix = data.get("matrix", [{}])
    if not isinstance(matrix, list) or not matrix:
        raise SpecError(f"{name}: matrix must be a non-empty array of tables ([[matrix]])")
    blocks = tuple(
        {**defaults, **_check_table(f"{name}: matrix block {i + 1}", b)}
        for i, b in enumerate(matrix)
    )
    if base_dir is not None:
        blocks = tuple(_rebase(b, base_dir) for b in blocks)
    suite = Suite(name=name, description=description, blocks=blocks, defaults=defaults)
    # Validate every key and value now, with a placeholder backend where none is named,
    # so that a typo fails before anything runs.
    suite.expand(default_backends=[next(iter(BACKENDS))])
    return suite


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a suite file by path.

    An argument is a path only if it looks like one (a ``.toml`` suffix or a
    ``/``): a stray file called ``quick`` in the current folder never replaces
    the built-in suite of that name.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or "/" in name_or_path or os.sep in name_or_path:
        try:
            # Only a regular file of sane size: never a device, a FIFO or a huge log.
            regular = path.is_file()
            size = path.stat().st_size if regular else 0
            text = path.read_text(encoding="utf-8") if regular and size <= MAX_SUITE_BYTES else ""
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SpecError(f"{name_or_path}: cannot read suite file: {exc}") from None
        if not regular:
            raise SpecError(f"{name_or_path}: no such suite file")
        if size > MAX_SUITE_BYTES:
            raise SpecError(f"{name_or_path}: larger than {MAX_SUITE_BYTES} bytes; not a suite")
        return parse_suite(text, str(path), path.resolve().parent)
    if name_or_path not in suite_names():
        raise SpecError(
            f"unknown suite {name_or_path!r}; valid: {', '.join(suite_names())} or a .toml path"
        )
    builtin = SUITES_DIR / f"{name_or_path}.toml"
    return parse_suite(builtin.read_text(encoding="utf-8"), name_or_path, SUITES_DIR)
