"""End to end: real datasets through every input kind, one worker per point, tiny model and batch.

Six points in one ``kerasbench run`` (each worker costs seconds): CIFAR-10 in
both formats, the ImageFolder fixture through each backend's native loader, a
PyDataset generator, and ``input_only``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import needs_backend, report_json
from data_fixtures import write_cifar_bin, write_cifar_py, write_imagefolder

SUITE = """
[defaults]
model = "cifar10_cnn"
batch_size = 4
steps = 2
warmup = 1
window_steps = 1
timeout = 600

[[matrix]]
backend = "jax"
dataset = "cifar10"
data_path = "{py}"
input = "generator"
mode = "train_on_batch"

[[matrix]]
backend = "jax"
dataset = "cifar10"
data_path = "{bin}"
input = "arrays"
mode = "fit"

[[matrix]]
dataset = "imagefolder"
data_path = "{folder}"
input = "native"
backend = "tensorflow"
mode = "train_on_batch"

[[matrix]]
dataset = "imagefolder"
data_path = "{folder}"
input = "native"
backend = "torch"
mode = "fit"

[[matrix]]
dataset = "imagefolder"
data_path = "{folder}"
input = "native"
backend = "jax"
mode = "predict"

[[matrix]]
dataset = "imagefolder"
data_path = "{folder}"
input = "generator"
backend = "jax"
mode = "input_only"
"""


@needs_backend("jax")
@needs_backend("tensorflow")
@needs_backend("torch")
def test_every_input_kind_runs_real_data(kerasbench, tmp_path: Path) -> None:
    py = write_cifar_py(tmp_path / "c1")
    binary = write_cifar_bin(tmp_path / "c2")
    folder = write_imagefolder(tmp_path / "folder")
    suite = tmp_path / "data.toml"
    suite.write_text(SUITE.format(py=py, bin=binary, folder=folder))
    proc = kerasbench("run", "--suite", str(suite))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = {
        (r["backend"], r["mode"], r["input"], r["dataset"]): r for r in report_json(kerasbench)
    }
    assert len(records) == 6, sorted(records)
    for key, r in records.items():
        assert r["status"] == "ok", (key, r["error"], r["stderr_tail"])
        assert r["samples_per_sec"] > 0
    generator = records[("jax", "train_on_batch", "generator", "cifar10")]
    assert 0 <= generator["input_wait_fraction"] < 1
    assert "PyDataset" in generator["settings"]["loader"]
    assert "binary" in records[("jax", "fit", "arrays", "cifar10")]["settings"]["data_files"]
    loaders = {
        "tensorflow": "tf.data",
        "torch": "torch DataLoader",
        "jax": "grain",
    }
    for (backend, mode, kind, dataset), r in records.items():
        if dataset == "imagefolder":
            assert r["skipped_files"] == 1, (backend, mode)
            assert r["settings"]["skipped_file_names"][0].endswith("truncated.JPEG")
            if kind == "native":
                assert loaders[backend] in r["settings"]["loader"]
    assert (
        records[("tensorflow", "train_on_batch", "native", "imagefolder")]["input_wait_fraction"]
        is not None
    )
