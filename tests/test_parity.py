"""parity: the same weights and batches give the same losses on every installed backend."""

from __future__ import annotations

import pytest

from kerasbench import backends
from kerasbench.orchestrate.agreement import KERAS3, ParityResult

INSTALLED = [b for b in KERAS3 if not backends.missing_packages(b)]


def test_verdict_uses_the_precision_tolerance() -> None:
    close = ParityResult("mnist_mlp", "float32", 1, {"jax": [2.0, 1.9], "torch": [2.0, 1.9001]})
    assert close.max_rel_diff() == pytest.approx(0.0001 / 1.9, rel=1e-3)
    assert close.ok
    apart = ParityResult("mnist_mlp", "float32", 1, {"jax": [2.0, 1.9], "torch": [2.0, 1.91]})
    assert not apart.ok
    assert ParityResult("mnist_mlp", "mixed_bfloat16", 1, apart.losses).ok
    failed = ParityResult("mnist_mlp", "float32", 1, {"jax": [2.0, 1.9]}, {"torch": "boom"})
    assert not failed.ok


@pytest.mark.skipif(len(INSTALLED) < 2, reason="parity needs two Keras 3 backends installed")
def test_mnist_mlp_agrees_across_installed_backends(kerasbench) -> None:
    proc = kerasbench("parity", "--models", "mnist_mlp", "--steps", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(tolerance 0.0001): ok" in proc.stdout
    for backend in INSTALLED:
        assert backend in proc.stdout


def test_bad_input_exits_2(kerasbench) -> None:
    assert kerasbench("parity", "--models", "nope").returncode == 2
    assert kerasbench("parity", "--models", "mnist_mlp", "--backends", "jax").returncode == 2
