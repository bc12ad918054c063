"""The README's layout section names every module and package under kerasbench/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kerasbench"


def layout_section() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    return readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_every_top_level_module_and_package_is_in_the_layout() -> None:
    section = layout_section()
    missing = []
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith(("_", ".")) and path.name != "__main__.py":
            continue
        if path.suffix == ".py" and f"{path.name} " not in section:
            missing.append(path.name)
        if path.is_dir() and not path.name.startswith("_") and f"{path.name}/" not in section:
            missing.append(f"{path.name}/")
    assert not missing, f"README layout lacks: {', '.join(missing)}"


def test_every_module_of_a_package_is_named_in_the_layout() -> None:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", layout_section()))
    missing = [
        f"{pkg.name}/{mod.name}"
        for pkg in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
        if pkg.name != "models"  # one file per model: the section says how they are found
        for mod in sorted(pkg.glob("*.py"))
        if not mod.name.startswith("_") and mod.stem not in words
    ]
    assert not missing, f"README layout lacks: {', '.join(missing)}"


def test_no_two_modules_share_a_name_across_packages() -> None:
    """A name means one thing: worker/parity and a top-level parity would be two."""
    seen: dict[str, Path] = {}
    clashes = []
    for mod in sorted(PACKAGE.rglob("*.py")):
        if mod.name.startswith("_") or mod.parent.name in ("models", "commands"):
            continue  # commands/ is named after the subcommands it implements
        if mod.stem in seen:
            clashes.append(f"{seen[mod.stem].relative_to(PACKAGE)} vs {mod.relative_to(PACKAGE)}")
        seen[mod.stem] = mod
    assert not clashes, f"module names that collide: {'; '.join(clashes)}"
