"""A street seen by a fixed CCTV camera, drawn by the project: cars seen from behind as they
drive away through a scene (`scene.py`), each carrying a French plate
(`relecture.synth.plates`), and the clip's frames encoded as H.264. The bundled sample
footage (scripts/render_sample_footage.py) and the rendered plate clips of `relecture eval
plates --rendered --video` are drawn here. Rendering is deterministic (fixed seeds, no
clock); only the H.264 bytes may differ across x264 builds.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from relecture.synth.plates import plate_font_path, render_plate, render_spec
from relecture.synth.scene import (DIMENSIONS, FADE_WIDTH_PX, FPS, HEIGHT, MIN_VIEW_WIDTH_PX,
                                   PLATE_H_M, PLATE_W_M, PLATE_Z_M, WIDTH, Clip, Scene, Vehicle,
                                   fill, paste_image, project, render_background, shade)

# ---------------------------------------------------------------- vehicles


def distance_at(v: Vehicle, t: float, d0: float) -> float | None:
    """Distance of the vehicle's rear from the camera at clip time t (None before departure)."""
    s = t - v.depart_s
    if s < 0:
        return None
    return d0 + v.speed * s + 0.5 * v.accel * s * s


def start_distance(scene: Scene) -> float:
    """Where vehicles start: rear bumper just below the bottom edge of the picture."""
    return scene.focal * scene.height / (HEIGHT + 60 - scene.horizon)


def rear_box(scene: Scene, v: Vehicle, d: float) -> tuple[float, float, float, float]:
    """Picture box of the vehicle's rear face (the side face adds a little to its left)."""
    w, h, _ = DIMENSIONS[v.kind]
    x0, y1 = project(scene, v.lane - w / 2, 0.0, d)
    x1, y0 = project(scene, v.lane + w / 2, h, d)
    return x0, y0, x1, y1


def full_box(scene: Scene, v: Vehicle, d: float) -> tuple[float, float, float, float]:
    """Picture box of everything drawn for the vehicle (rear, visible side, roof, wheels)."""
    w, h, length = DIMENSIONS[v.kind]
    pts = [project(scene, v.lane + sx * w / 2, z, dd)
           for sx in (-1, 1) for z in (0.0, h) for dd in (d, d + length)]
    xs, ys = zip(*pts)
    return min(xs), min(ys), max(xs), max(ys)


