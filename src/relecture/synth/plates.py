"""French licence plates drawn by the project (no third-party pictures): SIV and FNI, on one
line (520 x 110 mm) or two (square rear plates 275 x 200 mm, motorcycles 210 x 130 mm), at
2 px per mm, as BGR uint8. Used by the sample-footage renderer and the rendered plate set.

Styles: `siv` white with the EU band (F) left and a department band right; FNI plates are
`fni_white` (EU band left, since 1993), `fni_yellow` (rear plates before 2009, no band) or
`fni_black` (silver characters on black, vehicles from before 1993). Foreign plates (only
for training the plate recogniser, `synth/plate_crops.py`): `eu_white` and `eu_yellow`, the
EU band with the country's letters on the left and nothing on the right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relecture.plate_grammar import SIV_LETTERS

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
PLATE_FONT = "DejaVuSansCondensed-Bold.ttf"  # Debian fonts-dejavu-extra
PLATE_FONT_FALLBACK = "DejaVuSans-Bold.ttf"  # Debian fonts-dejavu-core
SHAPES = {"long": (1040, 220), "square": (550, 400), "moto": (420, 260)}  # px at 2 px/mm
BLUE = (0, 51, 153)  # RGB
STYLES = {"siv": ((250, 250, 247), (15, 15, 15)), "fni_white": ((250, 250, 247), (15, 15, 15)),
          "fni_yellow": ((250, 200, 20), (15, 15, 15)), "fni_black": ((22, 22, 24), (225, 225, 220)),
          "eu_white": ((250, 250, 247), (15, 15, 15)), "eu_yellow": ((250, 200, 20), (15, 15, 15))}
BANDED = ("siv", "fni_white", "eu_white", "eu_yellow")  # styles with the EU band on the left
_LETTERS = sorted(SIV_LETTERS)
_DEPARTMENTS = ([f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B"]
                + [str(d) for d in range(971, 977)])


@dataclass(frozen=True)
class PlateSpec:
    """What one plate shows: its normalised text, and how it is written and drawn."""

    plate: str  # normalised, as a label: "1234AB56"
    lines: tuple[str, ...]  # as written, one entry per line: ("1234 AB", "56")
    style: str  # a key of STYLES
    shape: str  # a key of SHAPES
    department: str  # the department band's number (SIV), or the FNI department
    country: str = "F"  # the letters on the EU band


def plate_font_path() -> Path:
    """The TrueType font for plate characters (Debian's DejaVu fonts)."""
    for name in (PLATE_FONT, PLATE_FONT_FALLBACK):
        for folder in FONT_DIRS:
            if (folder / name).is_file():
                return folder / name
    raise FileNotFoundError("no DejaVu font found: apt-get install fonts-dejavu-core "
                            "fonts-dejavu-extra")


def random_siv(rng: np.random.Generator) -> tuple[str, str]:
    """A valid SIV plate (no SS, no WW second block, no 000) and a department for its band."""
    while True:
        a, b = (rng.choice(_LETTERS) + rng.choice(_LETTERS) for _ in range(2))
        digits = f"{int(rng.integers(1, 1000)):03d}"
        if a != "SS" and b not in ("SS", "WW"):
            return f"{a}-{digits}-{b}", str(rng.choice(_DEPARTMENTS))


def random_fni(rng: np.random.Generator) -> tuple[str, str, str]:
    """A valid FNI plate: (number, series letters, department), with 1-4 digits, 1-3 letters
    (mostly 2, as on most of the road) and departments from the whole range."""
    digits = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.2, 0.3, 0.4]))
    number = str(int(rng.integers(10 ** (digits - 1), 10 ** digits)))
    while True:
        n = int(rng.choice([1, 2, 3], p=[0.15, 0.65, 0.2]))
        letters = "".join(rng.choice(_LETTERS) for _ in range(n))
        if letters not in ("SS", "WW"):
            break
    return number, letters, str(rng.choice(_DEPARTMENTS))


