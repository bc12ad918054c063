"""Datasets as sources of model-ready samples: what every input pipeline reads from.

A ``Source`` holds a dataset in its cheapest form (uint8 CIFAR-10 images, the
file names of an ImageFolder, token windows, synthetic arrays) and makes the
model's float32 input on demand, so that the work of decoding, resizing and
converting happens inside the loader being measured. ``open_source`` also
decides which samples a run reads (its ``order``) and records, in ``notes``,
what was done to the data (resizing, skipped files).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerasbench.data import cifar10, imagefolder
from kerasbench.data.cifar10 import DataError
from kerasbench.models import ModelInfo
from kerasbench.spec import Spec

# Distinct image files a run decodes at most; longer runs cycle over them. Each
# is decoded once before timing to find unreadable files, so this bounds set-up time.
MAX_POOL_FILES = 10_000
SKIPPED_NAMES_KEPT = 20
# The text dataset reads at most this much (the classic corpora are 0.6-5 MB).
MAX_TEXT_BYTES = 64 << 20


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def loader_workers(spec: Spec) -> int:
    """Workers of a parallel loader: ``spec.workers``, or one per usable core."""
    return spec.workers or usable_cores()


class Source:
    """Samples ``0 .. len - 1`` of a dataset, each made into the model's input on demand."""

    def __len__(self) -> int:
        raise NotImplementedError

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """One model input (float32 or int32 ids) and its sparse label."""
        raise NotImplementedError

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A stacked batch of samples."""
        pairs = [self.sample(int(i)) for i in indices]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


@dataclass
class ArraySource(Source):
    """Samples already in memory in their final form (synthetic data, text windows)."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x[index], self.y[index]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.x[indices], self.y[indices]


def _to_model_layout(images: np.ndarray, data_format: str) -> np.ndarray:
    """uint8 N x H x W x 3 to float32 in [0, 1], in the model's data format."""
    x = images.astype(np.float32) * np.float32(1 / 255)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if data_format == "channels_first" else x


@dataclass
class CifarSource(Source):
    """CIFAR-10 images kept as uint8; resized (bilinear, Pillow) when the model's size is not 32."""

    images: np.ndarray  # uint8 N x 32 x 32 x 3
    labels: np.ndarray
    size: int
    data_format: str

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.batch(np.asarray([index]))
        return x[0], y[0]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = self.images[indices]
        if self.size != cifar10.SIDE:
            from PIL import Image

            size, bilinear = (self.size, self.size), Image.Resampling.BILINEAR
            resized = [Image.fromarray(image).resize(size, bilinear) for image in images]
            images = np.stack([np.asarray(image) for image in resized])
        return _to_model_layout(images, self.data_format), self.labels[indices]


@dataclass
class FolderSource(Source):
    """ImageFolder files, decoded and preprocessed with Pillow on every read."""

    files: tuple[Path, ...]
    labels: np.ndarray
    preprocess: str
    size: int
    data_format: str

    def __len__(self) -> int:
        return len(self.files)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image = imagefolder.decode(self.files[index], self.preprocess, self.size)
        return _to_model_layout(image[None], self.data_format)[0], self.labels[index]


@dataclass
class Opened:
    """A source, the samples a run reads from it in order, and notes on what was done."""

    source: Source
    order: np.ndarray  # source indices; a run's k-th sample is order[k % len(order)]
    info: ModelInfo  # the model description the data fits (a text file brings its vocabulary)
    notes: dict[str, Any] = field(default_factory=dict)
    skipped_files: int | None = None  # ImageFolder only: unreadable files left out


