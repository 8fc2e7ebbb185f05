"""Plates on rendered video (`relecture eval plates --rendered --video`): the clips are what
they declare, sightings are matched to the right car, and the whole path through the indexer
reads plates a user could read."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.plate_grammar import plate_format

video = pytest.importorskip("relecture.evaluation.rendered_video")


def _sighting(first_t, last_t, text):
    return SimpleNamespace(first_t=first_t, last_t=last_t, plate=SimpleNamespace(text=text))


def test_the_same_seed_gives_the_same_clips_with_valid_plates_of_every_size():
    a, b = video.rendered_clips(12, seed=5), video.rendered_clips(12, seed=5)
    assert a == b and video.rendered_clips(12, seed=6) != a
    passages = video.passages_of(a)
    assert len(passages) == 12 * video.CARS_PER_CLIP
    assert all(plate_format(p.plate) in ("siv", "fni") for p in passages)
    heights = {p.tags()["height"] for p in passages}
    assert heights == {"<25", "25-34", "35+"}, "the set must span small and large plates"
    assert {p.tags()["format"] for p in passages} == {"siv", "fni"}
    assert any(p.night for p in passages) and any(not p.night for p in passages)


def test_each_car_gets_the_sighting_that_overlaps_it_in_time():
    clip = video.rendered_clips(1, seed=0)[0]
    passages = video.passages_of([clip])
    first, second, third = (p.visible for p in passages)
    # sightings in another order than the cars, one car (the second) never seen
    sightings = [_sighting(third[0] + 0.2, third[1], "THIRD"),
                 _sighting(first[0], first[1] - 0.5, "FIRST"),
                 _sighting(first[1] + 0.01, first[1] + 0.05, "NOISE")]
    reads = video.match_reads(passages, sightings)
    assert reads[0] == "FIRST" and reads[2] == "THIRD"
    assert reads[1] in (None, "NOISE")  # at best the noise, never another car's plate


@pytest.mark.slow
def test_cli_indexes_a_rendered_clip_and_reads_its_plates():
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "plates", "--rendered", "--video", "--n", "3",
                                 "--seed", "0", "--json"])
    if result.exit_code == 6:  # pragma: no cover - models absent
        pytest.skip(result.output)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["clips"] == 1 and metrics["n"] == 3
    # a daylight clip at CRF 23, plates 27 px high: a user could read them, so must the indexer
    assert metrics["within_one"] >= 2 / 3, metrics["misses"]
    assert runner.invoke(app, ["eval", "plates", "--video", "--data", "."]).exit_code == 2
