"""Reads an ImageNet-layout folder (``<root>/<class>/<image>``) with Pillow.

Classes are the sorted names of the sub-folders; label ``i`` is the ``i``-th.
Every image mode (RGB, grayscale, CMYK, palette, 16-bit, PNG content under a
``.JPEG`` name: Pillow decodes by content, not by name) becomes 8-bit RGB.

Preprocessing (the Spec's ``preprocess``), for a model taking S x S images:

- ``resize_crop``: the shorter side resized to 256 * S / 224 (256 for the usual
  224-pixel models), aspect ratio kept, then the centre S x S crop: the
  standard ImageNet evaluation transform (done as one resize of the crop's box).
- ``resize256``: the whole image squeezed to S x S, aspect ratio not kept, as
  the seed did; S defaults to 256 with this preprocessing (the seed's 256x256).

Both resize bilinearly with Pillow's antialiasing. A file that Pillow cannot
read or that is truncated is unreadable: the caller skips and counts it, or
stops on it under ``strict``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerasbench.data.cifar10 import DataError

# Names Pillow can decode that ImageNet-style folders use; matched case-insensitively.
IMAGE_SUFFIXES = frozenset(
    {".jpeg", ".jpg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)


# Pixels an image may have to be decoded at all (8192 x 8192); Pillow's own
# DecompressionBomb limit is larger, and only warns below twice that.
MAX_PIXELS = 8192 * 8192


class UnreadableImage(DataError):
    """An image file that cannot be decoded (corrupt, truncated, or not an image)."""


@dataclass(frozen=True)
class ImageFolder:
    """The files of an ImageNet-layout folder: paths and labels, nothing decoded yet."""

    root: Path
    classes: tuple[str, ...]
    files: tuple[Path, ...]
    labels: np.ndarray  # int32, one per file


def scan(root: Path | str) -> ImageFolder:
    """List ``root/<class>/<image>``; hidden entries and non-image names are ignored."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected <root>/<class>/<image>)")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no class folders (expected <root>/<class>/<image>)")
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
                if path.is_file():
                    files.append(path)
                    labels.append(label)
    if not files:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise DataError(f"{root}: no image files in its {len(classes)} class folders ({suffixes})")
    return ImageFolder(root, tuple(classes), tuple(files), np.asarray(labels, dtype=np.int32))


def resize_crop_side(size: int) -> int:
    """The shorter side before the centre crop: 256 for a 224-pixel model, in proportion."""
    return max(size, round(size * 256 / 224))


def decode(path: Path, preprocess: str, size: int) -> np.ndarray:
    """One image as uint8 ``size x size x 3`` RGB; raises UnreadableImage.

    Every failure of a hostile or broken file (Pillow raises many kinds, and
    MemoryError) is an UnreadableImage. An image over ``MAX_PIXELS`` is refused
    from its header, before it is decoded.
    """
    if preprocess not in ("resize256", "resize_crop"):
        raise ValueError(f"preprocess: unknown value {preprocess!r}")
    try:
        return _decode(path, preprocess, size)
    except UnreadableImage:
        raise
    except Exception as exc:  # a decoder fed hostile bytes fails in many ways (MemoryError too)
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UnreadableImage(f"{path}: unreadable image ({text})") from None


def _decode(path: Path, preprocess: str, size: int) -> np.ndarray:
    from PIL import Image

    with warnings.catch_warnings():
        # Palette images with transparency warn on RGB conversion; that is what we ask.
        warnings.simplefilter("ignore", UserWarning)
        with Image.open(path) as image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise UnreadableImage(
                    f"{path}: {width}x{height} pixels; at most {MAX_PIXELS} are decoded"
                )
            image = image.convert("RGB")  # decodes the whole file
    bilinear = Image.Resampling.BILINEAR
    if preprocess == "resize256":
        return np.asarray(image.resize((size, size), bilinear), dtype=np.uint8)
    # resize_crop: the centre crop's box in the source's own pixels, resized straight
    # to size x size. The same picture as resizing the whole image first and cropping
    # after, at a cost bounded by the source: a 1 x 2000 image would otherwise be
    # resized to 256 x 512000 first.
    scale = resize_crop_side(size) / min(width, height)
    box_w, box_h = min(width, size / scale), min(height, size / scale)
    left, top = (width - box_w) / 2, (height - box_h) / 2
    box = (left, top, left + box_w, top + box_h)
    return np.asarray(image.resize((size, size), bilinear, box=box), dtype=np.uint8)
