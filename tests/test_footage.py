"""Naming conventions, sidecars and flags: where a recording's camera and start time come from."""

from __future__ import annotations

import json
from contextlib import nullcontext as does_not_raise
from datetime import datetime, timezone
from pathlib import Path

import pytest

from relecture.errors import FootageError, UsageError
from relecture.footage import SourceHints, discover, hints_from_name, resolve_hints


@pytest.mark.parametrize(
    "path, camera, start",
    [
        ("CAM12_20230130T140000.mp4", "12", datetime(2023, 1, 30, 14, 0, 0)),
        ("cam012_20230130_141530.mkv", "12", datetime(2023, 1, 30, 14, 15, 30)),
        ("camera-3_20231231T235959.avi", "3", datetime(2023, 12, 31, 23, 59, 59)),
        ("CAMNORD_20230130T140000.mov", "NORD", datetime(2023, 1, 30, 14, 0)),
        ("archive/cam12/2023-01-30/14-00-00.mp4", "12", datetime(2023, 1, 30, 14, 0)),
        ("cam7/20230130/081500.mp4", "7", datetime(2023, 1, 30, 8, 15)),
        ("cam7/2023-01-30/08h15m00s.mp4", "7", datetime(2023, 1, 30, 8, 15)),
        ("holiday.mp4", None, None),
        ("cam12/holiday/14-00-00.mp4", None, None),
    ],
)
def test_camera_and_start_from_name(path, camera, start):
    hints = hints_from_name(Path(path))
    assert (hints.camera, hints.start) == (camera, start)


def test_impossible_date_in_name_is_refused():
    with pytest.raises(FootageError, match="not a real date"):
        hints_from_name(Path("CAM1_20230230T140000.mp4"))


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.mark.parametrize(
    "name, sidecar, flags, expected, raises",
    [
        # the name alone
        ("CAM12_20230130T140000.mp4", None, SourceHints(), ("12", "2023-01-30 14:00:00", 0.0),
         does_not_raise()),
        # a sidecar beats the name
        ("CAM12_20230130T140000.mp4", {"camera": "4", "clock_offset_s": 2.5}, SourceHints(),
         ("4", "2023-01-30 14:00:00", 2.5), does_not_raise()),
        # flags beat both
        ("CAM12_20230130T140000.mp4", {"camera": "4"},
         SourceHints(camera="9", start=datetime(2023, 2, 1, 8, 0)),
         ("9", "2023-02-01 08:00:00", 0.0), does_not_raise()),
        # nothing tells the start: refused, not guessed
        ("export.mp4", None, SourceHints(camera="3"), None, pytest.raises(FootageError, match="start")),
        ("export.mp4", {"start": "2023-01-30T14:00:00"}, SourceHints(), None,
         pytest.raises(FootageError, match="camera")),
        ("export.mp4", {"camera": "1", "start": "yesterday"}, SourceHints(), None,
         pytest.raises(FootageError, match="ISO 8601")),
        ("export.mp4", {"camera": "1", "start": "2023-01-30T14:00:00", "zone": "x"}, SourceHints(),
         None, pytest.raises(FootageError, match="unknown sidecar keys")),
    ],
)
def test_flags_beat_sidecar_beat_name(tmp_path, name, sidecar, flags, expected, raises):
    video = _touch(tmp_path / name)
    if sidecar is not None:
        (tmp_path / (name + ".json")).write_text(json.dumps(sidecar))
    with raises:
        hints = resolve_hints(video, flags)
        assert (hints.camera, str(hints.start), hints.clock_offset_s) == expected


def test_unknown_time_zone_is_a_usage_error(tmp_path):
    video = _touch(tmp_path / "CAM1_20230130T140000.mp4")
    with pytest.raises(UsageError, match="time zone"):
        resolve_hints(video, SourceHints(tz="Mars/Olympus"))


def test_utc_start_uses_zone_and_clock_offset(tmp_path):
    from relecture.footage import Recording

    rec = Recording(path=tmp_path, sha256="0", size_bytes=1, camera="1",
                    start_local=datetime(2023, 7, 1, 14, 0, 0), tz="Europe/Paris",
                    clock_offset_s=30.0, duration_s=1, fps=25, width=2, height=2, codec="h264")
    # Paris is UTC+2 in summer; the camera clock runs 30 s fast.
    assert rec.start_utc == datetime(2023, 7, 1, 11, 59, 30, tzinfo=timezone.utc)


def test_discover_walks_trees_and_keeps_named_files(tmp_path):
    a = _touch(tmp_path / "cam1" / "2023-01-30" / "14-00-00.mp4")
    _touch(tmp_path / "cam1" / "notes.txt")
    named = _touch(tmp_path / "odd.bin")
    assert discover([tmp_path / "cam1", named]) == [a, named]
    with pytest.raises(UsageError, match="no such file"):
        discover([tmp_path / "missing.mp4"])


@pytest.mark.parametrize("sidecar, camera, offset", [
    ({"camera": 12}, "12", 0.0),  # a number is an id
    ({"camera": "nord-1"}, "NORD-1", 0.0),
    ({"camera": None, "clock_offset_s": None}, "5", 0.0),  # null: not given, the name says
    ({"clock_offset_s": -3}, "5", -3.0),
])
def test_sidecar_values_are_normalised(tmp_path, sidecar, camera, offset):
    video = _touch(tmp_path / "CAM5_20230130T140000.mp4")
    (tmp_path / (video.name + ".json")).write_text(json.dumps(sidecar))
    hints = resolve_hints(video, SourceHints())
    assert (hints.camera, hints.clock_offset_s) == (camera, offset)


@pytest.mark.parametrize("sidecar", [
    {"camera": True}, {"camera": ""}, {"camera": "a" * 33}, {"camera": "cam 5"},
    {"start": 20230130}, {"tz": "Mars/Olympus"}, {"clock_offset_s": True},
    {"clock_offset_s": float("inf")}, {"clock_offset_s": 10 ** 400},
    {"start": "0001-01-01T00:00:00", "tz": "Asia/Tokyo"},
])
def test_a_bad_sidecar_value_fails_its_file_only(tmp_path, sidecar):
    video = _touch(tmp_path / "CAM5_20230130T140000.mp4")
    (tmp_path / (video.name + ".json")).write_text(json.dumps(sidecar))
    with pytest.raises(FootageError, match=r"CAM5_20230130T140000\.mp4"):
        resolve_hints(video, SourceHints())
