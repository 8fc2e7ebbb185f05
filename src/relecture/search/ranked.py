"""A sighting that passed a search's filters, with the evidence it is ranked by; `key` is
the order of hits (see `search.engine`)."""

from __future__ import annotations

from dataclasses import dataclass

from relecture.search.filters import OTHER_TYPE
from relecture.search.plates import PlateMatch


@dataclass
class RankedRow:
    """A sighting that passed the filters, with what it is ranked by (`key`)."""

    values: dict
    colour_p: float = 1.0  # colour evidence (1 when no colour is asked)
    type_rank: int = 0
    plate: PlateMatch | None = None
    similarity: float | None = None
    attr_p: float = 1.0  # style and direction evidence (1 when neither is asked)

    def key(self) -> tuple:
        return (self.plate.distance if self.plate else 0.0, self.type_rank == OTHER_TYPE,
                -self.colour_p, -self.attr_p, self.type_rank,
                -self.similarity if self.similarity is not None else 2.0,
                -(self.plate.confidence if self.plate else 0.0), self.values["first_utc"],
                self.values["sighting_id"])
