"""A street seen by a fixed CCTV camera, drawn by the project: the scene, cars seen from
behind as they drive away, each carrying a French plate (`relecture.synth.plates`), and the
clip's frames encoded as H.264. The bundled sample footage (scripts/render_sample_footage.py)
and the rendered plate clips of `relecture eval plates --rendered --video` are drawn here.
Rendering is deterministic (fixed seeds, no clock); only the H.264 bytes may differ across
x264 builds.

Geometry: a pinhole camera over a flat road. A point `lat` metres right of the camera, `z`
metres high and `d` metres ahead projects to x = vx + f*lat/d, y = horizon + (f*h - f*z)/d,
with `h` the camera height: road edges and facades converge on (vx, horizon) and a vehicle's
rear face, parallel to the picture, is only scaled by f/d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from relecture.synth.plates import PlateSpec, plate_font_path, render_plate, render_spec

WIDTH, HEIGHT, FPS = 1280, 720, 25
FADE_WIDTH_PX = 48  # a vehicle whose rear is narrower than this fades into the distance
MIN_VIEW_WIDTH_PX = 140  # "in view" in expected.json: wholly inside the frame and this wide
PLATE_W_M, PLATE_H_M, PLATE_Z_M = 0.62, 0.131, 0.40  # the plate as drawn on a car's rear


@dataclass(frozen=True)
class Vehicle:
    """One vehicle's passage: what it is and when it leaves the bottom of the picture."""

    kind: str  # a key of DIMENSIONS
    colour: str  # colour name, as a witness would say it
    bgr: tuple[int, int, int]
    plate: str  # as written on the plate, e.g. "GH-482-KT"
    department: str  # number on the plate's right-hand band
    depart_s: float  # seconds into the clip when it starts pulling away from under the camera
    speed: float = 2.5  # m/s at departure
    accel: float = 0.8  # m/s^2
    lane: float = 1.7  # lateral position of its centre, metres right of the camera
    plate_spec: PlateSpec | None = None  # any French plate; None: `plate` as a one-line SIV


@dataclass(frozen=True)
class Scene:
    """A camera's fixed view of its street."""

    camera: str
    seed: int
    vx: float  # vanishing point x (px)
    horizon: float  # vanishing point y (px)
    focal: float  # px
    height: float  # camera height (m)
    road: tuple[float, float]  # road edges, lateral metres
    centre_line: float
    facade_right: float  # lateral position of the building fronts on the right (m)
    facade_left: float
    facade_bgr: tuple[int, int, int]
    facade2_bgr: tuple[int, int, int]
    sky_top: tuple[int, int, int]
    sky_bottom: tuple[int, int, int]


@dataclass(frozen=True)
class Clip:
    """One output file: its path under the output folder (by the naming conventions)."""

    path: str
    start: datetime  # camera clock at the first frame
    duration_s: float
    scene: Scene
    vehicles: tuple[Vehicle, ...]
    crf: int = 23  # H.264 quality: higher is smaller and blurrier
    night: bool = False  # infrared greys, dark, gain noise; plates lit by their retro-reflection

    @property
    def frames(self) -> int:
        return round(self.duration_s * FPS)

# Vehicle bodies in metres: width, height, length; rear details are laid out per kind.
DIMENSIONS = {"car": (1.80, 1.46, 4.2)}


# ---------------------------------------------------------------- projection and drawing


def project(scene: Scene, lat: float, z: float, d: float) -> tuple[float, float]:
    """Picture position of a 3D point (see module docstring)."""
    return (scene.vx + scene.focal * lat / d,
            scene.horizon + scene.focal * (scene.height - z) / d)


