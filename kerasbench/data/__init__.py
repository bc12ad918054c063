"""Input data for the workers: synthetic arrays, real datasets, and the loaders that feed them.

This module imports nothing heavy: the command line uses it to check paths
before any worker starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kerasbench.spec import Spec

# The model input each real dataset makes (ModelInfo.input_kind).
DATASET_INPUT_KINDS = {"cifar10": "image", "imagefolder": "image", "text": "tokens"}


def resolve_data_paths(specs: Iterable[Spec]) -> list[Spec]:
    """``specs`` with every real dataset's path made absolute (workers run elsewhere).

    Raises SpecError for the first real dataset without a path, whose path does
    not exist, or that does not fit its model's input.
    """
    from kerasbench.models import get_model
    from kerasbench.spec import SpecError

    resolved = []
    for spec in specs:
        if spec.dataset != "synthetic":
            if not spec.data_path:
                raise SpecError(f"data_path: dataset {spec.dataset!r} needs --data-path")
            wanted = DATASET_INPUT_KINDS[spec.dataset]
            kind = get_model(spec.model).input_kind
            if kind != wanted:
                raise SpecError(
                    f"dataset: {spec.dataset!r} feeds {wanted} models; "
                    f"model {spec.model!r} takes {kind} inputs"
                )
            try:
                path = Path(spec.data_path).expanduser()
            except RuntimeError:  # ~name of a user this system does not have
                raise SpecError(f"data_path: {spec.data_path}: no such user's home") from None
            if not path.exists():
                raise SpecError(f"data_path: {spec.data_path}: no such file or folder")
            spec = dataclasses.replace(spec, data_path=str(path.resolve()))
        resolved.append(spec)
    return resolved