def render_plate(text: str, department: str, font: Path) -> np.ndarray:
    """A French SIV plate on one line (520 x 110 mm, 2 px per mm) as BGR uint8."""
    from PIL import Image, ImageDraw

    w, h, band = 1040, 220, 92
    im = Image.new("RGB", (w, h), (250, 250, 247))
    dr = ImageDraw.Draw(im)
    dr.rounded_rectangle([0, 0, w - 1, h - 1], radius=16, outline=(25, 25, 25), width=5)
    _bands(dr, w, h, band, department, font, right=True)
    _text_line(im, text, font, 172, (band + 20, w - band - 20), h / 2, (15, 15, 15))
    return np.asarray(im)[:, :, ::-1].copy()


def render_spec(spec: PlateSpec, font: Path) -> np.ndarray:
    """Any plate of `PlateSpec` as BGR uint8."""
    from PIL import Image, ImageDraw

    if spec.style == "siv" and spec.shape == "long":
        return render_plate(spec.lines[0], spec.department, font)
    w, h = SHAPES[spec.shape]
    paper, ink = STYLES[spec.style]
    im = Image.new("RGB", (w, h), paper)
    dr = ImageDraw.Draw(im)
    dr.rounded_rectangle([0, 0, w - 1, h - 1], radius=16, outline=(25, 25, 25), width=5)
    band = 92 if spec.shape == "long" else 70
    if spec.style in BANDED:
        _bands(dr, w, h, band, spec.department, font, right=spec.style == "siv",
               country=spec.country)
    left = band + 14 if spec.style in BANDED else 24
    right = w - band - 14 if spec.style == "siv" else w - 24
    rows = len(spec.lines)
    size = int(0.78 * h / rows) if rows > 1 else 172
    for k, line in enumerate(spec.lines):
        _text_line(im, line, font, size, (left, right), h * (k + 0.5) / rows, ink)
    return np.asarray(im)[:, :, ::-1].copy()


def _bands(dr, w: int, h: int, band: int, department: str, font: Path, right: bool,
           country: str = "F") -> None:
    """The blue EU band (stars, the country's letters) on the left and, for SIV, the
    department band on the right (regional logo and number)."""
    from PIL import ImageFont

    scale = h / 220 if h < 220 else 1.0
    dr.rounded_rectangle([5, 5, band, h - 6], radius=10, fill=BLUE)
    cx0, cy0 = band / 2 + 3, 60 * scale
    for i in range(12):  # EU stars
        a = 2 * math.pi * i / 12
        cx, cy = cx0 + 24 * scale * math.cos(a), cy0 + 24 * scale * math.sin(a)
        r = 4 * scale
        dr.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 204, 0))
    size = int((64 if len(country) == 1 else 40) * scale)  # two or three letters fit the band
    dr.text((cx0, h - 55 * scale), country, font=ImageFont.truetype(str(font), size),
            fill="white", anchor="mm")
    if not right:
        return
    dr.rounded_rectangle([w - band - 1, 5, w - 6, h - 6], radius=10, fill=BLUE)
    mid = w - band / 2
    dr.text((mid - 3, h - 60 * scale), department,
            font=ImageFont.truetype(str(font), int(56 * scale)), fill="white", anchor="mm")
    dr.ellipse([mid - 26 * scale, 30 * scale, mid + 20 * scale, 76 * scale], fill=(255, 255, 255))
    dr.ellipse([mid - 12 * scale, 42 * scale, mid + 8 * scale, 62 * scale], fill=(200, 30, 40))


def _text_line(im, text: str, font: Path, size: int, span: tuple[float, float], cy: float,
               ink: tuple[int, int, int]) -> None:
    """One line of plate characters, centred in `span` (x) at height `cy`, squeezed to fit."""
    from PIL import Image, ImageDraw, ImageFont

    big = ImageFont.truetype(str(font), size)
    dr = ImageDraw.Draw(im)
    bbox = dr.textbbox((0, 0), text, font=big)
    free = span[1] - span[0]
    squeeze = min(1.0, free / (bbox[2] - bbox[0]))
    tall = int(round(size * 1.28))
    txt = Image.new("L", (bbox[2] - bbox[0] + 8, tall), 0)
    ImageDraw.Draw(txt).text((4 - bbox[0], tall / 2), text, font=big, fill=255, anchor="lm")
    txt = txt.resize((max(1, int(txt.width * squeeze)), tall), Image.LANCZOS)
    colour = Image.new("RGB", txt.size, ink)
    im.paste(colour, (int((span[0] + span[1]) / 2 - txt.width / 2), int(cy - tall / 2)), txt)