def fill(img: np.ndarray, pts, top, bottom=None, alpha: float = 1.0) -> None:
    """Anti-aliased polygon on a float BGR image, with a vertical colour gradient."""
    import cv2

    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    h, w = img.shape[:2]
    x0, y0 = np.floor(pts.min(0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    mask = np.zeros((cy1 - cy0, cx1 - cx0), np.uint8)
    local = np.round((pts - (cx0, cy0)) * 16).astype(np.int32)
    cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, shift=4)
    a = mask.astype(np.float32)[..., None] * (alpha / 255.0)
    if bottom is None:
        colour = np.asarray(top, np.float32)
    else:
        rows = (np.arange(cy0, cy1, dtype=np.float32) - y0) / max(1.0, y1 - y0)
        colour = (np.asarray(top, np.float32) * (1 - rows[:, None])
                  + np.asarray(bottom, np.float32) * rows[:, None])[:, None, :]
    roi = img[cy0:cy1, cx0:cx1]
    roi[:] = roi * (1 - a) + colour * a


def shade(bgr, factor: float) -> tuple[float, float, float]:
    """A colour made lighter (factor > 1, towards white) or darker (factor < 1)."""
    c = np.asarray(bgr, np.float32)
    out = c * factor if factor <= 1 else c + (255 - c) * (factor - 1)
    return tuple(float(v) for v in np.clip(out, 0, 255))


# ---------------------------------------------------------------- the static scene


def render_background(scene: Scene) -> np.ndarray:
    """The empty street, as float32 BGR."""
    rng = np.random.default_rng(scene.seed)
    img = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    fill(img, [(0, 0), (WIDTH, 0), (WIDTH, scene.horizon + 40), (0, scene.horizon + 40)],
         scene.sky_top, scene.sky_bottom)
    far, near = 400.0, 0.8

    def quad(lat0, lat1, z0, z1, d0, d1, top, bottom=None, on="ground"):
        if on == "ground":
            p = [project(scene, lat0, z0, d0), project(scene, lat1, z0, d0),
                 project(scene, lat1, z0, d1), project(scene, lat0, z0, d1)]
        else:  # a vertical plane at lateral lat0 from d0 to d1, z0..z1
            p = [project(scene, lat0, z0, d0), project(scene, lat0, z1, d0),
                 project(scene, lat0, z1, d1), project(scene, lat0, z0, d1)]
        fill(img, p, top, bottom)

    # Pavements, kerbs, road, lane markings.
    left, right = scene.road
    quad(scene.facade_left, left, 0.15, 0.15, near, far, (150, 152, 155), (120, 124, 128))
    quad(right, scene.facade_right, 0.15, 0.15, near, far, (158, 160, 162), (125, 128, 131))
    quad(left, left, 0.0, 0.15, near, far, (175, 178, 180), on="wall")
    quad(right, right, 0.0, 0.15, near, far, (120, 122, 125), on="wall")
    quad(left, right, 0.0, 0.0, near, far, (92, 94, 96), (70, 72, 74))
    for lat in (left + 0.35, right - 0.35):
        quad(lat - 0.06, lat + 0.06, 0.0, 0.0, near, far, (215, 218, 220))
    for d in np.arange(1.0, far, 9.0):
        quad(scene.centre_line - 0.07, scene.centre_line + 0.07, 0.0, 0.0, d, d + 4.5,
             (225, 228, 230))
    # Asphalt texture: patches and cracks, fixed per camera.
    for _ in range(60):
        lat = rng.uniform(left, right)
        d = float(np.exp(rng.uniform(np.log(2.0), np.log(60.0))))
        size = rng.uniform(0.3, 1.6)
        tone = rng.uniform(72, 92)  # patched asphalt: a shade off the road's own grey
        quad(lat, lat + size, 0.0, 0.0, d, d + size * 1.5, (tone, tone + 1, tone + 2))

    # Buildings: facades with storeys of windows, and a shop front on the ground floor.
    for lat, base in ((scene.facade_right, scene.facade_bgr),
                      (scene.facade_left, scene.facade2_bgr)):
        d = 2.0
        while d < 150.0:
            width = rng.uniform(8.0, 14.0)
            tone = shade(base, rng.uniform(0.85, 1.1))
            storeys = int(rng.integers(3, 6))
            top = 3.0 * storeys + 1.0
            quad(lat, lat, 0.0, top, d, d + width, shade(tone, 1.08), shade(tone, 0.85), on="wall")
            quad(lat, lat, 0.0, 0.25, d, d + width, (70, 72, 75), on="wall")
            quad(lat, lat, 0.5, 2.7, d + 0.8, d + width - 0.8, (60, 62, 64), (95, 92, 88),
                 on="wall")
            for s in range(1, storeys):
                for wd in np.arange(d + 1.0, d + width - 1.2, 2.2):
                    quad(lat, lat, 3.0 * s + 0.8, 3.0 * s + 2.3, wd, wd + 1.1,
                         (130, 115, 95), (70, 62, 55), on="wall")
            quad(lat, lat, top - 0.4, top, d, d + width, shade(tone, 0.7), on="wall")
            d += width
    # Soft vignetting, as cheap CCTV lenses have.
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    r2 = ((xx - WIDTH / 2) / WIDTH) ** 2 + ((yy - HEIGHT / 2) / HEIGHT) ** 2
    img *= (1.0 - 0.35 * r2)[..., None]
    return img


# ---------------------------------------------------------------- plates


def paste_image(img: np.ndarray, sprite: np.ndarray, x0: float, y0: float, x1: float,
                y1: float) -> None:
    """Scale `sprite` (BGR uint8) into the picture rectangle (x0, y0)-(x1, y1), sub-pixel."""
    import cv2

    h, w = img.shape[:2]
    bx0, by0 = max(int(math.floor(x0)) - 1, 0), max(int(math.floor(y0)) - 1, 0)
    bx1, by1 = min(int(math.ceil(x1)) + 2, w), min(int(math.ceil(y1)) + 2, h)
    if bx0 >= bx1 or by0 >= by1:
        return
    sx, sy = (x1 - x0) / sprite.shape[1], (y1 - y0) / sprite.shape[0]
    # Pre-shrink with area averaging, then place sub-pixel with a bilinear affine warp.
    small = cv2.resize(sprite, (max(2, round(sprite.shape[1] * sx)),
                                max(2, round(sprite.shape[0] * sy))), interpolation=cv2.INTER_AREA)
    m = np.float32([[(x1 - x0) / small.shape[1], 0, x0 - bx0],
                    [0, (y1 - y0) / small.shape[0], y0 - by0]])
    size = (bx1 - bx0, by1 - by0)
    warped = cv2.warpAffine(small.astype(np.float32), m, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones(small.shape[:2], np.float32), m, size, flags=cv2.INTER_LINEAR)
    roi = img[by0:by1, bx0:bx1]
    roi[:] = roi * (1 - mask[..., None]) + warped * mask[..., None]


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


