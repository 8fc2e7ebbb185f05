"""Passage matching on hand-built sightings, and `relecture eval passages` on a real clip."""

from __future__ import annotations

import csv
import itertools
import json
import random
import shutil

import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.evaluation.assignment import max_weight_assignment
from relecture.evaluation.labelled import Passage, label_direction, labelled_videos, read_passages
from relecture.evaluation.passages import (
    interval_iou,
    match_intervals,
    score_video,
    sighting_direction,
    summarise,
)
from relecture.errors import UsageError
from relecture.indexer.pipeline import IndexConfig
from relecture.sightings import ColourResult, PlateResult, Sighting, TrackBox, TypeResult

runner = CliRunner()


def sighting(first: float, last: float, vtype: str = "car", colour: str = "white",
             track_id: int = 0, sizes: tuple[float, float] | None = None) -> Sighting:
    """A sighting; `sizes`: its first and last box sides (a growing box comes nearer)."""
    boxes = () if sizes is None else tuple(
        TrackBox(t, (0.0, 0.0, side, side), 0.9) for t, side in zip((first, last), sizes))
    return Sighting(track_id=track_id, first_t=first, last_t=last, boxes=boxes,
                    vehicle_type=TypeResult(vtype, 0.9), colour=ColourResult(colour, 0.9),
                    plate=PlateResult(None, 0.0), best_t=first, thumbnail_jpeg=b"")


def passage(pid: str, first: float, last: float, vtype: str = "car", colour: str = "white",
            alt: str = "", confidence: str = "high", direction: str | None = None) -> Passage:
    return Passage(pid, first, last, vtype, colour, alt, confidence, direction)


def test_interval_iou_widens_both_intervals_by_the_tolerance():
    assert interval_iou((0, 2), (0, 2)) == pytest.approx(1.0)
    assert interval_iou((0, 2), (1, 3)) == pytest.approx(2 / 4)  # [-0.5,2.5] vs [0.5,3.5]
    assert interval_iou((0, 1), (1.8, 3)) == pytest.approx(0.2 / 4)  # 0.8 s apart: touch
    assert interval_iou((0, 1), (2.1, 3)) == 0.0  # more than 2 x 0.5 s apart
    assert interval_iou((0, 1), (2.1, 3), tolerance_s=1.0) > 0
    assert interval_iou((5, 5), (5, 5)) == pytest.approx(1.0)  # one-frame sighting


def test_assignment_maximises_summed_overlap_not_first_come():
    # Greedy on the first passage would give it the long sighting and leave the second
    # passage nothing; the assignment gives each passage its own sighting.
    passages = [(0, 10), (6, 10)]
    sightings = [(0, 9), (6, 10)]
    matches = match_intervals(passages, sightings)
    assert [(m.passage, m.sighting) for m in matches] == [(0, 0), (1, 1)]


def test_assignment_is_one_to_one():
    matches = match_intervals([(0, 4)], [(0, 4), (0.2, 4.1), (0, 3.9)])
    assert len(matches) == 1 and matches[0].sighting == 0
    matches = match_intervals([(0, 4), (0.1, 4), (0, 3.8)], [(0, 4)])
    assert len(matches) == 1 and matches[0].passage == 0


def test_min_iou_leaves_far_or_tiny_overlaps_unmatched():
    assert match_intervals([(0, 2)], [(5, 6)]) == []
    # a one-frame sighting of a 30 s passage: widened IoU 1/31, under the minimum
    assert match_intervals([(0, 30)], [(10, 10)]) == []
    assert len(match_intervals([(0, 30)], [(10, 10)], min_iou=0.02)) == 1


def test_max_weight_assignment_agrees_with_brute_force():
    rng = random.Random(7)
    for _ in range(200):
        n, m = rng.randint(1, 4), rng.randint(1, 4)
        w = [[rng.choice([0, 0, rng.random()]) for _ in range(m)] for _ in range(n)]
        pairs = max_weight_assignment(w)
        assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
        best = max(sum(w[r][c] for r, c in zip(rows, cols))
                   for k in range(min(n, m) + 1)
                   for rows in itertools.permutations(range(n), k)
                   for cols in itertools.permutations(range(m), k))
        assert sum(w[r][c] for r, c in pairs) == pytest.approx(best)
    assert max_weight_assignment([]) == []
    assert max_weight_assignment([[0.0, 0.0]]) == []


