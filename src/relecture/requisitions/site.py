"""Site policy: who may do what on which cameras, how long footage is kept, what a standing
index may extract. Read from `<home>/site.toml`; a fresh home gets a default file.

Format (every key is checked; unknown keys are refused so a typo cannot silently relax it):

    retention_days = 30                # footage and derived data kept at most this (1..30)
    audit_checkpoint_every = 100       # a signed audit checkpoint every N entries

    [standing_index]                   # what an index without a requisition may extract
    extractors = ["type", "colour", "plate", "embedding"]   # (plain `index` and nightly);
                                       # drop "plate" where the prefectoral order restricts
                                       # plate reading to requisition-scoped jobs

    [requisition_index]                # what `index -r REF` (for an open requisition, only
    extractors = ["type", "colour", "plate", "embedding"]   # inside its cameras and
                                       # times) may extract; default: all

    [[users]]
    name = "dupont"                    # the login (`RELECTURE_USER` or the OS user)
    roles = ["investigator"]           # operator, investigator, magistrate, auditor
    cameras = ["12", "13"]             # camera ids this user may see; ["*"] = all

    [cameras.12]                       # optional: where a camera is (WGS 84 degrees), for
    latitude = 49.2583                 # the travel times of `relecture journey`
    longitude = 4.0317
    label = "place d'Erlon"            # optional, shown on the journey's diagram

    [[distances]]                      # optional: a road distance between two cameras,
    cameras = ["12", "3"]              # used instead of the straight line between them
    metres = 1400

    [journey]
    max_speed_kmh = 110                # no vehicle goes faster between two cameras

Roles: an operator runs index jobs, purges and the configuration; an investigator opens
requisitions, searches and exports inside them; a magistrate may do what an investigator
does; an auditor reads and verifies the audit log.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relecture.errors import AccessDenied, UsageError
from relecture.files import create_once
from relecture.settings import Home

ROLES = ("operator", "investigator", "magistrate", "auditor")
EXTRACTORS = ("type", "colour", "plate", "embedding")
ALL_CAMERAS = "*"
Role = Literal["operator", "investigator", "magistrate", "auditor"]
Extractor = Literal["type", "colour", "plate", "embedding"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class User(_Strict):
    """A named user, the roles they hold and the cameras they may see."""

    name: str = Field(min_length=1)
    roles: tuple[Role, ...] = Field(min_length=1)
    cameras: tuple[str, ...] = Field(min_length=1)

    def sees(self, camera: str) -> bool:
        """Whether `camera` is inside this user's camera scope."""
        return ALL_CAMERAS in self.cameras or camera in self.cameras


class StandingIndex(_Strict):
    """Extractors a standing (requisition-less) index job may run."""

    extractors: tuple[Extractor, ...] = EXTRACTORS


class RequisitionIndex(_Strict):
    """Extractors an index job run for an open requisition may run."""

    extractors: tuple[Extractor, ...] = EXTRACTORS


class CameraPosition(_Strict):
    """Where a camera is (WGS 84 degrees) and an optional label for diagrams."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    label: str = ""


class RoadDistance(_Strict):
    """The road distance between two cameras, when the straight line says too little."""

    cameras: tuple[str, str]
    metres: float = Field(gt=0)


class JourneyPolicy(_Strict):
    """How fast a vehicle may go between two cameras (bounds the plausible travel times)."""

    max_speed_kmh: float = Field(110.0, gt=0, le=300)


class Site(_Strict):
    """The whole site policy."""

    retention_days: int = Field(30, ge=1, le=30)
    audit_checkpoint_every: int = Field(100, ge=1)
    standing_index: StandingIndex = StandingIndex()
    requisition_index: RequisitionIndex = RequisitionIndex()
    users: tuple[User, ...] = ()
    cameras: dict[str, CameraPosition] = {}  # camera id (as stored, upper case) -> position
    distances: tuple[RoadDistance, ...] = ()
    journey: JourneyPolicy = JourneyPolicy()

    @model_validator(mode="after")
    def _unique_names(self) -> "Site":
        names = [u.name for u in self.users]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"users listed twice: {', '.join(dupes)}")
        return self

    def user(self, name: str) -> User:
        """The user called `name`; AccessDenied when the site does not know them."""
        for u in self.users:
            if u.name == name:
                return u
        raise AccessDenied(f"user {name!r} is not declared in site.toml")

    def extractors(self, requisition_scoped: bool) -> tuple[str, ...]:
        """What an index job may extract: the requisition-scoped or the standing policy."""
        return (self.requisition_index.extractors if requisition_scoped
                else self.standing_index.extractors)


def site_path(home: Home) -> Path:
    """`<home>/site.toml`."""
    return home.root / "site.toml"


def default_site_toml(user: str) -> str:
    """The file a fresh home gets: `user` is operator and investigator on every camera."""
    quoted = _toml_string(user)
    return (
        "# relecture site policy (see `relecture.requisitions.site` for every key).\n"
        "retention_days = 30\n"
        "audit_checkpoint_every = 100\n\n"
        "[standing_index]\n"
        'extractors = ["type", "colour", "plate", "embedding"]\n\n'
        "[requisition_index]\n"
        'extractors = ["type", "colour", "plate", "embedding"]\n\n'
        "[[users]]\n"
        f"name = {quoted}\n"
        'roles = ["operator", "investigator"]\n'
        'cameras = ["*"]\n'
    )


def load_site(home: Home, user: str) -> Site:
    """Read and check `site.toml`; a home without one gets the default for `user` first."""
    path = site_path(home)
    if not path.exists():
        home.root.mkdir(parents=True, exist_ok=True)
        create_once(path, default_site_toml(user).encode("utf-8"), mode=0o644)
    return parse_site(path.read_text(encoding="utf-8"), str(path))


def parse_site(text: str, source: str = "site.toml") -> Site:
    """A `Site` from TOML text; UsageError naming the file and the bad key otherwise."""
    try:
        return Site.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{source}: not valid TOML ({e})") from None
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in e.errors())
        raise UsageError(f"{source}: {problems}") from None


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON escaping is valid TOML for these characters)."""
    return json.dumps(value, ensure_ascii=False)
