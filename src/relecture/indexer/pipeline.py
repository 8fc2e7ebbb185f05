"""The per-recording loop: frames -> gate -> detect -> track -> views -> described sightings.

`index_frames` takes every component as an argument (tested with fakes); `build_components`
is the composition root that loads the real models once per process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Protocol

from relecture.detections import Detections, Frame
from relecture.indexer.describe import Describer
from relecture.indexer.detect import DEFAULT as DEFAULT_DETECTOR
from relecture.indexer.gate import GateConfig, MotionGate
from relecture.indexer.low_light import LowLight, LowLightConfig
from relecture.indexer.regions import detect_region
from relecture.indexer.schedule import DetectScheduler, Region, ScheduleConfig
from relecture.indexer.track import Track, Tracker, TrackerConfig
from relecture.indexer.views import BestViews
from relecture.sightings import PersonTrack, Sighting


class Detector(Protocol):
    def detect(self, image, frame_shape: tuple[int, ...] | None = None) -> Detections:
        """Detections in `image` (a crop of a frame of `frame_shape` when given)."""
        ...


@dataclass(frozen=True)
class IndexConfig:
    """Parameters of an index run (recorded with the job)."""

    sample_fps: float = 5.0  # frames per second looked at by the motion gate
    gate: GateConfig = GateConfig()
    low_light: LowLightConfig = LowLightConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    tracker: TrackerConfig = TrackerConfig()
    views_per_track: int = 3
    read_plates: bool = True
    # A named detector (indexer.detect.KINDS). Video uses one pass a frame: a vehicle is seen
    # on many frames as it crosses the picture, and the SSD's tiled pass costs ~7x.
    detector: str = DEFAULT_DETECTOR
    dense: bool = False  # baseline: detector on every sampled frame, no gating


@dataclass(frozen=True)
class RecordingResult:
    """Everything one recording produced, ready for one catalog transaction."""

    sightings: tuple[Sighting, ...]
    persons: tuple[PersonTrack, ...]
    frames_sampled: int
    frames_detected: int


def index_frames(
    frames: Iterable[Frame],
    detector: Detector,
    describer: Describer,
    config: IndexConfig = IndexConfig(),
    on_frame: Callable[[Frame], None] | None = None,
) -> RecordingResult:
    """Run the pipeline over one recording's sampled frames."""
    gate = MotionGate(config.gate)
    low_light = LowLight(config.low_light)
    # a detector may say how sure of a class it must be once to name a track with it
    tracker = Tracker(config.tracker, naming=getattr(detector, "naming", ()))
    views = BestViews(k=config.views_per_track)
    sightings: list[Sighting] = []
    persons: list[PersonTrack] = []
    frame_size: tuple[int, int] | None = None  # (width, height): for directions of travel

    def finish(tracks: list[Track]) -> None:
        # Describe as soon as a track ends, so its views are freed: memory stays bounded
        # by the number of live tracks, whatever the recording's length.
        for track in tracks:
            if track.is_person:
                persons.append(PersonTrack(track_id=track.track_id, boxes=track.boxes))
            elif best := views.pop(track.track_id):
                sightings.append(describer.describe(track, best, frame_size))
        views.retain(tracker.live_ids())

    scheduler = DetectScheduler(config.schedule)
    sampled = detected = 0
    for frame in frames:
        sampled += 1
        if on_frame is not None:
            on_frame(frame)
        shape = frame.image.shape
        frame_size = (shape[1], shape[0])
        if low_light.observe(frame.image):
            gate.restart()
        if config.dense:
            region = Region(0, 0, shape[1], shape[0], full=True)
        else:
            mask = gate.motion_mask(frame.image, low_light.gain)
            region = scheduler.plan(frame.t, mask, shape, tracker.live_boxes(frame.t))
            if region is None:
                continue
            scheduler.done(frame.t, region, mask, shape, tracker.live_ids())
        detected += 1
        dets = detect_region(detector, low_light.prepare(frame.image), region,
                             config.schedule.detector_long_side,
                             max_share=config.schedule.max_region_share)
        ids, done = tracker.update(frame.t, dets)
        if not config.dense:
            scheduler.unsure(frame.t, [tuple(dets.xyxy[j]) for j, track_id in enumerate(ids)
                                       if not track_id and dets.is_vehicle[j] and dets.weak[j]])
        for j, track_id in enumerate(ids):
            # Views come from sure boxes only: a weak box (often a partial or blurred
            # vehicle) places the track but describes it badly.
            if track_id and dets.is_vehicle[j] and dets.sure[j]:
                views.offer(track_id, frame.t, frame.image, dets.xyxy[j], float(dets.confidence[j]))
        finish(done)
    finish(tracker.flush())
    sightings.sort(key=lambda s: (s.first_t, s.track_id))
    return RecordingResult(tuple(sightings), tuple(persons), sampled, detected)


def build_components(config: IndexConfig, threads: int | None = None) -> tuple[Detector, Describer]:
    """Load the real models (lazily, once per process) and wire the describers. `threads`:
    what each ONNX Runtime session may use (default: every core, for a single process)."""
    import os

    from relecture.indexer.colour import name_colour
    from relecture.indexer.detect import load_detector
    from relecture.indexer.embed import EfficientNetLite0, load_embedder
    from relecture.indexer.plate_vote import vote
    from relecture.indexer.plates import PlateReader
    from relecture.indexer.vehicle_type import TypeRefiner

    threads = threads or os.cpu_count() or 1
    # one network serves type refinement and the fallback embedding
    net = EfficientNetLite0(threads=threads)
    describer = Describer(
        vehicle_type=TypeRefiner(net).refine,
        colour=name_colour,
        read_plates=(PlateReader(text_first=True, threads=threads).read
                     if config.read_plates else None),
        vote_plates=vote,
        embedder=load_embedder(net),
    )
    return load_detector(config.detector, threads), describer
