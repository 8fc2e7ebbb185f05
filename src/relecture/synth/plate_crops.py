"""Plate crops the project draws to train the plate recogniser (`indexer/plate_recogniser.py`):
one plate (French SIV or FNI, or a foreign European layout; one or two lines; several fonts)
cut out as a plate detector's box would cut it (loose, off-centre, a little tilted), at the
sizes CCTV shows plates (12-72 px high; larger ones are shrunk to the recogniser's input anyway), blurred, noisy, compressed (JPEG or
H.264), at night or with glare. Sample k of a seed is always the same picture.

Nothing here comes from real photos: the recogniser is trained on these only.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relecture.synth.conditions import h264_round_trip
from relecture.synth.plates import FONT_DIRS, PlateSpec, random_fni, random_siv, render_spec

# bold sans faces of Debian's DejaVu and Liberation fonts: no font is the plates' own
# (French plates use a dedicated face), so the recogniser must not learn one
FONTS = ("DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf",
         "LiberationSansNarrow-Bold.ttf", "LiberationSans-Bold.ttf", "LiberationMono-Bold.ttf")
FONT_DIRS_ALL = (*FONT_DIRS, Path("/usr/share/fonts/truetype/liberation"))
# foreign layouts as written (L letter, D digit, space where the plate has a gap), with
# their country letters on the EU band
FOREIGN = (("LL DDD LL", "SK"), ("DLD DDDD", "CZ"), ("DLL DDDD", "CZ"), ("LLL DDDD", "PL"),
           ("LL DD LLL", "GB"), ("LL L DDDD", "D"), ("L LL DDD", "D"), ("LL DDD LL", "HR"),
           ("LL DDDD LL", "HR"), ("LL DDDDD", "PL"), ("DD LLL D", "NL"), ("LL DDDD", "A"))
COUNTRY_PAPER = {"NL": "eu_yellow", "GB": "eu_yellow"}


@dataclass(frozen=True)
class PlateCrop:
    """One training picture: a detector-like crop around a plate, and the plate's text."""

    image: np.ndarray  # BGR uint8
    plate: str  # normalised: A-Z and 0-9 only


def available_fonts() -> list[Path]:
    """The fonts of FONTS installed here (at least one: DejaVu is a dependency)."""
    found = [d / name for name in FONTS for d in FONT_DIRS_ALL if (d / name).is_file()]
    if not found:
        raise FileNotFoundError("no DejaVu or Liberation font: apt-get install fonts-dejavu-core "
                                "fonts-dejavu-extra fonts-liberation")
    return found


def random_spec(rng: np.random.Generator) -> PlateSpec:
    """A random plate: 40% SIV, 35% FNI (white, yellow, black), 25% foreign; a fifth of the
    French ones on two lines."""
    kind = rng.random()
    two = rng.random() < 0.2
    shape = str(rng.choice(["square", "moto"])) if two else "long"
    if kind < 0.40:
        text, dept = random_siv(rng)
        lines = (text[:6], text[7:]) if two else (text,)
        return PlateSpec(text.replace("-", ""), lines, "siv", shape, dept)
    if kind < 0.75:
        number, letters, dept = random_fni(rng)
        style = str(rng.choice(["fni_white", "fni_yellow", "fni_black"], p=[0.5, 0.3, 0.2]))
        lines = ((f"{number} {letters}", dept) if two and rng.random() < 0.5
                 else (number, f"{letters} {dept}") if two else (f"{number} {letters} {dept}",))
        return PlateSpec(number + letters + dept, lines, style, shape, dept)
    layout, country = FOREIGN[int(rng.integers(len(FOREIGN)))]
    written = "".join(rng.choice(list(string.ascii_uppercase)) if c == "L"
                      else rng.choice(list(string.digits)) if c == "D" else c for c in layout)
    dash = written.replace(" ", "-", 1) if rng.random() < 0.3 else written
    return PlateSpec(written.replace(" ", ""), (dash,), COUNTRY_PAPER.get(country, "eu_white"),
                     "long", "", country)


