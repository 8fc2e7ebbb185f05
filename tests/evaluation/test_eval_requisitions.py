"""`relecture eval requisitions`: each labelled passage searched for as an investigator would,
through `relecture search`'s own code, on the bundled sample footage (real models)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.evaluation.requisitions import Asked, summarise_asked

FOOTAGE = Path(__file__).resolve().parents[2] / "sample_footage"
CLIPS = ("CAM12_20230130T140000", "CAM03_20230130T140215")
runner = CliRunner()


def write_passages(folder: Path) -> int:
    """One passages CSV per sample clip, from expected.json; returns how many passages."""
    folder.mkdir()
    manifest = json.loads((FOOTAGE / "expected.json").read_text(encoding="utf-8"))
    n = 0
    for clip in manifest["clips"]:
        stem = Path(clip["file"]).stem
        if stem not in CLIPS:
            continue
        with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["passage_id", "t_first", "t_last", "type", "colour", "colour_alt",
                        "direction", "kind", "plate", "confidence", "notes"])
            for k, v in enumerate(clip["vehicles"]):
                w.writerow([f"{stem}_{k}", *v["in_view_s"], v["type"], v["colour"], "",
                            "away from camera", "moving", v["plate"], "high", ""])
                n += 1
    return n


def test_summary_counts_ranks_within_k_and_at_any_rank():
    asked = [Asked("a", "p1", "high", True, 1, 4), Asked("a", "p2", "low", True, 12, 20),
             Asked("b", "p3", "high", False, None, 6)]
    m = summarise_asked(asked, k=10)
    assert (m["n"], m["found"], m["k"]) == (3, 2, 10)
    assert m["recall_at_k"] == pytest.approx(1 / 3) and m["recall_any"] == pytest.approx(2 / 3)
    assert m["mean_hits"] == 10.0 and m["recall_at_k_sure"] == 0.5


@pytest.mark.slow
def test_eval_requisitions_on_the_sample_footage(tmp_path):
    """Indexes two sample clips with the real models (about a minute on one core)."""
    n = write_passages(tmp_path / "passages")
    # k 1: every car of a clip is in the time asked, so only its colour can put it first
    result = runner.invoke(app, ["eval", "requisitions", "--data", str(tmp_path / "passages"),
                                 "--videos", str(FOOTAGE), "--k", "1", "--json"])
    assert result.exit_code == 0, result.output
    m = json.loads(result.stdout)
    assert (m["n"], m["k"], m["found"]) == (n, 1, n)
    assert m["recall_any"] == 1.0 and m["recall_at_k"] == 1.0, m["ranks"]
    assert set(m["per_video"]) == set(CLIPS) and m["missed_at_k"] == []
    # nothing is filtered by colour: each search returns every car of its clip
    assert m["per_video"]["CAM12_20230130T140000"]["mean_hits"] == 3.0
    assert m["per_video"]["CAM03_20230130T140215"]["mean_hits"] == 3.0
    # the halves thresholds are chosen and checked on: one clip each, in name order
    assert m["halves"]["even"]["n"] == m["per_video"]["CAM03_20230130T140215"]["n"]
    assert m["halves"]["odd"]["n"] == m["per_video"]["CAM12_20230130T140000"]["n"]
