"""Which evaluation `relecture eval` runs, from its name and flags: the flags are checked
together (each goes with some evaluations only) and the evaluation is returned ready to run
as `evaluate(data, progress)`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Optional

from relecture.errors import UsageError

EVALUATIONS = ("detection", "plates", "colours", "passages", "requisitions", "attributes")
_ON_VIDEOS = ("passages", "requisitions", "attributes")


@dataclass(frozen=True)
class EvalRequest:
    """What `relecture eval` was asked (see its --help for each flag)."""

    what: str
    data: Optional[Path] = None
    rendered: bool = False
    video: bool = False
    n: int = 200
    seed: int = 0
    videos: Optional[Path] = None
    k: int = 10
    detector: Optional[str] = None
    recogniser: bool = False  # plates (photos, rendered stills): also the plate recogniser


def check(req: EvalRequest) -> None:
    """UsageError naming the first flag that does not go with the evaluation asked."""
    if req.what not in EVALUATIONS:
        raise UsageError(f"unknown evaluation {req.what!r}: use one of {', '.join(EVALUATIONS)}")
    if req.rendered and req.what != "plates":
        raise UsageError("--rendered goes with `eval plates`")
    if req.video and not req.rendered:
        raise UsageError("--video goes with `eval plates --rendered`")
    if (req.data is None) != req.rendered:
        raise UsageError("give --data DIR, or --rendered for `eval plates`")
    if req.recogniser and (req.what != "plates" or req.video):
        raise UsageError("--recogniser goes with `eval plates` (photos or rendered stills)")
    if req.videos is not None and req.what not in _ON_VIDEOS:
        raise UsageError("--videos goes with `eval passages`, `eval requisitions` or "
                         "`eval attributes`")
    if req.detector is not None and req.what not in ("detection", *_ON_VIDEOS):
        raise UsageError("--detector goes with `eval detection`, `eval passages`, "
                         "`eval requisitions` or `eval attributes`")


def _reader(req: EvalRequest):
    """The plate reader an `eval plates` request asks for (models load on first read)."""
    from relecture.indexer.plates import PlateReader

    return PlateReader(use_recogniser=req.recogniser)


def evaluation(req: EvalRequest) -> Callable:
    """The checked request's evaluation, called as `evaluate(data, progress=...)`; its
    models load when it runs, except the detector of `detection`, loaded here."""
    check(req)
    if req.what == "detection":
        from relecture.evaluation.detection import evaluate_detection
        from relecture.indexer.detect import DEFAULT, load_detector

        return partial(evaluate_detection, detector=load_detector(req.detector or DEFAULT))
    if req.what == "plates" and req.rendered:
        if req.video:
            from relecture.evaluation.rendered_video import evaluate_rendered_video as rendered
            return lambda _data, progress: rendered(req.n, req.seed, progress=progress)
        from relecture.evaluation.rendered_plates import evaluate_rendered

        return lambda _data, progress: evaluate_rendered(req.n, req.seed, _reader(req),
                                                         progress=progress)
    if req.what == "plates":
        from relecture.evaluation.plates import evaluate_plates

        return partial(evaluate_plates, reader=_reader(req))
    if req.what == "colours":
        from relecture.evaluation.colours import evaluate_colours

        return evaluate_colours
    return _on_videos(req)


def _on_videos(req: EvalRequest) -> Callable:
    if req.what == "passages":
        from relecture.evaluation.passages import evaluate_passages

        return partial(evaluate_passages, videos_dir=req.videos, detector=req.detector)
    if req.what == "requisitions":
        from relecture.evaluation.requisitions import evaluate_requisitions

        return partial(evaluate_requisitions, videos_dir=req.videos, k=req.k,
                       detector=req.detector)
    from relecture.evaluation.attributes import evaluate_attributes

    return partial(evaluate_attributes, videos_dir=req.videos, detector=req.detector)
