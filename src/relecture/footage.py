"""Footage intake: find files, tell their camera and start time, probe and hash them.

Camera and recording start come, in this order of precedence, from command-line flags,
a sidecar JSON next to the file, or the file's path. Supported path conventions:

- `CAM12_20230130T140000.mp4` (also `cam-12_20230130_140000.mkv`, `camera12-...`)
- `cam12/2023-01-30/14-00-00.mp4` (also `14h00m00s`, `140000`)

Sidecar: `<file>.json` (e.g. `CAM12.mp4.json`) or `<stem>.json`, holding any of
`{"camera": "12", "start": "2023-01-30T14:00:00", "tz": "Europe/Paris", "clock_offset_s": 2.5}`.

`start` is the camera's own clock (what its on-screen display shows), in its local time zone.
`clock_offset_s` is how far that clock is ahead of true time; UTC = local - offset.
A file whose start cannot be known is refused, never guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relecture.errors import FootageError, UsageError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov"})
DEFAULT_TZ = "Europe/Paris"

_CAM = r"(?:cam|camera|cam[ée]ra)[-_ ]?(?P<cam>[A-Za-z0-9]+?)"
_FLAT = re.compile(
    _CAM + r"[-_ ](?P<date>\d{8})[T_-]?(?P<time>\d{6})(?:[-_ .].*)?$", re.IGNORECASE
)
_DIR_CAM = re.compile(r"^" + _CAM + r"$", re.IGNORECASE)
_DIR_DATE = re.compile(r"^(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})$")
_FILE_TIME = re.compile(
    r"^(?P<H>\d{2})[-_:h]?(?P<M>\d{2})[-_:m]?(?P<S>\d{2})s?(?:[-_ .].*)?$", re.IGNORECASE
)


@dataclass(frozen=True)
class SourceHints:
    """What the user told us on the command line (None: not given)."""

    camera: str | None = None
    start: datetime | None = None  # naive: camera local time
    tz: str | None = None
    clock_offset_s: float | None = None


@dataclass(frozen=True)
class Recording:
    """A footage file with everything needed to place its frames in time and prove its origin."""

    path: Path
    sha256: str
    size_bytes: int
    camera: str
    start_local: datetime  # naive, camera clock
    tz: str
    clock_offset_s: float
    duration_s: float
    fps: float
    width: int
    height: int
    codec: str

    @property
    def start_utc(self) -> datetime:
        """Recording start in true UTC (camera clock corrected by its offset)."""
        aware = self.start_local.replace(tzinfo=ZoneInfo(self.tz))
        return (aware - timedelta(seconds=self.clock_offset_s)).astimezone(timezone.utc)

    def utc_at(self, t: float) -> datetime:
        """True UTC time of the instant `t` seconds into the recording."""
        return self.start_utc + timedelta(seconds=t)


def discover(paths: list[Path]) -> list[Path]:
    """Expand files and directory trees into a sorted list of video files.

    Explicitly named files are kept whatever their suffix (they get a clear error later if
    they are not video); directories contribute only files with a known video suffix.
    """
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(
                f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES
            )
        elif p.exists():
            found.append(p)
        else:
            raise UsageError(f"{p}: no such file or directory")
    return list(dict.fromkeys(found))


def parse_timestamp(text: str) -> datetime:
    """Parse a start time given by a user or a sidecar (ISO 8601, naive = camera local time)."""
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise UsageError(
            f"cannot read start time {text!r}: use ISO 8601, e.g. 2023-01-30T14:00:00"
        ) from None


def hints_from_name(path: Path) -> SourceHints:
    """Camera and start time from the file's path, by the documented conventions."""
    if m := _FLAT.match(path.stem + path.suffix):
        start = _make_datetime(path, m["date"][:4], m["date"][4:6], m["date"][6:], m["time"][:2],
                               m["time"][2:4], m["time"][4:])
        return SourceHints(camera=_norm_camera(m["cam"]), start=start)
    parents = path.parent.parts
    if len(parents) >= 2 and (t := _FILE_TIME.match(path.stem)):
        d, c = _DIR_DATE.match(parents[-1]), _DIR_CAM.match(parents[-2])
        if d and c:
            start = _make_datetime(path, d["y"], d["m"], d["d"], t["H"], t["M"], t["S"])
            return SourceHints(camera=_norm_camera(c["cam"]), start=start)
    return SourceHints()


