"""A drawn plate put on a vehicle's rear and seen as CCTV sees it: small (20-60 px high),
in perspective, blurred, compressed (JPEG or H.264), at night with sensor noise, or with a
headlight's glare. Everything is drawn from one random generator, so a seed gives the same
pictures every time (x264 runs on one thread)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLATE_MM = {"long": (520, 110), "square": (275, 200), "moto": (210, 130)}
REAR_MM = (1800, 1400)  # the rear of a car, as the detector would crop it
PLATE_Z_MM = 400  # plate centre above the bottom of the crop


@dataclass(frozen=True)
class Conditions:
    """How one plate is seen."""

    height_px: int  # plate height in the picture
    perspective: float  # 0 (facing the camera) to 1 (strong tilt and yaw)
    blur: float  # gaussian sigma in pixels, after scaling
    codec: str  # "none", "jpeg" or "h264"
    quality: int  # JPEG quality or H.264 CRF (0 when codec is "none")
    night: bool  # dark, noisy, colour mostly lost (infrared)
    glare: bool  # a headlight's bloom next to the plate

    def tags(self) -> dict[str, str]:
        """The condition names evaluation groups its results by."""
        return {
            "height": "20-24" if self.height_px < 25 else "25-34" if self.height_px < 35 else "35-60",
            "perspective": "none" if self.perspective < 0.1 else "mild" if self.perspective < 0.6 else "strong",
            "blur": "none" if self.blur < 0.3 else "mild" if self.blur < 1.0 else "strong",
            "codec": self.codec,
            "night": "yes" if self.night else "no",
            "glare": "yes" if self.glare else "no",
        }


def draw_conditions(rng: np.random.Generator) -> Conditions:
    """Random conditions, each factor drawn on its own so that every one is represented."""
    codec = str(rng.choice(["none", "jpeg", "h264"], p=[0.2, 0.4, 0.4]))
    quality = {"none": 0, "jpeg": int(rng.integers(25, 61)), "h264": int(rng.integers(26, 37))}
    return Conditions(
        height_px=int(rng.integers(20, 61)),
        perspective=float(rng.choice([0.0, rng.uniform(0.1, 0.6), rng.uniform(0.6, 1.0)])),
        blur=float(rng.choice([0.0, rng.uniform(0.3, 1.0), rng.uniform(1.0, 1.6)])),
        codec=codec, quality=quality[codec],
        night=bool(rng.random() < 0.25), glare=bool(rng.random() < 0.2),
    )


def vehicle_rear(plate: np.ndarray, shape: str, cond: Conditions,
                 rng: np.random.Generator) -> np.ndarray:
    """A car's rear (BGR uint8) carrying `plate` (drawn at any size, of `shape`), seen in
    `cond`."""
    import cv2

    per_mm = cond.height_px / PLATE_MM[shape][1]
    w, h = int(REAR_MM[0] * per_mm) // 2 * 2, int(REAR_MM[1] * per_mm) // 2 * 2
    img = _body(w, h, rng)
    pw, ph = max(4, round(PLATE_MM[shape][0] * per_mm)), cond.height_px
    small = cv2.resize(plate, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
    x0 = (w - pw) // 2 + int(rng.integers(-pw // 8, pw // 8 + 1))
    y0 = h - int(PLATE_Z_MM * per_mm) - ph // 2
    img[y0:y0 + ph, x0:x0 + pw] = small
    if cond.perspective:
        img = _perspective(img, cond.perspective, rng)
    if cond.blur:
        img = cv2.GaussianBlur(img, (0, 0), cond.blur)
    if cond.night:
        img = _night(img, (x0, y0, x0 + pw, y0 + ph), rng)
    if cond.glare:
        img = _glare(img, (x0, y0, x0 + pw, y0 + ph), rng)
    img += rng.normal(0.0, 2.0, img.shape[:2])[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    if cond.codec == "jpeg":
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, cond.quality])
        out = cv2.imdecode(data, cv2.IMREAD_COLOR)
    elif cond.codec == "h264":
        out = h264_round_trip(out, cond.quality)
    return out


def _body(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A car's rear in a random colour: body, rear window, bumper, tail lights."""
    colour = rng.uniform(20, 235, 3).astype(np.float32)
    rows = np.linspace(1.1, 0.75, h, dtype=np.float32)[:, None, None]
    img = np.clip(np.ones((h, w, 3), np.float32) * colour * rows, 0, 255)
    img[: int(0.35 * h), int(0.12 * w): int(0.88 * w)] = rng.uniform(25, 70)  # rear window
    img[int(0.8 * h): int(0.9 * h)] = rng.uniform(20, 50)  # bumper
    lamp = (40.0, 40.0, 200.0)
    for x in (int(0.03 * w), int(0.82 * w)):
        img[int(0.45 * h): int(0.55 * h), x: x + int(0.15 * w)] = lamp
    return img


def _perspective(img: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Keystone and yaw: a camera above and to the side of the vehicle."""
    import cv2

    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    tilt = strength * 0.18 * w  # the top, farther from a camera above, looks narrower
    yaw = strength * 0.15 * h * rng.choice([-1, 1])  # the far side looks shorter
    dst = np.float32([[tilt, max(0, yaw)], [w - tilt, max(0, -yaw)],
                      [w, h - max(0, -yaw)], [0, h - max(0, yaw)]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _night(img: np.ndarray, plate_box, rng: np.random.Generator) -> np.ndarray:
    """Dark scene, lit plate (its lamp and retro-reflection), infrared greys, gain noise."""
    grey = img.mean(axis=2, keepdims=True)
    img = 0.3 * img + 0.7 * grey  # an infrared-switched camera keeps little colour
    dark = rng.uniform(0.15, 0.35)
    out = img * dark
    x0, y0, x1, y1 = plate_box
    out[y0:y1, x0:x1] = img[y0:y1, x0:x1] * min(1.0, dark * 2.5)
    return out + rng.normal(0.0, rng.uniform(6, 12), img.shape[:2])[..., None]


def _glare(img: np.ndarray, plate_box, rng: np.random.Generator) -> np.ndarray:
    """A headlight's bloom beside the plate, spilling onto one end of it."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = plate_box
    ph = y1 - y0
    cx = x0 - 0.6 * ph if rng.random() < 0.5 else x1 + 0.6 * ph
    cy = (y0 + y1) / 2 + rng.uniform(-0.8, 0.8) * ph
    radius = rng.uniform(0.6, 1.2) * ph
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bloom = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius ** 2))
    return img + rng.uniform(180, 260) * bloom[..., None]


def h264_round_trip(img: np.ndarray, crf: int) -> np.ndarray:
    """`img` (even width and height) encoded as one H.264 frame at `crf` and decoded back."""
    import io

    import av

    h, w = img.shape[:2]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buf.seek(0)
    with av.open(buf) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="bgr24")