def plate_crop(spec: PlateSpec, font: Path, rng: np.random.Generator) -> PlateCrop:
    """`spec` drawn in `font`, seen small and degraded, cut out as a detector's box."""
    import cv2

    plate = render_spec(spec, font)
    aspect = plate.shape[1] / plate.shape[0]
    ph = int(np.exp(rng.uniform(np.log(12), np.log(72))))
    pw = max(8, int(round(ph * aspect * rng.uniform(0.85, 1.1))))
    small = cv2.resize(plate, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
    mx, my = int(0.3 * pw) + 4, int(0.6 * ph) + 4
    canvas = _surround(ph + 2 * my, pw + 2 * mx, rng)
    canvas[my:my + ph, mx:mx + pw] = small * rng.uniform(0.75, 1.1)  # exposure
    corners = np.float32([[mx, my], [mx + pw, my], [mx + pw, my + ph], [mx, my + ph]])
    canvas, corners = _warp(canvas, corners, ph, rng)
    canvas = _degrade(canvas, corners, rng)
    x1, y1 = corners.min(axis=0)
    x2, y2 = corners.max(axis=0)
    bw, bh = x2 - x1, y2 - y1
    # a detector's box: loose or tight by a few percent on each side, independently
    box = (x1 - bw * rng.uniform(-0.04, 0.12), y1 - bh * rng.uniform(-0.08, 0.3),
           x2 + bw * rng.uniform(-0.04, 0.12), y2 + bh * rng.uniform(-0.08, 0.3))
    h, w = canvas.shape[:2]
    cx1, cy1 = max(0, int(box[0])), max(0, int(box[1]))
    cx2, cy2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    return PlateCrop(np.ascontiguousarray(canvas[cy1:cy2, cx1:cx2]), spec.plate)


def _surround(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A car body around the plate: a colour with a vertical gradient and texture."""
    colour = rng.uniform(15, 240, 3).astype(np.float32)
    rows = np.linspace(rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.1), h, dtype=np.float32)
    img = np.ones((h, w, 3), np.float32) * colour * rows[:, None, None]
    return img + rng.normal(0, rng.uniform(1, 8), (h, w))[..., None]


def _warp(img: np.ndarray, corners: np.ndarray, ph: int, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """A random homography (tilt, yaw, a little rotation) applied to the picture and to the
    plate's corners."""
    import cv2

    h, w = img.shape[:2]
    strength = rng.choice([0.0, rng.uniform(0.0, 0.5), rng.uniform(0.5, 1.0)])
    pw = corners[1, 0] - corners[0, 0]
    jitter = rng.uniform(-1, 1, (4, 2)).astype(np.float32) * strength
    jitter[:, 0] *= 0.12 * pw
    jitter[:, 1] *= 0.25 * ph
    rot = np.deg2rad(rng.uniform(-6, 6) * strength)
    centre = corners.mean(axis=0)
    r = np.float32([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    moved = (corners - centre) @ r.T + centre + jitter
    m = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    return out, moved


def _degrade(img: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur, night (dark, grey, noisy, the plate lit), glare, sensor noise, then JPEG or
    one-frame H.264, as `synth/conditions.py` does to whole cars."""
    import cv2

    x1, y1 = np.maximum(corners.min(axis=0).astype(int), 0)
    x2, y2 = corners.max(axis=0).astype(int)
    # blur beyond a twentieth of the plate's height leaves nothing to read: not a lesson
    sigma = min(rng.choice([0.0, rng.uniform(0.3, 1.0), rng.uniform(1.0, 2.0)]), (y2 - y1) / 20)
    if sigma > 0.2:
        img = cv2.GaussianBlur(img, (0, 0), float(sigma))
    if rng.random() < 0.25:
        grey = img.mean(axis=2, keepdims=True)
        lit = 0.3 * img + 0.7 * grey
        dark = rng.uniform(0.15, 0.35)
        img = lit * dark
        img[y1:y2, x1:x2] = lit[y1:y2, x1:x2] * min(1.0, dark * rng.uniform(2.0, 3.5))
        img = img + rng.normal(0, rng.uniform(5, 12), img.shape[:2])[..., None]
    if rng.random() < 0.15:
        h, w = img.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx = x1 + rng.uniform(-0.2, 1.2) * (x2 - x1)
        cy = (y1 + y2) / 2 + rng.uniform(-1, 1) * (y2 - y1)
        radius = rng.uniform(0.6, 1.5) * (y2 - y1)
        img = img + rng.uniform(80, 180) * np.exp(
            -((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius ** 2))[..., None]
    img = img + rng.normal(0, 2.0, img.shape[:2])[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    codec = rng.random()
    if codec < 0.4:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        out = cv2.imdecode(data, cv2.IMREAD_COLOR)
    elif codec < 0.55:
        h, w = out.shape[:2]
        out = h264_round_trip(out[: h // 2 * 2, : w // 2 * 2].copy(), int(rng.integers(23, 37)))
    return out


def training_crop(seed: int, k: int, fonts: list[Path]) -> PlateCrop:
    """Sample `k` of the training set of `seed` (it depends only on those two)."""
    rng = np.random.default_rng([seed, k])
    spec = random_spec(rng)
    return plate_crop(spec, fonts[int(rng.integers(len(fonts)))], rng)
