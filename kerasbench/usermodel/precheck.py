"""The checks of a user's model that run when a run is planned, before any worker starts.

First without running anything: a ``.keras`` file is read as a zip (``load.read_config``,
``load.unsafe_reason``), a Python builder and a custom-objects file are parsed with
``ast``. Then, when those pass, what only running the code can tell (a function that
returns something other than a Model, an input shape left unknown) is found by building
the model once in a child process (``buildcheck.check_builds``); an unsafe file never gets there.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import Any

from kerasbench.usermodel import UserModelError, parse_input_shapes, parse_model_args
from kerasbench.usermodel.function import split_ref
from kerasbench.usermodel.load import read_config, unsafe_reason


def check_model(
    path: str,
    trust_code: bool = False,
    custom_objects: str = "",
    model_args: str = "",
    input_shapes: str = "",
    build: bool = True,
) -> None:
    """Raise ``UserModelError`` (one line) for what is wrong with the model; ``build``: also
    build it once in a child process (``buildcheck.check_builds``), after the static checks."""
    args = parse_model_args(split_list(model_args))
    parse_input_shapes(split_list(input_shapes))
    custom = _defined_names(Path(custom_objects), "--custom-objects") if custom_objects else {}
    if path.endswith(".keras") or ":" not in path:
        if args:
            raise UserModelError(f"--model-args: {path} is a saved model; it takes no arguments")
        problem = unsafe_reason(read_config(Path(path)), custom)
        if problem and not trust_code:
            raise UserModelError(f"--model-path {path}: {problem}")
    else:
        _check_function(path, args)
    if build:
        _probe(path, trust_code, custom_objects, model_args, input_shapes)


def _probe(*key: Any) -> None:
    from kerasbench.usermodel.buildcheck import check_builds

    note = check_builds(*key)
    if note:  # no verdict: the run goes ahead and its workers report
        print(f"kerasbench: note: {note}", file=sys.stderr)


def _check_function(path: str, args: dict[str, object]) -> None:
    target, func = split_ref(path)
    source = Path(target) if target.endswith(".py") else _module_file(target, path)
    params = _defined_names(source, f"--model-path {path!r}").get(func)
    if params is None:
        raise UserModelError(f"--model-path {path!r}: {target} has no function {func!r}")
    if "**" not in params:
        for key in args:
            if key not in params:
                takes = ", ".join(params) or "no arguments"
                raise UserModelError(f"--model-arg {key}: {path} does not take it (takes: {takes})")


def split_list(text: str) -> list[str]:
    """``"a=1,b=2"`` -> ``["a=1", "b=2"]`` (the Spec keeps these lists as one string)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def absolute(path: str) -> str:
    """``path`` (a file, or ``FILE.py:FUNCTION``) made absolute; a module reference as it is."""
    if not path:
        return path
    target, sep, func = path.rpartition(":")
    if sep and target.endswith(".py"):
        return f"{Path(target).resolve()}:{func}"
    if sep and not path.endswith(".keras"):
        return path
    return str(Path(path).resolve())


def _module_file(module: str, ref: str) -> Path:
    try:
        found = importlib.util.find_spec(module)  # imports parent packages only
    except (ImportError, ValueError):
        found = None
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise UserModelError(f"--model-path {ref!r}: no module {module!r}")
    return Path(found.origin)


def _defined_names(file: Path, flag: str) -> dict[str, list[str]]:
    """Top-level functions (their keyword names; ``**`` when they take any) and classes."""
    if not file.is_file():
        raise UserModelError(f"{flag}: no such file {file}")
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    except (SyntaxError, UnicodeDecodeError, ValueError) as error:
        raise UserModelError(f"{flag}: {file} is not valid Python ({error})") from None
    names: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
            names[node.name] = params + (["**"] if a.kwarg else [])
        elif isinstance(node, ast.ClassDef):
            names[node.name] = []
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CUSTOM_OBJECTS" for t in node.targets
        ):
            if isinstance(node.value, ast.Dict):
                for key in node.value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        names[key.value] = []
    return names