def hints_from_sidecar(path: Path) -> SourceHints:
    """Hints from `<file>.json` or `<stem>.json` beside the file (empty when there is none)."""
    for side in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if side.is_file():
            try:
                data = json.loads(side.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise FootageError(f"{side}: unreadable sidecar JSON ({e})") from None
            if not isinstance(data, dict):
                raise FootageError(f"{side}: sidecar must be a JSON object")
            unknown = set(data) - {"camera", "start", "tz", "clock_offset_s"}
            if unknown:
                raise FootageError(f"{side}: unknown sidecar keys {sorted(unknown)}")
            return SourceHints(
                camera=_norm_camera(str(data["camera"])) if "camera" in data else None,
                start=parse_timestamp(str(data["start"])) if "start" in data else None,
                tz=data.get("tz"),
                clock_offset_s=float(data["clock_offset_s"]) if "clock_offset_s" in data else None,
            )
    return SourceHints()


def resolve_hints(path: Path, flags: SourceHints) -> SourceHints:
    """Merge flags > sidecar > file name; refuse a file whose camera or start is unknown."""
    layers = (flags, hints_from_sidecar(path), hints_from_name(path))

    def first(attr):
        return next((getattr(h, attr) for h in layers if getattr(h, attr) is not None), None)

    merged = SourceHints(camera=first("camera"), start=first("start"), tz=first("tz") or DEFAULT_TZ,
                         clock_offset_s=first("clock_offset_s") or 0.0)
    if merged.start is None or merged.camera is None:
        missing = " and ".join(n for n in ("camera", "start time") if
                               getattr(merged, "camera" if n == "camera" else "start") is None)
        raise FootageError(
            f"{path}: {missing} unknown: name it like CAM12_20230130T140000.mp4 or "
            f"cam12/2023-01-30/14-00-00.mp4, add a sidecar {path.name}.json, or pass "
            f"--camera/--start"
        )
    if merged.start.tzinfo is not None:
        # An explicit offset in the timestamp wins: convert to the camera zone's wall clock.
        merged = replace(merged, start=merged.start.astimezone(_zone(merged.tz)).replace(tzinfo=None))
    _zone(merged.tz)
    return merged


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks (bounded memory)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def probe(path: Path, hints: SourceHints, sha256: str | None = None) -> Recording:
    """Open the file with PyAV and build its Recording; FootageError if it is not usable video."""
    import av  # heavy import kept local so `relecture --help` stays fast

    if not path.is_file():
        raise FootageError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise FootageError(f"{path}: empty file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise FootageError(f"{path}: no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
            width, height = stream.codec_context.width, stream.codec_context.height
            duration = _duration(container, stream, fps)
    except av.error.FFmpegError as e:
        raise FootageError(f"{path}: not a readable video ({_short(e)})") from None
    if width <= 0 or height <= 0:
        raise FootageError(f"{path}: video stream has no picture size (unknown codec?)")
    return Recording(
        path=path.resolve(), sha256=sha256 or sha256_file(path), size_bytes=size,
        camera=hints.camera, start_local=hints.start, tz=hints.tz,
        clock_offset_s=hints.clock_offset_s, duration_s=duration, fps=fps,
        width=width, height=height, codec=codec,
    )


def _duration(container, stream, fps: float) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    if stream.frames:
        return stream.frames / fps
    return 0.0


def _short(e: Exception) -> str:
    return str(e).split(":")[0] if len(str(e)) > 120 else str(e)


def _norm_camera(cam: str) -> str:
    """Camera ids compare as written, less leading zeros on numbers: CAM012 == cam12 -> '12'."""
    cam = cam.strip()
    return str(int(cam)) if cam.isdigit() else cam.upper()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name, e.g. Europe/Paris)") from None


def _make_datetime(path: Path, *parts: str) -> datetime | None:
    try:
        return datetime(*(int(p) for p in parts))
    except ValueError:
        raise FootageError(f"{path}: the date/time in its name is not a real date") from None
