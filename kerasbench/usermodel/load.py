"""Load a user's ``.keras`` file without running code it carries, unless trusted.

A ``.keras`` file is a zip holding ``config.json`` (the architecture), ``metadata.json``
and the weights. Its config can carry Python bytecode (a ``Lambda`` layer's function)
or name classes that are not part of Keras (custom objects). Keras' own ``safe_mode``
refuses the bytecode with a long message; we read the config first so that the refusal
is one line naming the layer, and so that nothing is deserialized before we decide.
"""

from __future__ import annotations

import inspect
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kerasbench.usermodel import UserModelError

# Packages whose classes Keras itself imports when deserializing (keras/saving/serialization_lib).
_KERAS_PACKAGES = ("keras", "keras_hub", "keras_cv", "keras_nlp", "builtins")


def load_model(
    path: str | Path, trust_code: bool = False, custom_objects_file: str | Path | None = None
) -> Any:
    """The keras.Model in the ``.keras`` file ``path``, compiled if it was saved compiled.

    Raises UserModelError (one line) for a missing file, a file that is not a zip, a zip
    that is not a Keras model, a model whose loading would run code without
    ``trust_code``, a custom class with no ``custom_objects_file``, or a load failure.
    """
    path = Path(path)
    config = read_config(path)
    custom = import_custom_objects(custom_objects_file) if custom_objects_file else {}
    problem = unsafe_reason(config, custom)
    if problem and not trust_code:
        raise UserModelError(f"--model-path {path}: {problem}")
    import keras

    try:
        return keras.saving.load_model(path, custom_objects=custom, safe_mode=not trust_code)
    except Exception as error:  # Keras raises many types; the user needs the first line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserModelError(f"--model-path {path}: Keras could not load it: {first}") from error


def read_config(path: Path) -> dict[str, Any]:
    """The architecture (``config.json``) of the ``.keras`` file ``path``; nothing deserialized."""
    if not path.is_file():
        raise UserModelError(f"--model-path {path}: no such file")
    if not zipfile.is_zipfile(path):
        raise UserModelError(f"--model-path {path}: not a zip file (a .keras model is a zip)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if not {"config.json", "metadata.json"} <= names:
            raise UserModelError(
                f"--model-path {path}: a zip but not a Keras model "
                "(no config.json and metadata.json)"
            )
        try:
            config = json.loads(archive.read("config.json"))
        except ValueError as error:
            message = f"--model-path {path}: config.json is not JSON ({error})"
            raise UserModelError(message) from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise UserModelError(f"--model-path {path}: config.json does not describe a Keras object")
    return config


def unsafe_reason(config: dict[str, Any], custom: dict[str, Any]) -> str | None:
    """Why loading ``config`` would run code not in Keras, naming the layer; None if none."""
    for layer, node in _walk(config, layer=config.get("config", {}).get("name", "?")):
        if node.get("class_name") == "__lambda__":
            return (
                f"layer {layer!r} holds Python bytecode (a Lambda function) that loading would "
                "run; pass --trust-model-code only if you trust this file"
            )
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] not in _KERAS_PACKAGES:
            name = node.get("registered_name") or node.get("class_name")
            if name not in custom and node.get("class_name") not in custom:
                return (
                    f"layer {layer!r} uses {name!r} from {module!r}, which is not part of Keras; "
                    "give its code with --custom-objects FILE.py"
                )
    return None


def _walk(node: Any, layer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict in a Keras config, with the name of the layer it belongs to."""
    if isinstance(node, dict):
        inner = node.get("config")
        if "class_name" in node and isinstance(inner, dict) and isinstance(inner.get("name"), str):
            layer = inner["name"]
        yield layer, node
        for value in node.values():
            yield from _walk(value, layer)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, layer)


def import_custom_objects(file: str | Path) -> dict[str, Any]:
    """The classes and functions defined in the Python file ``file`` (the user's trusted code).

    A module-level ``CUSTOM_OBJECTS`` dict, when present, is used as it is.
    """
    from kerasbench.usermodel.function import import_user_file

    file = Path(file)
    name = f"kerasbench_custom_objects_{file.stem}"
    module = import_user_file(file, name, f"--custom-objects {file}")
    explicit = getattr(module, "CUSTOM_OBJECTS", None)
    if isinstance(explicit, dict):
        return dict(explicit)
    return {
        key: value
        for key, value in vars(module).items()
        if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == name
    }
