"""Datasets and input pipelines without a framework: CIFAR-10, ImageFolder, pickle safety."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    cifar_arrays,
    cifar_py2_pickle,
    write_cifar_bin,
    write_cifar_py,
    write_imagefolder,
)

from kerasbench import feasibility
from kerasbench.data import cifar10, imagefolder, resolve_data_paths
from kerasbench.data.cifar10 import DataError
from kerasbench.data.pipeline import open_feed
from kerasbench.data.sources import open_source
from kerasbench.models import get_model
from kerasbench.spec import Spec, SpecError
from kerasbench.worker.protocol import unsupported_error


def test_python2_fixture_is_the_official_dialect(tmp_path: Path) -> None:
    raw = (write_cifar_py(tmp_path) / "data_batch_1").read_bytes()
    assert raw.startswith(b"\x80\x02}q\x01(U\x04data")
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw and b"_codecs" not in raw
    # The plain unpickler (which may run code) agrees with ours on what the file holds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = pickle.loads(raw, encoding="bytes")
    data, labels = cifar_arrays(20, seed=1)
    assert np.array_equal(reference[b"data"], data) and reference[b"labels"] == labels


@pytest.mark.parametrize("numpy2", [False, True], ids=["python2", "numpy2"])
def test_cifar_python_format_loads(tmp_path: Path, numpy2: bool) -> None:
    write_cifar_py(tmp_path, batches=2, n=20, numpy2=numpy2)
    data = cifar10.load(tmp_path)  # the parent of cifar-10-batches-py works too
    assert data.format == "python"
    assert data.images.shape == (40, 3, 32, 32) and data.images.dtype == np.uint8
    first, labels = cifar_arrays(20, seed=1)
    assert np.array_equal(data.images[:20].reshape(20, -1), first)
    assert data.labels[:20].tolist() == labels


def test_cifar_binary_format_matches_python_format(tmp_path: Path) -> None:
    write_cifar_py(tmp_path / "a")
    write_cifar_bin(tmp_path / "b")
    py, binary = cifar10.load(tmp_path / "a"), cifar10.load(tmp_path / "b" / "cifar-10-batches-bin")
    assert binary.format == "binary"
    assert np.array_equal(py.images, binary.images) and np.array_equal(py.labels, binary.labels)


def test_cifar_wrong_size_and_content_name_the_file(tmp_path: Path) -> None:
    folder = write_cifar_bin(tmp_path)
    bad = folder / "data_batch_2.bin"
    bad.write_bytes(bad.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"data_batch_2\.bin: .* not a whole number of 3073-byte"):
        cifar10.load(folder)
    folder = write_cifar_py(tmp_path / "py")
    (folder / "data_batch_1").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DataError, match=r"data_batch_1: not a CIFAR-10 python batch"):
        cifar10.load(folder)
    with pytest.raises(DataError, match="no CIFAR-10 batches here"):
        cifar10.load(tmp_path / "nothing")


class _RunsCode:
    """Pickles to a call of ``os.system`` that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (os.system, (f"touch {self.marker}",))


def test_cifar_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = write_cifar_py(tmp_path / "evil")
    data, labels = cifar_arrays(4)
    src = f"open({str(marker)!r}, 'w')".encode()
    payloads = {
        "system": {"data": _RunsCode(marker), "labels": labels},
        "eval": b"\x80\x02cbuiltins\neval\nX" + struct.pack("<I", len(src)) + src + b"\x85R.",
        "codec": cifar_py2_pickle(data, labels).replace(b"numpy\ndtype", b"_codecs\nencode"),
    }
    for name, payload in payloads.items():
        raw = payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=2)
        (folder / "data_batch_1").write_bytes(raw)
        with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
            cifar10.load(folder)
        assert not marker.exists(), name
    # The same "system" file does run code under a plain unpickler: the test is real.
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import pickle; pickle.loads({pickle.dumps(payloads['system'])!r})",
        ],
        check=True,
    )
    assert marker.exists()


def test_imagefolder_modes_become_rgb_and_corrupt_file_is_unreadable(tmp_path: Path) -> None:
    folder = imagefolder.scan(write_imagefolder(tmp_path))
    assert folder.classes == ("cat", "dog")
    names = [p.name for p in folder.files]
    assert "notes.txt" not in names and len(names) == 7
    for path in folder.files:
        if path.name == "truncated.JPEG":
            with pytest.raises(imagefolder.UnreadableImage, match="truncated.JPEG"):
                imagefolder.decode(path, "resize_crop", 32)
            continue
        for preprocess, size in (("resize_crop", 32), ("resize256", 40)):
            image = imagefolder.decode(path, preprocess, size)
            assert image.shape == (size, size, 3) and image.dtype == np.uint8, path.name


def test_resize_crop_keeps_aspect_and_centres() -> None:
    assert imagefolder.resize_crop_side(224) == 256
    assert imagefolder.resize_crop_side(299) == 342


def _spec(tmp_path: Path, **kw) -> Spec:
    base = {"model": "cifar10_cnn", "backend": "jax", "batch_size": 2, "steps": 2}
    return Spec(**{**base, **kw}).resolved()


