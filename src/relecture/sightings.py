"""What the describe step produces per vehicle track, and what the catalog stores."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from relecture.errors import UsageError

MAX_SIGHTING_ID = 2**63 - 1  # the catalog's ids are BIGINT


def check_sighting_id(value: int, typed: str | None = None) -> int:
    """`value` when it can be a sighting id (1 to MAX_SIGHTING_ID); UsageError naming what
    was typed otherwise, before a query could fail on it."""
    if not 1 <= value <= MAX_SIGHTING_ID:
        raise UsageError(f"sighting id {typed or value} is not a sighting number "
                         f"(1 to {MAX_SIGHTING_ID})")
    return value


@dataclass(frozen=True)
class PlateRead:
    """One OCR read of a plate on one frame. Every read is kept, not only the winner."""

    t: float  # seconds from the recording start
    text: str  # normalised: upper case, letters and digits only
    confidence: float
    box: tuple[float, float, float, float]  # plate box in frame pixels, xyxy
    source: str  # which OCR produced it


@dataclass(frozen=True)
class PlateResult:
    """The plate of a vehicle: the voted text, its confidence, and every read behind it."""

    text: str | None
    confidence: float
    reads: tuple[PlateRead, ...] = ()


@dataclass(frozen=True)
class ColourResult:
    """A named colour with its confidence, a second choice when the first is not clear, and
    the evidence: (colour, probability) pairs over the named colours, most likely first,
    pooled over every view of the vehicle (empty: only the name is known)."""

    name: str
    confidence: float
    alt: str | None = None
    alt_confidence: float = 0.0
    distribution: tuple[tuple[str, float], ...] = ()

    def probability(self, colour: str) -> float:
        """How likely the body is `colour`; from the name and alt when there is no
        distribution (see `fallback_distribution`)."""
        pairs = self.distribution or fallback_distribution(self.name, self.alt)
        return dict(pairs).get(colour, 0.0)


ALT_MASS = 0.3  # without a distribution, a second choice is taken to hold this much


def fallback_distribution(name: str | None, alt: str | None) -> tuple[tuple[str, float], ...]:
    """The distribution of a colour known only by its name and second choice (sightings
    catalogued before distributions were kept): the name 1, or 0.7 and the alt 0.3."""
    if not name or name == "unknown":
        return ()
    return ((name, 1.0 - ALT_MASS), (alt, ALT_MASS)) if alt and alt != name else ((name, 1.0),)


@dataclass(frozen=True)
class TypeResult:
    """Vehicle type (car, van, truck, bus, motorcycle, bicycle) and how sure we are, with the
    classifier's body-style evidence: (style, probability) pairs over
    `indexer.body_style.STYLES`, most likely first, pooled over the views it saw (empty: not
    classified, e.g. the site turned type refinement off)."""

    name: str
    confidence: float
    body: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TrackBox:
    """Where a track was on one frame."""

    t: float
    xyxy: tuple[float, float, float, float]
    confidence: float


SIDES = ("left", "right", "top", "bottom")
INSIDE = "inside"  # appeared or vanished within the picture, not at its border
MOTIONS = ("away", "towards")


@dataclass(frozen=True)
class Travel:
    """How a vehicle crossed the picture: the border it entered by and the one it left by
    (`SIDES`, or `INSIDE` when its first or last box touched no border), and whether it
    drove away from the camera or towards it (None: across, or too little to tell), with
    how sure that is (0-1)."""

    entry: str
    exit: str
    motion: str | None
    motion_conf: float = 0.0

    def __post_init__(self) -> None:
        for what, side in (("entry", self.entry), ("exit", self.exit)):
            if side not in SIDES and side != INSIDE:
                raise ValueError(f"Travel.{what}: expected one of {SIDES + (INSIDE,)}, got {side!r}")
        if self.motion is not None and self.motion not in MOTIONS:
            raise ValueError(f"Travel.motion: expected one of {MOTIONS} or None, got {self.motion!r}")


@dataclass(frozen=True)
class Sighting:
    """One vehicle passage in one recording, fully described."""

    track_id: int
    first_t: float
    last_t: float
    boxes: tuple[TrackBox, ...]
    vehicle_type: TypeResult
    colour: ColourResult
    plate: PlateResult
    best_t: float  # time of the frame the thumbnail comes from
    thumbnail_jpeg: bytes
    embedding: np.ndarray | None = field(default=None, compare=False)
    embedding_space: str | None = None
    travel: Travel | None = None  # None: the frame size was not known (no direction)


@dataclass(frozen=True)
class PersonTrack:
    """A person's boxes, kept only so that derived exports can blur them. No attributes."""

    track_id: int
    boxes: tuple[TrackBox, ...]