def test_duplicates_and_unmatched_sightings():
    passages = [passage("a", 0, 10, "bus"), passage("b", 20, 22)]
    sightings = [
        sighting(0, 6, "bus"),      # matches a
        sighting(7, 9.5, "bus"),    # a split track: a duplicate of a
        sighting(8, 10, "car"),     # inside a but another type: not explained
        sighting(20, 22, "car"),    # matches b
        sighting(40, 41, "car"),    # nothing there
    ]
    score = score_video(passages, sightings)
    assert {(m.passage, m.sighting) for m in score.matches} == {(0, 0), (1, 3)}
    assert score.duplicates == {1: 0}
    assert score.unmatched == (2, 4)
    m = summarise([score])
    assert (m["n"], m["found"], m["recall"]) == (2, 2, 1.0)
    assert (m["sightings"], m["duplicates"], m["unmatched"], m["fragmented"]) == (5, 1, 2, 1)


def test_a_sighting_going_the_other_way_is_no_duplicate_of_a_long_passage():
    # kraten's 24 s "scooter pushed along the kerb, towards the camera" matched a car: the
    # cars driving away meanwhile are other vehicles, not fragments of it
    passages = [passage("slow", 0, 24, direction="towards")]
    sightings = [sighting(0, 22, sizes=(40, 80)),          # towards: matches
                 sighting(5, 7, sizes=(80, 40)),           # away: not the same vehicle
                 sighting(10, 11, sizes=(50, 60))]         # direction unknown: a fragment
    score = score_video(passages, sightings)
    assert [(m.passage, m.sighting) for m in score.matches] == [(0, 0)]
    assert score.duplicates == {2: 0} and score.unmatched == (1,)


def test_type_and_colour_do_not_choose_the_match():
    # The red car's label overlaps the white van's sighting best: time wins, and the
    # accuracies count the disagreement instead of hiding it.
    passages = [passage("red", 0, 4, colour="red"), passage("white", 3, 8, "van")]
    sightings = [sighting(0, 4, "van", "white"), sighting(3, 8, "car", "red")]
    m = summarise([score_video(passages, sightings)])
    assert m["found"] == 2
    assert m["type_accuracy"] == 0.0 and m["colour_accuracy"] == 0.0
    assert m["type_confusion"] == {"car": {"van": 1}, "van": {"car": 1}}


def test_summary_recalls_and_accuracies():
    passages = [
        passage("p1", 0, 3, colour="silver", alt="grey"),
        passage("p2", 10, 12, colour="unknown", confidence="medium"),
        passage("p3", 20, 22, colour="black", confidence="low"),
        passage("p4", 30, 32, confidence="low"),
    ]
    sightings = [sighting(0, 3, colour="grey"), sighting(10, 12, "motorcycle", "red"),
                 sighting(20, 22, colour="blue")]
    m = summarise([score_video(passages, sightings)])
    assert (m["n"], m["found"], m["recall"]) == (4, 3, 0.75)
    assert (m["n_sure"], m["found_sure"], m["recall_sure"]) == (2, 2, 1.0)
    assert (m["recall_high"], m["recall_medium"], m["recall_low"]) == (1.0, 1.0, 0.5)
    assert m["type_accuracy"] == pytest.approx(2 / 3)
    assert m["colour_n"] == 2  # p2 is labelled unknown
    assert m["colour_accuracy"] == pytest.approx(1 / 2)  # grey = p1's colour_alt
    assert m["missed"] == ["p4"]


def test_empty_video_scores_zero_without_failing():
    m = summarise([score_video([passage("a", 0, 1)], [])])
    assert (m["found"], m["recall"], m["type_accuracy"], m["unmatched"]) == (0, 0.0, 0.0, 0)
    m = summarise([score_video([], [sighting(0, 1)])])
    assert (m["n"], m["recall"], m["unmatched"]) == (0, 0.0, 1)


def test_folders_and_csv_errors_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such passages folder"):
        labelled_videos(tmp_path / "nope")
    (tmp_path / "passages").mkdir()
    with pytest.raises(UsageError, match="no such videos folder"):
        labelled_videos(tmp_path / "passages")
    (tmp_path / "videos").mkdir()
    with pytest.raises(UsageError, match="no passage CSV"):
        labelled_videos(tmp_path / "passages")
    (tmp_path / "passages" / "clip.csv").write_text("passage_id,t_first\nx,1\n")
    with pytest.raises(UsageError, match="no video named clip"):
        labelled_videos(tmp_path / "passages")
    with pytest.raises(UsageError, match="missing column"):
        read_passages(tmp_path / "passages" / "clip.csv")


