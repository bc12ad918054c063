"""Charts: statuses never drawn as zero, fixed colours, PNG files, scaling lines, repeats."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from report_data import (
    CURRENT,
    chart_named,
    make,
)

from kerasbench.report import formats, plots
from kerasbench.report.pool import pool_repeats

# --- charts --------------------------------------------------------------------------


def test_failed_points_are_labelled_not_drawn_as_zero() -> None:
    chart = chart_named([r for r in CURRENT if r.devices == 1], "throughput-cifar10_cnn")
    ax = chart.figure.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert sorted(heights) == [400.0, 1000.0]  # jax, tensorflow; nothing for torch/openvino
    texts = [t.get_text() for t in ax.texts]
    assert "failed" in texts and "skipped" in texts
    assert "★ 1,000" in texts  # the fastest is marked
    assert ax.get_ylabel() == "throughput (images/s)"


def test_each_backend_keeps_its_colour_across_charts() -> None:
    from matplotlib.colors import to_hex

    seen: dict[str, set[str]] = {}
    for chart in plots.build_charts(CURRENT):
        for ax in chart.figure.axes:
            for artist in ax.get_children():
                label = str(artist.get_label())
                if not label.startswith("_backend:"):
                    continue
                if hasattr(artist, "get_facecolor"):
                    colour = artist.get_facecolor()
                    colour = colour[0] if getattr(colour, "ndim", 1) == 2 else colour
                else:
                    colour = artist.get_color()
                seen.setdefault(label.split(":", 1)[1], set()).add(to_hex(colour, keep_alpha=False))
    assert set(seen) == {"jax", "tensorflow", "torch"}  # openvino was never measured
    for backend, colours in seen.items():
        assert colours == {plots.backend_colour(backend)}, backend
    assert plots.backend_colour("mxnet") != plots.backend_colour("jax")
    assert plots.backend_colour("brand-new") == plots.backend_colour("brand-new")


def test_png_files_are_valid_images_named_by_content(tmp_path: Path) -> None:
    from PIL import Image

    charts = plots.build_charts(CURRENT)
    paths = plots.write_pngs(charts, tmp_path / "charts")
    assert [p.name for p in paths] == [
        "throughput-cifar10_cnn.png",
        "step-time-cifar10_cnn.png",
        "scaling-cifar10_cnn.png",
        "throughput-mnist_mlp.png",
        "step-time-mnist_mlp.png",
        "time-to-first-step.png",
        "peak-memory.png",
    ]
    for chart, path in zip(charts, paths, strict=True):
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == plots.png_size(chart)
            # a chart, not a blank page: several colours in use
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10


def test_chart_names_are_safe_file_names() -> None:
    charts = plots.build_charts([make("../../etc/passwd", "jax", 5.0), make("..", "jax", 5.0)])
    names = [c.name for c in charts]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) and ".." not in n.split("/") for n in names)
    assert len(set(names)) == len(names)
    assert not any(n.startswith(".") for n in names)


def test_scaling_efficiency_is_relative_to_the_fewest_devices() -> None:
    lines = plots.scaling_lines([r for r in CURRENT if r.model == "cifar10_cnn"])
    tf = next(points for (backend, _), points in lines.items() if backend == "tensorflow")
    assert [p.devices for p in tf] == [1, 2]
    assert tf[1].efficiency == pytest.approx(1500 / 2 / 1000)


def test_memory_chart_adds_device_memory_where_measured() -> None:
    on_gpu = replace(CURRENT[0], peak_device_memory_bytes=512 * 2**20, device_kind="gpu")
    chart = chart_named([on_gpu, CURRENT[1], CURRENT[2]], "peak-memory")
    axes = [ax for ax in chart.figure.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in axes] == [
        "peak host memory (MiB)",
        "peak device memory (MiB)",
    ]
    device = axes[1]
    assert [p.get_height() for p in device.patches] == [512.0]  # jax only
    texts = [t.get_text() for t in device.texts]
    assert "not measured" in texts and "failed" in texts  # tensorflow, torch
    assert not any(t.startswith("★") for ax in axes for t in (x.get_text() for x in ax.texts))


def test_hosts_multiply_devices_in_scaling_and_tables() -> None:
    one = make("cifar10_cnn", "jax", 400.0)
    two_hosts = make(
        "cifar10_cnn", "jax", 720.0, num_hosts=2, batch_size=64, per_device_batch_size=32
    )
    lines = plots.scaling_lines([one, two_hosts])
    (points,) = lines.values()
    assert [p.devices for p in points] == [1, 2]
    assert points[1].efficiency == pytest.approx(0.9)
    _, rows = formats.seed_rows([one, two_hosts])
    assert [row[1] for row in rows] == ["1 × CPU", "2 hosts × 1 × CPU"]


def test_repeats_of_a_point_are_one_row_and_one_bar() -> None:
    repeats = [make("mnist_mlp", "jax", speed, repeat=i) for i, speed in enumerate((90.0, 110.0))]
    _, rows = formats.seed_rows(repeats)
    assert len(rows) == 1
    chart = chart_named(repeats, "throughput-mnist_mlp")
    assert len(chart.figure.axes[0].patches) == 1
    (pooled,) = pool_repeats(repeats)
    assert pooled.repeats_pooled == 2 and 90.0 < pooled.samples_per_sec < 110.0