def draw_vehicle(img: np.ndarray, scene: Scene, v: Vehicle, d: float,
                 plate: np.ndarray) -> tuple[float, float, float, float]:
    """Draw one vehicle, rear view with its near side in perspective, at distance d; returns
    the plate's picture box."""
    w, h, length = DIMENSIONS[v.kind]
    lat0, lat1 = v.lane - w / 2, v.lane + w / 2
    body = v.bgr

    def P(lat, z, dd=d):
        return project(scene, lat, z, dd)

    def rear(pts_m, top, bottom=None, alpha=1.0):
        """Polygon given in rear-face metres (x from the vehicle centre, z up)."""
        fill(img, [P(v.lane + x, z) for x, z in pts_m], top, bottom, alpha)

    # Shadow on the road under and around the body.
    fill(img, [P(lat0 - 0.1, 0, d - 0.15), P(lat1 + 0.1, 0, d - 0.15),
               P(lat1 + 0.1, 0, d + length), P(lat0 - 0.1, 0, d + length)], (20, 20, 22),
         alpha=0.75)
    axle = 0.8  # rear overhang: the wheels sit this far ahead
    # Underbody in shadow, and rear tyres seen under the body (which covers their tops).
    fill(img, [P(lat0 + 0.1, 0.2, d + 0.3), P(lat1 - 0.1, 0.2, d + 0.3),
               P(lat1 - 0.1, 0.6, d + 0.3), P(lat0 + 0.1, 0.6, d + 0.3)], (26, 26, 28), (16, 16, 17))
    for sx in (-1, 1):
        lat = v.lane + sx * (w / 2 - 0.22)
        fill(img, [P(lat - 0.15, 0.0, d + axle), P(lat + 0.15, 0.0, d + axle),
                   P(lat + 0.15, 0.66, d + axle), P(lat - 0.15, 0.66, d + axle)],
             (30, 30, 32), (12, 12, 13))
    # Near (left) side, seen because the vehicle drives right of the camera.
    if lat0 > 0:
        side_top = 0.62 * h
        fill(img, [P(lat0, 0.22, d), P(lat0, side_top, d), P(lat0, side_top, d + length),
                   P(lat0, 0.22, d + length)], shade(body, 0.62), shade(body, 0.45))
        fill(img, [P(lat0, 0.22, d), P(lat0, 0.4, d), P(lat0, 0.4, d + length),
                   P(lat0, 0.22, d + length)], (35, 35, 37))  # rubbing strip / sill
        inset = 0.14  # the cabin is narrower than the body
        fill(img, [P(lat0 + inset * 0.3, side_top, d + 0.25), P(lat0 + inset, h, d + 0.7),
                   P(lat0 + inset, h, d + 2.9), P(lat0 + inset * 0.3, side_top, d + 3.4)],
             shade(body, 0.55))
        fill(img, [P(lat0 + inset * 0.4, side_top + 0.05, d + 0.45),
                   P(lat0 + inset * 0.9, h - 0.06, d + 0.8),
                   P(lat0 + inset * 0.9, h - 0.06, d + 2.8),
                   P(lat0 + inset * 0.4, side_top + 0.05, d + 3.2)], (60, 55, 50), (35, 32, 30))
        for wd in (d + axle, d + length - 0.9):  # wheels as discs in the side plane
            r = 0.33
            arch = [P(lat0 + 0.01, r + 1.25 * r * math.sin(a), wd + 1.25 * r * math.cos(a))
                    for a in np.linspace(0, math.pi, 12)] + [P(lat0 + 0.01, r, wd - 1.25 * r)]
            fill(img, arch, (28, 28, 30))
            ring = [P(lat0 + 0.02, r + r * math.sin(a), wd + r * math.cos(a))
                    for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)]
            fill(img, ring, (24, 24, 26))
            hub = [P(lat0 + 0.02, r + 0.55 * r * math.sin(a), wd + 0.55 * r * math.cos(a))
                   for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
            fill(img, hub, (120, 122, 125), (80, 80, 82))
    # Door mirrors stick out on both sides, a strong cue that this is a vehicle.
    md, mz, mh = d + 2.0, 0.98, 0.16
    for a, b in ((lat0 - 0.2, lat0 + 0.02), (lat1 - 0.02, lat1 + 0.2)):
        fill(img, [P(a, mz, md), P(b, mz, md), P(b, mz + mh, md), P(a, mz + mh, md)],
             shade(body, 0.5))
    # Roof, seen from above when the camera is higher than the vehicle.
    if scene.height > h:
        inset, roof_len = 0.28, (0.5, 2.9)
        fill(img, [P(lat0 + inset, h, d + roof_len[0]), P(lat1 - inset, h, d + roof_len[0]),
                   P(lat1 - inset, h, d + roof_len[1]), P(lat0 + inset, h, d + roof_len[1])],
             shade(body, 1.15), shade(body, 0.9))
    _car_rear(rear, body, h)
    px0, py1 = P(v.lane - PLATE_W_M / 2, PLATE_Z_M)
    px1, py0 = P(v.lane + PLATE_W_M / 2, PLATE_Z_M + PLATE_H_M)
    paste_image(img, plate, px0, py0, px1, py1)
    return px0, py0, px1, py1


def _car_rear(rear, body, h: float) -> None:
    """Rear of a hatchback: bumper, body with tail lights, pillars, rear window. Heights above
    the waist (0.94 m) stretch with the vehicle's height `h`."""
    dark, light = shade(body, 0.55), shade(body, 1.25)
    k = (h - 0.94) / (1.46 - 0.94)

    def cabin(pts, *colours, **kw):
        rear([(x, z if z < 0.94 else 0.94 + (z - 0.94) * k) for x, z in pts], *colours, **kw)

    rear([(-0.9, 0.22), (0.9, 0.22), (0.9, 0.34), (-0.9, 0.34)], (40, 40, 42), (22, 22, 24))
    rear([(-0.9, 0.32), (0.9, 0.32), (0.9, 0.62), (0.86, 0.92), (-0.86, 0.92), (-0.9, 0.62)],
         shade(body, 1.05), dark)
    rear([(-0.86, 0.9), (0.86, 0.9), (0.84, 0.95), (-0.84, 0.95)], light)  # shoulder highlight
    rear([(-0.4, 0.38), (0.4, 0.38), (0.38, 0.57), (-0.38, 0.57)], shade(body, 0.4))  # plate well
    for sx in (-1, 1):
        rear([(sx * 0.86, 0.66), (sx * 0.56, 0.68), (sx * 0.56, 0.86), (sx * 0.85, 0.9)],
             (60, 60, 210), (20, 20, 140))
        rear([(sx * 0.82, 0.74), (sx * 0.62, 0.75), (sx * 0.62, 0.81), (sx * 0.81, 0.82)],
             (150, 170, 250))
        rear([(sx * 0.62, 0.7), (sx * 0.56, 0.7), (sx * 0.56, 0.78), (sx * 0.62, 0.78)],
             (120, 200, 240))  # indicator
    rear([(-0.05, 0.78), (0.05, 0.78), (0.05, 0.84), (-0.05, 0.84)], (200, 200, 205))  # badge
    cabin([(-0.86, 0.94), (0.86, 0.94), (0.62, 1.46), (-0.62, 1.46)], shade(body, 0.95),
         shade(body, 0.8))  # cabin / pillars
    cabin([(-0.7, 0.99), (0.7, 0.99), (0.55, 1.38), (-0.55, 1.38)], (95, 85, 78), (38, 34, 32))
    cabin([(-0.45, 1.38), (-0.25, 1.38), (0.05, 0.99), (-0.2, 0.99)], (210, 210, 210), alpha=0.22)
    cabin([(-0.12, 1.36), (0.12, 1.36), (0.12, 1.385), (-0.12, 1.385)], (40, 40, 200))
    cabin([(-0.62, 1.43), (0.62, 1.43), (0.6, 1.46), (-0.6, 1.46)], light)


# ---------------------------------------------------------------- clips


def in_view_interval(clip: Clip, v: Vehicle) -> tuple[float, float] | None:
    """Seconds during which the vehicle is wholly in the picture and at least
    MIN_VIEW_WIDTH_PX wide (what expected.json promises a detector can see)."""
    scene = clip.scene
    d0 = start_distance(scene)
    times = [i / FPS for i in range(clip.frames)]
    ok = []
    for t in times:
        d = distance_at(v, t, d0)
        if d is None:
            continue
        x0, y0, x1, y1 = full_box(scene, v, d)
        rx0, _, rx1, _ = rear_box(scene, v, d)
        if x0 >= 0 and y0 >= 0 and x1 <= WIDTH and y1 <= HEIGHT and rx1 - rx0 >= MIN_VIEW_WIDTH_PX:
            ok.append(t)
    return (ok[0], ok[-1]) if ok else None


def plate_height_px(clip: Clip, v: Vehicle) -> float:
    """The plate's height in the picture when the vehicle is nearest while in view (0 when it
    is never in view): the largest the reader can see it."""
    interval = in_view_interval(clip, v)
    if interval is None:
        return 0.0
    d = distance_at(v, interval[0], start_distance(clip.scene))
    return clip.scene.focal * PLATE_H_M / d


def _plate_picture(v: Vehicle, font: Path) -> np.ndarray:
    return render_spec(v.plate_spec, font) if v.plate_spec else render_plate(v.plate,
                                                                             v.department, font)


def render_frames(clip: Clip):
    """Yield the clip's frames (BGR uint8), deterministically."""
    import cv2

    scene = clip.scene
    background = render_background(scene)
    font = plate_font_path()
    plates = {id(v): _plate_picture(v, font) for v in clip.vehicles}
    d0 = start_distance(scene)
    rng = np.random.default_rng(scene.seed * 1000 + clip.frames)
    for i in range(clip.frames):
        t = i / FPS
        img = background.copy()
        placed = [(distance_at(v, t, d0), v) for v in clip.vehicles]
        plate_boxes = []
        # Farthest first, so nearer vehicles cover them.
        for d, v in sorted(((d, v) for d, v in placed if d is not None), key=lambda p: -p[0]):
            x0, _, x1, _ = rear_box(scene, v, d)
            width = x1 - x0
            if width < FADE_WIDTH_PX * 0.5:
                continue
            if width < FADE_WIDTH_PX:
                under = img.copy()
                draw_vehicle(img, scene, v, d, plates[id(v)])
                fade = (width - FADE_WIDTH_PX * 0.5) / (FADE_WIDTH_PX * 0.5)
                img[:] = under * (1 - fade) + img * fade
            else:
                plate_boxes.append(draw_vehicle(img, scene, v, d, plates[id(v)]))
        img = cv2.GaussianBlur(img, (0, 0), 0.7)
        if clip.night:
            img = _night(img, plate_boxes, rng)
        img += rng.normal(0.0, 2.0, img.shape[:2])[..., None].astype(np.float32)
        frame = np.clip(img, 0, 255).astype(np.uint8)
        _osd(frame, clip.start + timedelta(seconds=int(t)), scene.camera)
        yield frame


def _night(img: np.ndarray, plate_boxes, rng: np.random.Generator) -> np.ndarray:
    """An infrared-switched camera at night: little colour, a dark scene, gain noise, and
    plates that stay readable because they reflect the camera's own light."""
    grey = img.mean(axis=2, keepdims=True)
    lit = 0.3 * img + 0.7 * grey
    out = lit * 0.25
    for x0, y0, x1, y1 in plate_boxes:
        ys, xs = slice(max(int(y0), 0), max(int(y1) + 1, 0)), slice(max(int(x0), 0),
                                                                  max(int(x1) + 1, 0))
        out[ys, xs] = lit[ys, xs] * 0.7
    return out + rng.normal(0.0, 8.0, img.shape[:2])[..., None].astype(np.float32)


def _osd(frame: np.ndarray, when: datetime, camera: str) -> None:
    """On-screen date, time and camera name, as CCTV recorders burn in."""
    import cv2

    text = f"{when:%d-%m-%Y %H:%M:%S}  CAM{int(camera):02d}"
    for colour, thick in (((0, 0, 0), 4), ((255, 255, 255), 2)):
        cv2.putText(frame, text, (24, 44), cv2.FONT_HERSHEY_SIMPLEX, 0.9, colour, thick,
                    cv2.LINE_AA)


def write_clip(clip: Clip, out: Path) -> Path:
    """Encode the clip as H.264 (yuv420p) under `out`."""
    import av

    path = out / clip.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": str(clip.crf), "preset": "medium", "g": "50"}
        for frame in render_frames(clip):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


