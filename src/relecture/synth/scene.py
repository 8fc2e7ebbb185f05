"""The parts of a drawn CCTV street that do not move: picture size, the scene, vehicle and
clip declarations, the pinhole projection and the drawing primitives (filled polygons with
a vertical gradient, shading, the static background, pasting a sprite sub-pixel).
`street.py` moves vehicles through a scene and encodes the clip.

Geometry: a pinhole camera over a flat road. A point `lat` metres right of the camera, `z`
metres high and `d` metres ahead projects to x = vx + f*lat/d, y = horizon + (f*h - f*z)/d,
with `h` the camera height: road edges and facades converge on (vx, horizon) and a vehicle's
rear face, parallel to the picture, is only scaled by f/d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from relecture.synth.plates import PlateSpec

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


# ---------------------------------------------------------------- sprites


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
