"""Name the body colour of a vehicle from its crops (rule-based, no training).

A detector crop holds more than paint: windows and tyres (dark), road and sky at the
edges, specular highlights (white), shadows. So:

1. each crop is shrunk to `size` pixels and weighted towards its centre and lower-middle,
   where the doors, bonnet or boot are (windows sit high, road and shadow low and at the
   sides); lamps (small vivid red to amber patches: tail lights, indicators, reflectors,
   which sit right in that lower middle on a rear view) are left out altogether;
2. every pixel gets a colour name from its HSV values (hue for chromatic pixels,
   brightness for achromatic ones), with very dark and very bright pixels down-weighted
   because every car has them whatever its paint (tyres, windows, glare);
3. the weighted votes of all crops are summed; a chromatic colour wins as soon as it
   holds a sizeable share (`chroma_share`) of the votes, since background and glass are
   mostly achromatic and a coloured body rarely is; otherwise the achromatic names
   compete, with the brightness spread deciding between white, silver, grey and black;
4. a muted body (dark brown, beige, dusky pink) has few pixels past the chroma threshold
   but a consistent tint: the weighted mean of CIELAB (a, b) names it. Blue to magenta
   tints must be stronger: sky reflections tint greys blue, and the chroma noise of
   compressed video tints whole crops, dark and bright, faintly magenta. A dark brown body
   may average to a very faint tint once its black tyres and windows are counted, so a
   warm tint is also accepted when most pixels carry a faint cast pointing its way
   (reflections of a black or grey body scatter their casts, or tint it blue);
5. shade darkens a yellow or orange body into brown pixels, so brown votes join a lighter
   warm name that holds a good share of them.

Grey and silver differ by brightness only (silver: light metallic grey); evaluations
report them both strictly and merged.

Besides the name, every result carries the evidence as a distribution over COLOURS
(`distribution`): the same rules made soft, so that a body near a threshold (a dark grey
named black, a chromatic share just over `chroma_share`) keeps mass on the other side. The
search ranks by the probability of the colour asked, not by the name alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from relecture.indexer.colour_views import (
    NO_SURROUNDINGS, ColourView, SurroundConfig, Surroundings, balance, body_weights,
    read_surroundings,
)
from relecture.sightings import ColourResult

CHROMATIC = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "beige")
ACHROMATIC = ("black", "grey", "silver", "white")
# CIELAB hue angles (degrees) of warm casts: browns, bronzes, beiges.
WARM_CAST = (20.0, 100.0)
# CIELAB hue angles of the casts that greys pick up: blue from the sky, magenta from H.264
# chroma noise (dusky pink paint lies past the end, nearer red).
COOL_CAST = (200.0, 340.0)
# HSV hues (degrees) of lamps: red through amber, wrapping round 0.
LAMP_HUES = (330.0, 40.0)
CAST_SPREAD = 35.0  # a pixel's cast agrees with a tint within this many degrees of hue
COLOURS: tuple[str, ...] = CHROMATIC + ACHROMATIC


@dataclass(frozen=True)
class ColourConfig:
    """Thresholds of the pixel rules (HSV: hue in degrees, s and v in [0, 1])."""

    size: int = 64  # crops are resized to size x size before voting
    centre_y: float = 0.55  # weight centre, fraction of the height from the top
    sigma_x: float = 0.28  # Gaussian weight spread, fractions of the width and height
    sigma_y: float = 0.25
    chroma_min: float = 12.0  # a pixel has a hue from this CIELAB chroma (0-~130)
    dark_v: float = 0.15  # below this brightness a hue is unreliable (shadow, tyre)
    chroma_share: float = 0.25  # a chromatic colour wins with this share of the votes
    black_median: float = 0.35  # achromatic body: median brightness below this is black
    white_q90: float = 0.92  # 90th brightness percentile from this is white
    silver_median: float = 0.45  # between the two, median brightness from this is silver
    silver_q90: float = 0.85  # ...or the 90th brightness percentile from this (highlights)
    second_margin: float = 0.05  # name a second choice within this of a threshold
    tint_min: float = 5.0  # mean CIELAB (a, b) of the body this long: a muted colour
    cool_tint_min: float = 10.0  # the same for COOL_CAST hues (sky, video chroma noise)
    cast_chroma: float = 3.0  # a pixel carries a faint colour cast from this CIELAB chroma
    cast_min_v: float = 0.10  # darker pixels have no reliable cast (noise, black trim)
    cast_agree: float = 0.5  # a warm tint holds when this share of pixels has its cast
    shade_ratio: float = 0.5  # brown is the shade of yellow/orange holding this of its votes
    lamp_chroma: float = 25.0  # a lamp's pixels are vivid: CIELAB chroma from this
    lamp_area: float = 0.05  # a lamp covers less than this share of the crop (one patch)
    # The distribution's softness: the brightness statistics within about `second_margin`
    # of a threshold, and the chromatic strength within `soft_strength` of 1, share mass.
    soft_strength: float = 0.25
    tint_mass: float = 0.5  # a muted tint's share of the non-chromatic mass (its confidence)
    # A light body behind dark glass: when this share of the weight is at least `light_v`
    # bright, a dark median is windows, grille and shadow, not black paint (a black car's
    # glare covers under 0.1 of it on the labelled videos, a white van's paint 0.2-0.3).
    light_v: float = 0.7
    light_share: float = 0.2
    surround: SurroundConfig = field(default_factory=SurroundConfig)


@dataclass(frozen=True)
class Pixels:
    """The weighted pixels of one or more crops: colour name index (achromatic pixels
    get -1), brightness, CIELAB and weight."""

    names: np.ndarray
    value: np.ndarray
    lab: np.ndarray  # N x 3
    weight: np.ndarray


def centre_weights(height: int, width: int, config: ColourConfig) -> np.ndarray:
    """Gaussian weights peaking on the middle of the body, low on the borders."""
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width
    wy = np.exp(-0.5 * ((ys - config.centre_y) / config.sigma_y) ** 2)
    wx = np.exp(-0.5 * ((xs - 0.5) / config.sigma_x) ** 2)
    return np.outer(wy, wx)


def hue_names(hsv: np.ndarray, chroma: np.ndarray, config: ColourConfig) -> np.ndarray:
    """Index into CHROMATIC for every pixel with a reliable hue, -1 for the others.
    `chroma` is CIELAB chroma: unlike HSV saturation it stays small on dark greys."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    c = config
    names = np.zeros(h.shape, np.int64)  # red
    for lo, hi, name in (
        (12, 40, "orange"), (40, 70, "yellow"), (70, 170, "green"), (170, 260, "blue"),
        (260, 290, "purple"), (290, 340, "pink"),
    ):
        names[(h >= lo) & (h < hi)] = CHROMATIC.index(name)
    # Dark, muted warm hues are brown; light, muted reds are pink.
    names[(h >= 8) & (h < 50) & (v < 0.6) & (s < 0.75)] = CHROMATIC.index("brown")
    names[((h < 12) | (h >= 330)) & (s < 0.55) & (v >= 0.7)] = CHROMATIC.index("pink")
    names[(h >= 15) & (h < 60) & (s < 0.35) & (v >= 0.6)] = CHROMATIC.index("beige")
    coloured = (chroma >= c.chroma_min) & (v >= c.dark_v)
    return np.where(coloured, names, -1)


