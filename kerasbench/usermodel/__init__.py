"""The user's own model: a ``.keras`` file or a Python function that builds one.

Everything here runs inside a backend's worker process (it imports Keras), except
``parse_model_args``, ``parse_input_shapes`` and ``UserModelError``, which the
command line uses to reject bad input before any worker starts.

- ``load.load_model`` loads a ``.keras`` file safely (code only with ``trust_code``).
- ``function.from_function`` builds one with the user's ``module:function``.
- ``signature`` synthesises seeded inputs and targets from the model's own signature.
- ``training.compile_for_training`` picks the saved or given loss and optimizer.
- ``identity`` says which model ran: its sha256, parameter count and input signature.
- ``precheck`` and ``buildcheck`` run at planning time: static checks, then one build
  in a child process, so that bad input is one line and exit 2 before any worker.
"""

from __future__ import annotations


class UserModelError(ValueError):
    """Bad user-model input: its message is one line naming the culprit (exit 2)."""


def parse_model_args(pairs: list[str]) -> dict[str, object]:
    """``["depth=3", "rate=0.1", "bias=true", "act=relu"]`` -> keyword arguments.

    Values are parsed as int, then float, then bool (true/false), else kept as str.
    """
    kwargs: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UserModelError(f"--model-arg {pair!r}: expected key=value with a Python name")
        kwargs[key.strip()] = _parse_value(text.strip())
    return kwargs


def _parse_value(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_input_shapes(pairs: list[str]) -> dict[str, tuple[int, ...]]:
    """``["image=32x32x3", "tokens=128"]`` -> ``{"image": (32, 32, 3), "tokens": (128,)}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        dims = text.lower().split("x") if sep else []
        if not name or not dims or not all(d.isdigit() and int(d) > 0 for d in dims):
            raise UserModelError(
                f"--input-shapes {pair!r}: expected name=DIMxDIM... with positive integers"
            )
        shapes[name] = tuple(int(d) for d in dims)
    return shapes
