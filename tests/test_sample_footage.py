"""The bundled sample footage is what its generator declares: names, lengths, ground truth."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from relecture.footage import hints_from_name, probe, resolve_hints, SourceHints

REPO = Path(__file__).resolve().parents[1]
FOOTAGE = REPO / "sample_footage"
SIV = re.compile(r"^[A-HJ-NP-TV-Z]{2}\d{3}[A-HJ-NP-TV-Z]{2}$")  # normalised, no I/O/U


@pytest.fixture(scope="module")
def generator():
    """scripts/render_sample_footage.py, imported as a module (it is not a package)."""
    path = REPO / "scripts" / "render_sample_footage.py"
    spec = importlib.util.spec_from_file_location("render_sample_footage", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((FOOTAGE / "expected.json").read_text(encoding="utf-8"))


def test_expected_json_is_what_the_generator_declares(generator, manifest):
    assert manifest == json.loads(json.dumps(generator.expected()))


def test_clips_are_named_by_a_convention_that_gives_camera_and_start(generator):
    cameras = set()
    for clip in generator.CLIPS:
        hints = hints_from_name(Path(clip.path))
        assert (hints.camera, hints.start) == (clip.scene.camera, clip.start), clip.path
        cameras.add(hints.camera)
    assert len(cameras) >= 2
    assert any("/" in clip.path for clip in generator.CLIPS), "no clip uses the folder convention"


def test_committed_clips_have_the_declared_length_and_size(generator):
    for clip in generator.CLIPS:
        path = FOOTAGE / clip.path
        rec = probe(path, resolve_hints(path, SourceHints()))
        assert rec.camera == clip.scene.camera and rec.start_local == clip.start
        assert (rec.width, rec.height, rec.codec) == (generator.WIDTH, generator.HEIGHT, "h264")
        assert rec.fps == pytest.approx(generator.FPS)
        assert rec.duration_s == pytest.approx(clip.duration_s, abs=0.1)


def test_sample_footage_stays_small():
    total = sum(f.stat().st_size for f in FOOTAGE.rglob("*") if f.is_file())
    assert total < 5_000_000


def test_every_file_in_sample_footage_is_declared(generator, manifest):
    videos = {str(f.relative_to(FOOTAGE)) for f in FOOTAGE.rglob("*.mp4")}
    assert videos == {c.path for c in generator.CLIPS} == {c["file"] for c in manifest["clips"]}


def test_ground_truth_is_usable_for_an_end_to_end_check(manifest):
    plates = []
    for clip in manifest["clips"]:
        assert len({v["plate"] for v in clip["vehicles"]}) == len(clip["vehicles"])
        vehicles = clip["vehicles"]
        assert 2 <= len(vehicles) <= 4
        assert len({v["colour"] for v in vehicles}) == len(vehicles)  # one colour tells them apart
        intervals = sorted(v["in_view_s"] for v in vehicles)
        for (a0, a1), (b0, b1) in zip(intervals, intervals[1:]):
            assert 0 <= a0 < a1 < b0 < b1 <= clip["duration_s"]  # one after another
        for v in vehicles:
            assert v["in_view_s"][1] - v["in_view_s"][0] >= 1.5  # several detector passes
            assert SIV.match(v["plate"]), v["plate"]
            assert v["plate"] == re.sub(r"[^A-Z0-9]", "", v["plate_as_written"])
            plates.append(v["plate"])
    # one vehicle crosses two cameras (the sample's journey), every other plate is seen once
    crossing = [p for p in set(plates) if plates.count(p) > 1]
    assert crossing == ["GH482KT"] and plates.count("GH482KT") == 2
    cameras = {c["camera"] for c in manifest["clips"] for v in c["vehicles"]
               if v["plate"] == "GH482KT"}
    assert cameras == {"12", "3"}


def test_readme_describes_every_clip_and_plate(manifest):
    readme = (FOOTAGE / "README.md").read_text(encoding="utf-8")
    for clip in manifest["clips"]:
        assert clip["file"] in readme
        for v in clip["vehicles"]:
            assert v["plate_as_written"] in readme