def test_cli_reports_a_missing_videos_folder(tmp_path):
    (tmp_path / "passages").mkdir()
    result = runner.invoke(app, ["eval", "passages", "--data", str(tmp_path / "passages"),
                                 "--videos", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no such videos folder" in result.output
    result = runner.invoke(app, ["eval", "plates", "--data", str(tmp_path / "passages"),
                                 "--videos", str(tmp_path)])
    assert result.exit_code == 2
    assert "--videos" in result.output


def test_cli_takes_a_detector_for_passages_and_detection_only(tmp_path):
    (tmp_path / "photos").mkdir()
    result = runner.invoke(app, ["eval", "colours", "--data", str(tmp_path / "photos"),
                                 "--detector", "fast"])
    assert result.exit_code == 2 and "--detector goes with" in result.output
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "clip.mp4").write_bytes(b"")
    (tmp_path / "passages").mkdir()
    (tmp_path / "passages" / "clip.csv").write_text(
        "passage_id,t_first,t_last,type,colour,colour_alt,confidence\nx,1,2,car,red,,high\n")
    result = runner.invoke(app, ["eval", "passages", "--data", str(tmp_path / "passages"),
                                 "--detector", "huge"])
    assert result.exit_code == 2 and "unknown detector 'huge'" in result.output


def test_eval_passages_cli_on_a_real_clip(shared_data, tmp_path):
    """Indexes the 11 s motorway clip with the real models (about a minute on one core)."""
    name = "degirum_motorway_nl"
    source = shared_data / "passages" / f"{name}.csv"
    if not source.is_file() or not (shared_data / "videos" / f"{name}.mp4").is_file():
        pytest.skip(f"{name} passages or video not in {shared_data}")
    (tmp_path / "passages").mkdir()
    shutil.copy(source, tmp_path / "passages")
    with source.open(newline="", encoding="utf-8") as f:
        labelled = list(csv.DictReader(f))
    result = runner.invoke(app, ["eval", "passages", "--data", str(tmp_path / "passages"),
                                 "--videos", str(shared_data / "videos"), "--json"])
    assert result.exit_code == 0, result.output
    m = json.loads(result.stdout)
    assert m["detector"] == IndexConfig().detector  # what `relecture index` runs
    assert m["n"] == len(labelled) == m["per_video"][name]["n"]
    # one video: it is the even half (name order), the odd half is empty
    assert (m["halves"]["even"]["n"], m["halves"]["odd"]["n"]) == (m["n"], 0)
    assert 0 < m["found"] <= m["n"]
    # what the report says must add up: recall is the share of labelled passages found, and
    # the motorway clip's passages are mostly found (BENCHMARKS: eval passages)
    assert m["recall"] == pytest.approx(m["found"] / m["n"]) and m["recall"] >= 0.5
    assert m["recall_sure"] == pytest.approx(m["found_sure"] / m["n_sure"])
    assert m["sightings"] == m["found"] + m["duplicates"] + m["unmatched"]
    assert m["type_accuracy"] >= 0.5  # most found passages get their labelled type
    assert m["cpu_s"] > 0 and m["rtf"] > 0 and m["video_s"] == pytest.approx(11.1, abs=0.5)
    assert len(m["missed"]) == m["n"] - m["found"]


def test_matches_that_time_alone_cannot_tell_are_ambiguous():
    passages = [passage("a", 0, 4), passage("b", 1, 5), passage("c", 20, 22)]
    sightings = [sighting(0, 4), sighting(1, 5), sighting(20, 22)]
    score = score_video(passages, sightings)
    assert len(score.matches) == 3
    assert score.ambiguous == (0, 1)  # a and b were in view together; c was alone
    assert summarise([score])["ambiguous"] == 2


def test_direction_keeps_a_car_coming_nearer_from_taking_one_driving_away():
    assert label_direction("away from camera (lane 2)") == "away"
    assert label_direction("towards camera (right lane), leaves bottom") == "towards"
    assert label_direction("right-to-left along the far road") is None
    passages = [passage("away", 0, 4, direction="away"), passage("near", 0, 4, direction="towards")]
    sightings = [sighting(0, 4, sizes=(40, 100)), sighting(0, 4, sizes=(100, 40))]
    score = score_video(passages, sightings)
    assert sorted((m.passage, m.sighting) for m in score.matches) == [(0, 1), (1, 0)]
    assert score.ambiguous == ()  # each sighting fits only one of them
    # a box that hardly changes says nothing: either passage may take it
    assert sighting_direction(sighting(0, 4, sizes=(100, 105))) is None
    assert len(score_video(passages[:1], [sighting(0, 4, sizes=(40, 100))]).matches) == 0