def test_imagefolder_source_counts_skipped_file_and_strict_refuses(tmp_path: Path) -> None:
    root = write_imagefolder(tmp_path / "f")
    spec = _spec(tmp_path, dataset="imagefolder", data_path=str(root), data_format="channels_first")
    opened = open_source(get_model("cifar10_cnn"), spec, samples_needed=100)
    assert opened.skipped_files == 1 and len(opened.order) == 6
    assert opened.notes["skipped_file_names"][0].endswith("truncated.JPEG")
    x, y = opened.source.batch(opened.order[:3])
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    strict = _spec(tmp_path, dataset="imagefolder", data_path=str(root), strict=True)
    with pytest.raises(imagefolder.UnreadableImage, match="truncated.JPEG"):
        open_source(get_model("cifar10_cnn"), strict, samples_needed=100)


def test_empty_imagefolder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        imagefolder.scan(tmp_path / "empty")
    (tmp_path / "noimages" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="no image files"):
        imagefolder.scan(tmp_path / "noimages")


def test_cifar_source_resizes_to_the_model_and_arrays_feed_cycles(tmp_path: Path) -> None:
    write_cifar_py(tmp_path)
    spec = _spec(tmp_path, dataset="cifar10", data_path=str(tmp_path), image_size=40)
    opened = open_source(get_model("cifar10_cnn"), spec, samples_needed=8)
    assert "resized to 40x40" in opened.notes["resize"]
    feed = open_feed(opened, spec, "jax", n_batches=5)
    shapes = [(x.shape, y.shape) for x, y in feed.batches()]
    assert shapes == [((2, 40, 40, 3), (2,))] * 5


def test_plan_validates_datasets(tmp_path: Path) -> None:
    def plan(**kw) -> list[Spec]:
        return resolve_data_paths([Spec(**{"model": "cifar10_cnn", "backend": "jax", **kw})])

    with pytest.raises(SpecError, match="needs --data-path"):
        plan(dataset="cifar10")
    with pytest.raises(SpecError, match="feeds image models"):
        plan(model="mnist_mlp", dataset="imagefolder", data_path=str(tmp_path))
    with pytest.raises(SpecError, match="data_path: nope/dir: no such file or folder"):
        plan(dataset="cifar10", data_path="nope/dir")
    with pytest.raises(SpecError, match="input: unknown value 'disk'"):
        Spec(model="mnist_mlp", backend="jax", input="disk")
    (spec,) = plan(dataset="cifar10", data_path=os.path.relpath(tmp_path))
    assert spec.data_path == str(tmp_path.resolve())


def test_cli_names_a_missing_data_path_and_exits_2(kerasbench) -> None:
    proc = kerasbench(
        "run",
        "--models",
        "cifar10_cnn",
        "--dataset",
        "cifar10",
        "--data-path",
        "no/such",
        "--dry-run",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "kerasbench: error: data_path: no/such: no such file or folder"


def test_known_unsupported_combinations_are_skipped_not_run() -> None:
    spec = Spec(model="mnist_mlp", backend="openvino", mode="predict", input="native")
    verdict = feasibility.check(spec, feasibility.Host(0))
    assert verdict.rule == "native-input" and "no native input pipeline" in verdict.reason
    torch_native = Spec(model="mnist_mlp", backend="torch", input="native")
    assert feasibility.check(torch_native, feasibility.Host(0)).runnable
    error = RuntimeError("\"slow_conv2d_cpu\" not implemented for 'Half'")
    assert "not implemented for 'Half'" in (unsupported_error(error) or "")
    assert unsupported_error(ValueError("shapes do not match")) is None


def test_resize256_feeds_the_seeds_256_pixel_images(tmp_path: Path) -> None:
    base = {"model": "resnet50", "backend": "jax", "dataset": "imagefolder", "data_path": "x"}
    assert Spec(**base, preprocess="resize256").resolved().image_size == 256
    assert Spec(**base, preprocess="resize_crop").resolved().image_size == 224
    assert Spec(**base, preprocess="resize256", image_size=224).resolved().image_size == 224


def test_text_file_brings_its_vocabulary(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 20, encoding="utf-8")
    for name in ("lstm_text_tiny",):  # Keras Hub LLMs take synthetic inputs only
        info = get_model(name)
        spec = Spec(model=name, backend="jax", dataset="text", data_path=str(text)).resolved()
        opened = open_source(info, spec, samples_needed=8)
        seq_len = info.input_shape(spec)[0]
        assert opened.info.vocab_size == opened.info.num_classes == 28  # 26 letters, " ", "."
        x, y = opened.source.batch(opened.order[:2])
        assert x.shape == (2, seq_len) and x.dtype == np.int32
        assert y.shape == ((2, seq_len) if info.target == "next_token" else (2,))
        if info.target == "next_token":
            assert np.array_equal(x[:, 1:], y[:, :-1])  # the same text shifted by one
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    bad = Spec(
        model="lstm_text_tiny", backend="jax", dataset="text", data_path=str(tmp_path / "bad.txt")
    )
    with pytest.raises(DataError, match="bad.txt: not UTF-8"):
        open_source(get_model("lstm_text_tiny"), bad.resolved(), samples_needed=8)
