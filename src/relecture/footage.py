"""Footage intake: find files, tell their camera and start time, probe and hash them.

Camera and recording start come, in this order of precedence, from command-line flags,
a sidecar JSON next to the file, or the file's path. Supported path conventions:

- `CAM12_20230130T140000.mp4` (also `cam-12_20230130_140000.mkv`, `camera12-...`)
- `cam12/2023-01-30/14-00-00.mp4` (also `14h00m00s`, `140000`)

Sidecar: `<file>.json` (e.g. `CAM12.mp4.json`) or `<stem>.json`, holding any of
`{"camera": "12", "start": "2023-01-30T14:00:00", "tz": "Europe/Paris", "clock_offset_s": 2.5}`
(a `null` value counts as not given).

Every value is checked here, once, whether it came from a flag (`flag_hints`: UsageError)
or a sidecar (FootageError for that file alone): camera ids are 1-32 characters of A-Z, 0-9,
`_` and `-`, starting with a letter or digit, stored upper case with the leading zeros of a
number dropped (`cam012` is camera `12`); the time zone is an IANA name; the clock offset is
a finite number of seconds, at most 100 years either way; the start must be placeable in UTC.

`start` is the camera's own clock (what its on-screen display shows), in its local time zone.
`clock_offset_s` is how far that clock is ahead of true time; UTC = local - offset.
A file whose start cannot be known is refused, never guessed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relecture.errors import FootageError, RelectureError, UsageError
from relecture.times import DEFAULT_TZ, iso_instant

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov"})
CAMERA_ID = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
# A camera whose clock was never set shows 1970 or 2000: decades, not centuries.
MAX_CLOCK_OFFSET_S = 100 * 365.25 * 86400

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
    """Camera and start of a file, as flags, a sidecar or a name tell them (None: not given)."""

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
        return true_start_utc(self.start_local, self.tz, self.clock_offset_s)

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


def hints_from_name(path: Path) -> SourceHints:
    """Camera and start time from the file's path, by the documented conventions."""
    if m := _FLAT.match(path.stem + path.suffix):
        start = _make_datetime(path, m["date"][:4], m["date"][4:6], m["date"][6:], m["time"][:2],
                               m["time"][2:4], m["time"][4:])
        return SourceHints(camera=_name_camera(path, m["cam"]), start=start)
    parents = path.parent.parts
    if len(parents) >= 2 and (t := _FILE_TIME.match(path.stem)):
        d, c = _DIR_DATE.match(parents[-1]), _DIR_CAM.match(parents[-2])
        if d and c:
            start = _make_datetime(path, d["y"], d["m"], d["d"], t["H"], t["M"], t["S"])
            return SourceHints(camera=_name_camera(path, c["cam"]), start=start)
    return SourceHints()


def hints_from_sidecar(path: Path) -> SourceHints:
    """Hints from `<file>.json` or `<stem>.json` beside the file (empty when there is none).

    FootageError (this file only) when the sidecar is unreadable or holds a bad value."""
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
            return _checked(data, {k: f"{side}: {k}" for k in data}, FootageError)
    return SourceHints()


def flag_hints(camera: str | None = None, start: str | None = None, tz: str | None = None,
               clock_offset_s: float | None = None) -> SourceHints:
    """The command line's hints, checked: UsageError for a bad value (it would apply to every
    file). A start that cannot be placed in UTC with the given (or default) zone is refused."""
    raw = {"camera": camera, "start": start, "tz": tz, "clock_offset_s": clock_offset_s}
    flags = {"camera": "--camera", "start": "--start", "tz": "--tz",
             "clock_offset_s": "--clock-offset"}
    hints = _checked(raw, flags, UsageError)
    if hints.start is not None:
        _placed(hints.start, hints.tz or DEFAULT_TZ, hints.clock_offset_s or 0.0,
                f"--start {start}", UsageError)
    return hints


def _checked(raw: dict, names: dict[str, str], error: type[RelectureError]) -> SourceHints:
    """SourceHints from raw values (None: not given); `error` naming `names[key]` otherwise."""
    def bad(key: str, why: str) -> RelectureError:
        return error(f"{names[key]} {raw[key]!r}: {why}")

    camera, start, tz, offset = (raw.get(k) for k in ("camera", "start", "tz", "clock_offset_s"))
    if camera is not None:
        if isinstance(camera, bool) or not isinstance(camera, (str, int)):
            raise bad("camera", "a camera id is a string")
        try:
            camera = camera_id(str(camera))
        except ValueError as e:
            raise bad("camera", str(e)) from None
    if start is not None:
        if not isinstance(start, str):
            raise bad("start", "a start time is an ISO 8601 string")
        try:
            start = iso_instant(start)
        except ValueError:
            raise bad("start", "use ISO 8601, e.g. 2023-01-30T14:00:00") from None
    if tz is not None:
        if not isinstance(tz, str) or _zone_or_none(tz) is None:
            raise bad("tz", "not an IANA time zone (e.g. Europe/Paris)")
    if offset is not None:
        # abs() first: a JSON integer too large for a float makes isfinite() raise.
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) \
                or abs(offset) > MAX_CLOCK_OFFSET_S or not math.isfinite(offset):
            raise bad("clock_offset_s", "the clock offset is a number of seconds, at most "
                                        "100 years either way")
        offset = float(offset)
    return SourceHints(camera=camera, start=start, tz=tz, clock_offset_s=offset)