def lamp_mask(hsv: np.ndarray, chroma: np.ndarray, config: ColourConfig) -> np.ndarray:
    """The pixels of lamps: vivid red to amber patches each smaller than `lamp_area` of the
    crop. Tail lights, indicators and reflectors sit in the heavily weighted lower middle
    of a rear view and, being the most saturated pixels there, would otherwise vote
    (or tint) a silver or black car red, pink or purple. A red or orange body is one
    large patch and is kept."""
    import cv2

    h = hsv[..., 0]
    vivid = (chroma >= config.lamp_chroma) & ((h >= LAMP_HUES[0]) | (h < LAMP_HUES[1]))
    _, patches, stats, _ = cv2.connectedComponentsWithStats(vivid.astype(np.uint8), connectivity=8)
    return vivid & (stats[patches, cv2.CC_STAT_AREA] < config.lamp_area * vivid.size)


def crop_pixels(crop: np.ndarray, config: ColourConfig,
                surroundings: Surroundings = NO_SURROUNDINGS) -> Pixels:
    """The weighted, named pixels of one BGR crop (weights sum to 1, lamps and road-coloured
    pixels weigh 0), after the white balance its `surroundings` suggest."""
    import cv2

    small = cv2.resize(balance(crop, surroundings), (config.size, config.size),
                       interpolation=cv2.INTER_AREA)
    rgb = small[..., ::-1].astype(np.float32) / 255.0
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # float input: h in degrees, s and v in [0, 1]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)  # float input: a and b in about -128..127
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    weights = centre_weights(config.size, config.size, config) * ~lamp_mask(hsv, chroma, config)
    lab = lab.reshape(-1, 3)
    weights = body_weights(lab, weights.ravel(), surroundings, config.surround)
    return Pixels(
        names=hue_names(hsv, chroma, config).ravel(),
        value=hsv[..., 2].ravel(),
        lab=lab,
        weight=weights / weights.sum(),
    )


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The q-quantile of x under weights w."""
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    i = int(np.searchsorted(cum, q * cum[-1]))
    return float(x[order[min(i, len(x) - 1)]])


def brightness(pixels: Pixels, config: ColourConfig) -> tuple[float, float]:
    """The median and 90th percentile brightness the achromatic names are decided on. When
    the median is black but `light_share` of the weight is light (from `light_v`), the
    dark part is glass, grille and shadow around a light body (a white van seen from the
    front: windscreen and radiator take half of the box): the statistics are then those of
    the pixels from `black_median` up, the body."""
    median = weighted_quantile(pixels.value, pixels.weight, 0.5)
    q90 = weighted_quantile(pixels.value, pixels.weight, 0.9)
    light = float(pixels.weight[pixels.value >= config.light_v].sum() / pixels.weight.sum())
    if median < config.black_median and light >= config.light_share:
        lit = pixels.value >= config.black_median
        median = weighted_quantile(pixels.value[lit], pixels.weight[lit], 0.5)
        q90 = weighted_quantile(pixels.value[lit], pixels.weight[lit], 0.9)
    return median, q90


def achromatic(pixels: Pixels, config: ColourConfig) -> tuple[str, str | None, float]:
    """Black, grey, silver or white from the brightness spread (`brightness`); a
    neighbouring name when the deciding statistic lies within `second_margin` of its
    threshold; and a confidence growing with that distance."""
    c = config
    median, q90 = brightness(pixels, config)
    if median < c.black_median:
        name, near, gap = "black", "grey", c.black_median - median
    elif q90 >= c.white_q90:
        name, near, gap = "white", "silver", q90 - c.white_q90
    elif (lift := silver_lift(median, q90, c)) >= 0:
        name, near, gap = "silver", "grey", lift
    else:
        below, above = median - c.black_median, -lift
        name, near, gap = ("grey", "black", below) if below < above else ("grey", "silver", above)
    confidence = min(1.0, 0.5 + gap / (4 * c.second_margin))
    return name, (near if gap < c.second_margin else None), confidence


def silver_lift(median: float, q90: float, config: ColourConfig) -> float:
    """How far past silver a body that is neither black nor white is (negative: grey): its
    median from `silver_median`, or its highlights from `silver_q90`, whichever is further.
    Metallic paint keeps bright highlights at a grey-looking median; flat grey does not."""
    return max(median - config.silver_median, q90 - config.silver_q90)


def cast_agreement(pixels: Pixels, hue: float, config: ColourConfig) -> float:
    """The weighted share of pixels whose faint colour cast (CIELAB chroma from
    `cast_chroma`) lies within CAST_SPREAD degrees of `hue`. A muted paint casts the same
    way all over the body; the reflections on a black or grey body scatter. Pixels darker
    than `cast_min_v` (tyres, deep shadow) are left out: their cast is JPEG noise."""
    a, b = pixels.lab[:, 1], pixels.lab[:, 2]
    offset = np.abs((np.degrees(np.arctan2(b, a)) - hue + 180) % 360 - 180)
    lit = pixels.value >= config.cast_min_v
    agrees = lit & (np.hypot(a, b) >= config.cast_chroma) & (offset < CAST_SPREAD)
    return float(pixels.weight[agrees].sum() / max(float(pixels.weight[lit].sum()), 1e-9))


def tint_name(pixels: Pixels, config: ColourConfig) -> str | None:
    """The muted colour (brown, beige, dark green...) of a body whose pixels are mostly
    under `chroma_min` but share one hue: the weighted mean of CIELAB (a, b) cancels the
    random hue of greys and keeps a consistent tint. None when there is no clear tint."""
    import cv2

    w = pixels.weight / pixels.weight.sum()
    mean = (pixels.lab * w[:, None]).sum(axis=0)
    tint = float(np.hypot(mean[1], mean[2]))
    hue = float(np.degrees(np.arctan2(mean[2], mean[1])) % 360)
    cool = COOL_CAST[0] <= hue < COOL_CAST[1]
    weak = tint < (config.cool_tint_min if cool else config.tint_min)
    warm = WARM_CAST[0] <= hue < WARM_CAST[1]
    if weak and not (warm and cast_agreement(pixels, hue, config) >= config.cast_agree):
        return None
    # Name the tint through the pixel rules, on one pixel of the body's lightness whose
    # chroma is raised just past the threshold.
    scale = max(tint, config.chroma_min + 2.0) / tint
    pixel = np.array([[[mean[0], mean[1] * scale, mean[2] * scale]]], np.float32)
    rgb = np.clip(cv2.cvtColor(pixel, cv2.COLOR_LAB2RGB), 0, 1)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    chroma = np.array([[max(tint * scale, config.chroma_min)]], np.float32)
    # The mean is a tint, not a pixel: it is named even when dark (dark brown, dark green).
    index = int(hue_names(hsv, chroma, replace(config, dark_v=0.0))[0, 0])
    return CHROMATIC[index] if index >= 0 else None


def join_shade(shares: np.ndarray, config: ColourConfig) -> np.ndarray:
    """Shares with the brown votes added to yellow or orange when brown leads but that
    lighter name holds `shade_ratio` of its votes: shade turns a yellow or orange body
    into brown pixels (same hue, darker), whereas a brown body, lit, gives few bright
    yellow or orange ones. Brown keeps its own share, so it stays the runner-up."""
    brown = CHROMATIC.index("brown")
    lit = max((CHROMATIC.index("yellow"), CHROMATIC.index("orange")), key=lambda k: shares[k])
    if shares.argmax() != brown or shares[lit] < config.shade_ratio * shares[brown]:
        return shares
    joined = shares.copy()
    joined[lit] += shares[brown]
    return joined


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def achromatic_mass(pixels: Pixels, config: ColourConfig) -> dict[str, float]:
    """`achromatic` made soft: black, white, silver and grey in the order that function
    tests them, each taking a logistic share (scale `second_margin` / 2) of what the
    previous tests left, 0.5 exactly at a threshold. Sums to 1."""
    c, scale = config, config.second_margin / 2
    median, q90 = brightness(pixels, config)
    black = _sigmoid((c.black_median - median) / scale)
    white = (1 - black) * _sigmoid((q90 - c.white_q90) / scale)
    silver = (1 - black - white) * _sigmoid(silver_lift(median, q90, c) / scale)
    return {"black": black, "white": white, "silver": silver,
            "grey": 1 - black - white - silver}


def distribution(shares: np.ndarray, pixels: Pixels, tinted: str | None,
                 config: ColourConfig) -> tuple[tuple[str, float], ...]:
    """The probability of every name of COLOURS, most likely first (those under 0.005 left
    out). The chromatic names share a mass that is 0.5 where the strongest hue holds
    exactly `chroma_share` of the votes (where `decide` starts to name it), in proportion to
    their votes; a muted tint takes `tint_mass` of the rest; the achromatic names share what
    is left as `achromatic_mass` says."""
    total = float(shares.sum())
    chroma = _sigmoid((shares.max() / config.chroma_share - 1) / config.soft_strength) \
        if total > 0 else 0.0
    p = dict.fromkeys(COLOURS, 0.0)
    for k, name in enumerate(CHROMATIC):
        p[name] += chroma * float(shares[k]) / total if total > 0 else 0.0
    rest = 1.0 - chroma
    if tinted is not None:
        p[tinted] += rest * config.tint_mass
        rest *= 1 - config.tint_mass
    for name, mass in achromatic_mass(pixels, config).items():
        p[name] += rest * mass
    return tuple((n, round(v, 3)) for n, v in sorted(p.items(), key=lambda kv: -kv[1])
                 if v >= 0.005)


def decide(pixels: Pixels, config: ColourConfig) -> ColourResult:
    """The colour name, a runner-up when the choice is close, and the distribution."""
    shares = np.bincount(pixels.names[pixels.names >= 0], pixels.weight[pixels.names >= 0],
                         minlength=len(CHROMATIC)) / pixels.weight.sum()
    shares = join_shade(shares, config)
    strength = shares.max() / config.chroma_share
    tinted = tint_name(pixels, config) if strength < 1.0 else None
    return replace(name_from(shares, pixels, tinted, config),
                   distribution=distribution(shares, pixels, tinted, config))


def name_from(shares: np.ndarray, pixels: Pixels, tinted: str | None,
              config: ColourConfig) -> ColourResult:
    """The rules' colour name and runner-up from the hue shares (`tinted`: the muted
    colour `tint_name` found, looked for only when no hue wins)."""
    order = np.argsort(-shares, kind="stable")
    top, runner = int(order[0]), int(order[1])
    grey_name, grey_alt, grey_conf = achromatic(pixels, config)
    # Windows, tyres, road and glare are achromatic on every vehicle: a hue holding a
    # minority share of the crop is still the paint.
    strength = shares[top] / config.chroma_share
    if strength >= 1.0:
        alt, alt_conf = None, 0.0
        if shares[runner] >= 0.5 * shares[top]:
            alt, alt_conf = CHROMATIC[runner], float(shares[runner] / shares[top]) / 2
        elif strength < 1.5:
            alt, alt_conf = grey_name, 1.5 - float(strength)
        confidence = min(1.0, 0.5 + 0.5 * (strength - 1.0))
        return ColourResult(CHROMATIC[top], round(max(confidence, alt_conf), 3), alt,
                            round(alt_conf, 3))
    if tinted is not None:
        return ColourResult(tinted, 0.5, grey_name, 0.4)
    if strength >= 0.6:
        return ColourResult(grey_name, round(grey_conf * (1.6 - strength), 3), CHROMATIC[top],
                            round(float(strength) / 2, 3))
    return ColourResult(grey_name, round(grey_conf, 3), grey_alt,
                        round(1.0 - grey_conf, 3) if grey_alt else 0.0)


def name_colour(views: Sequence[np.ndarray | ColourView],
                config: ColourConfig | None = None) -> ColourResult:
    """Name the body colour of one vehicle from one or more views of it: BGR crops (all
    vehicle, each weighing the same) or `ColourView`s (a crop with its surroundings and a
    weight). Several frames of the same vehicle vote together, each in proportion to its
    weight; the surroundings of all of them set the white balance and the road colour."""
    config = config or ColourConfig()
    usable = [v for v in map(_as_view, views) if v is not None]
    if not usable:
        return ColourResult(name="unknown", confidence=0.0)
    surroundings = read_surroundings(usable, config.surround)
    parts = [(crop_pixels(v.vehicle, config, surroundings), v.weight) for v in usable]
    return decide(Pixels(*(np.concatenate(a) for a in zip(*(
        (p.names, p.value, p.lab, p.weight * w) for p, w in parts)))), config)


def _as_view(view: np.ndarray | ColourView) -> ColourView | None:
    """A usable view (a bare crop is all vehicle), None for one too small or not BGR."""
    if not isinstance(view, ColourView):
        if view.ndim != 3 or view.shape[2] != 3:
            return None
        view = ColourView(view)
    h, w = view.vehicle.shape[:2]
    return view if h >= 2 and w >= 2 and view.weight > 0 else None
