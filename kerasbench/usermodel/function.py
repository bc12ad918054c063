"""Build the user's model with their own function: ``file.py:build`` or ``package.module:build``.

The function is the user's code and runs with their trust, in the worker; we check
what we can before and after calling it, so that mistakes are one-line errors.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kerasbench.usermodel import UserModelError


def split_ref(ref: str) -> tuple[str, str]:
    """``"my_models.py:build"`` -> ``("my_models.py", "build")``; same for ``pkg.mod:build``."""
    target, sep, func = ref.rpartition(":")
    if not sep or not target or not func.isidentifier():
        raise UserModelError(f"--model-path {ref!r}: expected FILE.py:FUNCTION or MODULE:FUNCTION")
    return target, func


def resolve_function(ref: str, base_dir: str | Path | None = None) -> tuple[Callable, Path]:
    """The function ``ref`` names and the source file that defines it.

    A target ending in ``.py`` is a file (relative to ``base_dir``, e.g. the suite's folder);
    anything else is a module imported from ``sys.path``.
    """
    target, func_name = split_ref(ref)
    if target.endswith(".py"):
        module = _import_file(Path(base_dir or ".") / target, ref)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as error:
            raise UserModelError(f"--model-path {ref!r}: no module {error.name!r}") from None
        except Exception as error:
            message = f"--model-path {ref!r}: importing {target} failed: {error!r}"
            raise UserModelError(message) from error
    func = getattr(module, func_name, None)
    if not callable(func):
        raise UserModelError(f"--model-path {ref!r}: {target} has no function {func_name!r}")
    source = Path(inspect.getsourcefile(func) or getattr(module, "__file__", "") or target)
    return func, source


def _import_file(path: Path, ref: str) -> Any:
    return import_user_file(path, f"kerasbench_user_{path.stem}", f"--model-path {ref!r}")


def import_user_file(path: Path, module_name: str, culprit: str) -> Any:
    """Import the user's own Python file (trusted code) as ``module_name``.

    Every failure is a UserModelError that starts with ``culprit`` (the flag and value).
    """
    if not path.is_file():
        raise UserModelError(f"{culprit}: no such file {path}")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserModelError(f"{culprit}: {path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise UserModelError(f"{culprit}: importing {path} failed: {error!r}") from error
    return module


def check_kwargs(func: Callable, kwargs: Mapping[str, Any], ref: str) -> None:
    """Refuse a ``--model-arg`` that ``func`` does not take, listing those it does."""
    params = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    for key in kwargs:
        if key not in accepted:
            takes = ", ".join(accepted) or "no arguments"
            raise UserModelError(f"--model-arg {key}: {ref} does not take it (takes: {takes})")


def from_function(
    ref: str, kwargs: Mapping[str, Any] | None = None, base_dir: str | Path | None = None
) -> Any:
    """The keras.Model that the user's function ``ref`` returns when called with ``kwargs``."""
    kwargs = dict(kwargs or {})
    func, _ = resolve_function(ref, base_dir)
    check_kwargs(func, kwargs, ref)
    model = func(**kwargs)
    import keras

    if not isinstance(model, keras.Model):
        returned = type(model).__name__
        raise UserModelError(f"--model-path {ref!r}: returned {returned}, not a keras.Model")
    return model
