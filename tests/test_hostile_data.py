"""Small hostile inputs with huge costs: tall PNGs, pixel bombs, big or odd text files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasbench.data import imagefolder, resolve_data_paths, sources
from kerasbench.data.cifar10 import DataError
from kerasbench.data.text import MAX_VOCAB, TextWindows, encode_text, text_ids
from kerasbench.models import get_model
from kerasbench.spec import Spec, SpecError

ROOT = Path(__file__).resolve().parents[1]

# Decodes one image with at most 200 MiB of address space beyond what the process has.
BOUNDED_DECODE = """
import resource, sys
from pathlib import Path
from kerasbench.data import imagefolder
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + (200 << 20), size + (200 << 20)))
print(imagefolder.decode(Path(sys.argv[1]), "resize_crop", 224).shape)
"""


def test_85_byte_tall_png_decodes_within_a_memory_bound(tmp_path: Path) -> None:
    # Resizing its shorter side to 256 first made a 256 x 512000 image (521 MiB).
    from PIL import Image

    path = tmp_path / "tall.png"
    Image.new("RGB", (1, 2000)).save(path, optimize=True)
    assert path.stat().st_size < 100
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED_DECODE, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-400:]
    assert done.stdout.strip() == "(224, 224, 3)"


def test_image_with_too_many_pixels_is_refused_from_its_header(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(path)  # 81 Mpx, a few KB on disk
    with pytest.raises(imagefolder.UnreadableImage, match="9000x9000 pixels; at most"):
        imagefolder.decode(path, "resize_crop", 32)


def test_memory_error_while_decoding_is_an_unreadable_image(tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(path)

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Image.Image, "convert", exhausted)
    with pytest.raises(imagefolder.UnreadableImage, match="a.png: unreadable image"):
        imagefolder.decode(path, "resize256", 8)


def test_text_windows_are_made_lazily_and_match_the_eager_cut() -> None:
    text = "the quick brown fox jumps over the lazy dog. " * 5
    x, y, vocab = encode_text(text, 7, step=3)
    ids, vocab2 = text_ids(text)
    windows = TextWindows(ids, 7, 3)
    assert vocab == vocab2 and len(windows) == len(x)
    picked = np.asarray([5, 0, len(x) - 1])
    lazy_x, lazy_y = windows.windows(picked)
    assert np.array_equal(lazy_x, x[picked]) and np.array_equal(lazy_y, y[picked])
    # The source keeps the ids only: a few bytes per character, not seq_len * 4 / step.
    source = sources.TextSource(windows, causal=False)
    assert source.windows.ids.nbytes == 4 * len(text)


def test_text_file_must_be_regular_small_and_of_a_modest_alphabet(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="fifo.txt: not a regular file"):
        sources.read_text(fifo)
    big = tmp_path / "big.txt"
    big.write_text("a" * 2000)
    with pytest.raises(DataError, match="big.txt: larger than"):
        sources.read_text(big, limit=1000)
    wide = tmp_path / "wide.txt"
    wide.write_text("".join(map(chr, range(0x4E00, 0x4E00 + MAX_VOCAB + 1))), encoding="utf-8")
    spec = Spec(model="lstm_text_tiny", backend="jax", dataset="text", data_path=str(wide))
    with pytest.raises(DataError, match=f"{MAX_VOCAB + 1} distinct characters"):
        sources.open_source(get_model("lstm_text_tiny"), spec.resolved(), samples_needed=8)


def test_data_path_of_an_unknown_users_home_is_a_spec_error() -> None:
    spec = Spec(model="cifar10_cnn", backend="jax", dataset="cifar10", data_path="~nosuchuser/x")
    with pytest.raises(SpecError, match="~nosuchuser/x: no such user's home"):
        resolve_data_paths([spec])
