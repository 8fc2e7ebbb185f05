"""Decoding: every picture counted, sampled pictures timed by PTS in display order."""

from __future__ import annotations

from types import SimpleNamespace

from relecture.indexer.decode import DecodeStats, display_ordered, sample_frames
from tests.fakes import write_clip


def _pictures(labels):
    return [SimpleNamespace(pts=pts, name=f"p{i}") for i, pts in enumerate(labels)]


def test_permuted_pts_labels_are_resorted_onto_pictures_in_output_order():
    """Packed-B-frame AVI labels pictures 0, 3, 1, 2: times must still only rise, and the
    pictures keep the decoder's (display) order; a picture without PTS is left out."""
    pictures = _pictures([0, 3, 1, None, 2, 5, 4])
    out = list(display_ordered(pictures, window=2))
    assert [pts for pts, _ in out] == [0, 1, 2, 3, 4, 5]
    assert [p.name for _, p in out] == ["p0", "p1", "p2", "p4", "p5", "p6"]


def test_stats_count_every_decoded_picture_not_only_the_sampled_ones(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", n=30, fps=10)
    stats = DecodeStats()
    frames = list(sample_frames(clip, sample_fps=2, stats=stats))
    assert stats.decoded == 30 and stats.untimed == 0
    assert stats.yielded == len(frames) == 6
    times = [f.t for f in frames]
    assert times == sorted(times) and abs(times[1] - times[0] - 0.5) < 1e-6
    assert [f.index for f in frames] == [0, 5, 10, 15, 20, 25]