def camera_id(text: str) -> str:
    """A camera id as the catalog stores it: upper case, a number without its leading zeros
    (CAM012 == cam12 -> '12'). ValueError unless it is 1-32 characters of A-Z, 0-9, `_`
    and `-`, starting with a letter or digit (ids appear in paths, queries and reports)."""
    cam = text.strip().upper()
    if not CAMERA_ID.fullmatch(cam):
        raise ValueError("a camera id is 1-32 characters of A-Z, 0-9, '_' and '-', starting "
                         "with a letter or digit")
    return str(int(cam)) if cam.isdigit() else cam


def true_start_utc(start: datetime, tz: str, clock_offset_s: float) -> datetime:
    """UTC (aware) of a start read on a camera clock in zone `tz` running `clock_offset_s`
    ahead of true time. OverflowError when that falls outside the calendar."""
    aware = start.replace(tzinfo=ZoneInfo(tz))
    return (aware - timedelta(seconds=clock_offset_s)).astimezone(timezone.utc)


def _placed(start: datetime, tz: str, offset: float, what: str,
            error: type[RelectureError]) -> datetime:
    try:
        return true_start_utc(start, tz, offset)
    except (OverflowError, ValueError):  # ValueError: a NaN offset from an unchecked caller
        raise error(f"{what} ({tz}, clock offset {offset:g} s) falls outside the calendar")\
            from None


def resolve_hints(path: Path, flags: SourceHints) -> SourceHints:
    """Merge flags > sidecar > file name; refuse a file whose camera or start is unknown, or
    whose start cannot be placed in UTC."""
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
    zone = _zone(merged.tz)
    if merged.start.tzinfo is not None:
        # An explicit offset in the timestamp wins: convert to the camera zone's wall clock.
        try:
            local = merged.start.astimezone(zone).replace(tzinfo=None)
        except OverflowError:
            raise FootageError(f"{path}: start {merged.start} falls outside the calendar")\
                from None
        merged = replace(merged, start=local)
    _placed(merged.start, merged.tz, merged.clock_offset_s, f"{path}: start {merged.start}",
            FootageError)
    return merged


def regular_file(path: Path) -> os.stat_result:
    """The file's stat; FootageError unless it is a regular file (reading a pipe, device or
    socket would block or never end)."""
    st = path.stat()
    _require_regular(path, st)
    return st


def _require_regular(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FootageError(f"{path}: not a regular file (a pipe, device or socket is not "
                           "footage)")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a regular file, read in chunks (bounded memory); FootageError otherwise."""
    h = hashlib.sha256()
    # O_NONBLOCK: opening a pipe put in the file's place since it was looked at must not hang.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        _require_regular(path, os.fstat(fd))
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_unchanged(path: str | None, sha256: str) -> Path:
    """The catalogued recording's file, checked to be there and to hold the bytes it was
    indexed from: FootageError when missing, IntegrityError when its sha256 changed."""
    from relecture.errors import IntegrityError

    file = Path(path or "")
    if not file.is_file():
        raise FootageError(f"{file}: source recording not found (moved or purged?)")
    if sha256_file(file) != sha256:
        raise IntegrityError(f"{file}: content differs from when it was indexed (sha256 changed)")
    return file


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
            duration = declared_duration(container, stream, fps)
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


def declared_seconds(path: Path) -> float:
    """Seconds of video the file's header declares, without hashing it; 0.0 when it cannot
    be read (the job that indexes the file then says why)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return 0.0
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
            return declared_duration(container, stream, fps)
    except (av.error.FFmpegError, OSError):
        return 0.0


def declared_duration(container, stream, fps: float) -> float:
    """Seconds of video the container's header declares (0.0 when it does not say)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    if stream.frames:
        return stream.frames / fps
    return 0.0


def _short(e: Exception) -> str:
    return str(e).split(":")[0] if len(str(e)) > 120 else str(e)


def _zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(name: str) -> ZoneInfo:
    zone = _zone_or_none(name)
    if zone is None:
        raise UsageError(f"unknown time zone {name!r} (use an IANA name, e.g. Europe/Paris)")
    return zone


def _name_camera(path: Path, cam: str) -> str:
    try:
        return camera_id(cam)
    except ValueError as e:
        raise FootageError(f"{path}: the camera in its name is not an id ({e})") from None


def _make_datetime(path: Path, *parts: str) -> datetime | None:
    try:
        return datetime(*(int(p) for p in parts))
    except ValueError:
        raise FootageError(f"{path}: the date/time in its name is not a real date") from None