def open_source(info: ModelInfo, spec: Spec, samples_needed: int) -> Opened:
    """The dataset of ``spec`` as a Source, with the order of the ``samples_needed`` a run reads."""
    rng = np.random.default_rng(spec.seed)
    if spec.dataset == "synthetic":
        from kerasbench.data import synthetic

        n_batches = max(1, -(-samples_needed // spec.batch_size))
        x, y = synthetic.make_arrays(info, spec, n_batches)
        return Opened(ArraySource(x, y), np.arange(len(x)), info)
    if spec.dataset == "cifar10":
        data = cifar10.load(spec.data_path)
        size = info.input_shape(spec)[-1 if spec.data_format == "channels_first" else 0]
        images = np.ascontiguousarray(data.images.transpose(0, 2, 3, 1))  # N x 32 x 32 x 3
        source = CifarSource(images, data.labels, size, spec.data_format)
        notes = {"data_files": f"{data.folder} ({data.format}, {len(data.images)} images)"}
        if size != cifar10.SIDE:
            notes["resize"] = f"CIFAR-10 32x32 resized to {size}x{size} (bilinear, Pillow)"
        return Opened(source, rng.permutation(len(source)), info, notes)
    if spec.dataset == "imagefolder":
        return _open_folder(info, spec, samples_needed, rng)
    if spec.dataset == "text":
        return _open_text(info, spec, rng)
    raise DataError(f"dataset: unknown value {spec.dataset!r}")


def _open_folder(
    info: ModelInfo, spec: Spec, samples_needed: int, rng: np.random.Generator
) -> Opened:
    folder = imagefolder.scan(spec.data_path)
    size = info.input_shape(spec)[-1 if spec.data_format == "channels_first" else 0]
    if len(folder.classes) > info.num_classes:
        raise DataError(
            f"{folder.root}: {len(folder.classes)} classes, more than the "
            f"{info.num_classes} outputs of model {info.name!r}"
        )
    source = FolderSource(folder.files, folder.labels, spec.preprocess, size, spec.data_format)
    wanted = min(len(source), samples_needed, MAX_POOL_FILES)
    good, skipped = check_files(source, rng.permutation(len(source)), wanted, spec)
    if not good:
        raise DataError(f"{folder.root}: none of its {len(source)} image files is readable")
    notes = {
        "data_files": f"{folder.root} ({len(folder.files)} files, {len(folder.classes)} classes)",
        "distinct_files": len(good),
        "preprocess": _describe_preprocess(spec.preprocess, size),
    }
    if skipped:
        notes["skipped_file_names"] = [str(p) for p in skipped[:SKIPPED_NAMES_KEPT]]
    return Opened(source, np.asarray(good), info, notes, skipped_files=len(skipped))


def _describe_preprocess(preprocess: str, size: int) -> str:
    if preprocess == "resize_crop":
        side = imagefolder.resize_crop_side(size)
        return f"shorter side to {side}, centre crop {size}x{size} (bilinear, Pillow)"
    return f"plain resize to {size}x{size}, aspect not kept (bilinear, Pillow)"


def check_files(
    source: FolderSource, candidates: np.ndarray, wanted: int, spec: Spec
) -> tuple[list[int], list[Path]]:
    """Decode candidates in order until ``wanted`` read well; returns (good indices, skipped).

    Runs before timing, in a thread pool (Pillow releases the GIL while
    decoding). Under ``spec.strict`` the first unreadable file is an error.
    """
    good: list[int] = []
    skipped: list[Path] = []
    workers = loader_workers(spec)

    def readable(index: int) -> bool:
        try:
            source.sample(index)
        except imagefolder.UnreadableImage:
            if spec.strict:
                raise
            return False
        return True

    with ThreadPoolExecutor(workers) as pool:
        start = 0
        while len(good) < wanted and start < len(candidates):
            chunk = [int(i) for i in candidates[start : start + max(wanted - len(good), workers)]]
            start += len(chunk)
            for index, ok in zip(chunk, pool.map(readable, chunk), strict=True):
                (good if ok else skipped).append(index if ok else source.files[index])
    return good[:wanted], skipped


@dataclass
class TextSource(Source):
    """Token windows of a text, made when read; a causal LM's target is its input shifted by one."""

    windows: Any  # kerasbench.data.text.TextWindows
    causal: bool

    def __len__(self) -> int:
        return len(self.windows)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.batch(np.asarray([index]))
        return x[0], y[0]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.windows.windows(indices)
        if self.causal:
            return np.ascontiguousarray(x[:, :-1]), np.ascontiguousarray(x[:, 1:])
        return x, y


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes; DataError otherwise."""
    try:
        # O_NONBLOCK: a FIFO given as the text must not wait for a writer.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise DataError(f"{path}: not a regular file")
            raw = f.read(limit + 1)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise DataError(f"{path}: larger than {limit >> 20} MiB; the text dataset reads less")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _open_text(info: ModelInfo, spec: Spec, rng: np.random.Generator) -> Opened:
    from kerasbench.data.text import TextWindows, text_ids

    path = Path(spec.data_path)
    text = read_text(path)
    seq_len = info.input_shape(spec)[0]
    causal = getattr(info, "target", "class") == "next_token"
    try:
        ids, vocab = text_ids(text)
        # A causal LM learns the next character at every position: windows one
        # longer, split into input and the same characters shifted by one.
        windows = TextWindows(ids, seq_len + 1 if causal else seq_len)
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
    # The model's output layer is sized to the file's vocabulary.
    info = dataclasses.replace(info, vocab_size=vocab, num_classes=vocab)
    notes = {"data_files": f"{path} ({len(text)} characters, vocabulary {vocab})"}
    source = TextSource(windows, causal)
    return Opened(source, rng.permutation(len(source)), info, notes)
