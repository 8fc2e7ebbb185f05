"""Vehicle colour naming and its evaluation on a colour-sorted photo folder."""

from __future__ import annotations

import numpy as np
import pytest

from relecture.evaluation.colours import evaluate_colours
from relecture.indexer.colour import COLOURS, name_colour

BGR = {
    "red": (30, 30, 200), "blue": (170, 60, 20), "yellow": (20, 210, 230),
    "green": (40, 150, 30), "white": (245, 245, 245), "black": (20, 20, 22),
    "silver": (190, 190, 195), "orange": (20, 120, 240), "brown": (30, 60, 100),
}


def car_crop(paint: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """A detector-like crop: a car-shaped blob of `paint` with dark windows and wheels and
    a highlight, on grey road with some noise."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((120, 200, 3), (110, 112, 115), np.uint8)  # road
    cv2.rectangle(img, (10, 50), (190, 100), paint, -1)  # body
    cv2.rectangle(img, (50, 22), (150, 52), paint, -1)  # cabin
    cv2.rectangle(img, (60, 28), (140, 48), (40, 35, 30), -1)  # windows
    cv2.circle(img, (50, 100), 16, (15, 15, 15), -1)  # wheels
    cv2.circle(img, (150, 100), 16, (15, 15, 15), -1)
    cv2.line(img, (20, 60), (180, 60), (255, 255, 255), 2)  # glare
    noise = rng.normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(BGR))
def test_a_painted_car_on_grey_road_gets_its_paint_colour(name):
    result = name_colour([car_crop(BGR[name])])
    assert result.name == name, result
    assert 0.0 < result.confidence <= 1.0


def test_a_dark_brown_car_is_brown_not_black():
    # Too dark for pixel hues and, with black windows and tyres, a faint mean tint; but
    # most of the body carries the same warm cast, which the reflections on black do not.
    assert name_colour([car_crop((38, 46, 56))]).name == "brown"


def test_a_black_car_with_noisy_casts_stays_black():
    rng = np.random.default_rng(0)
    crop = car_crop(BGR["black"]) + rng.normal(0, 6, (120, 200, 3))
    assert name_colour([np.clip(crop, 0, 255).astype(np.uint8)]).name == "black"


def test_a_yellow_car_half_in_shade_is_yellow_with_brown_second():
    # Shade darkens the lower body's yellow paint into brown pixels, the larger share.
    paint = BGR["yellow"]
    crop = car_crop(paint)
    body = np.all(np.abs(crop.astype(int) - paint) < 15, axis=2)
    body[:64] = False
    crop[body] = (35, 100, 125)
    result = name_colour([crop])
    assert (result.name, result.alt) == ("yellow", "brown")


def test_several_frames_vote_together():
    red, blue = car_crop(BGR["red"]), car_crop(BGR["blue"], seed=1)
    assert name_colour([red, red, blue]).name == "red"


def test_a_close_call_gives_a_second_choice():
    # Half red, half blue: either may win, the other must be offered.
    crop = np.hstack([car_crop(BGR["red"])[:, :100], car_crop(BGR["blue"])[:, 100:]])
    result = name_colour([crop])
    assert {result.name, result.alt} == {"red", "blue"}
    assert result.alt_confidence <= result.confidence


def test_no_usable_crop_is_unknown():
    assert name_colour([]).name == "unknown"
    assert name_colour([np.zeros((1, 1, 3), np.uint8)]).name == "unknown"


def test_evaluation_counts_strict_and_lenient(tmp_path):
    import cv2

    for folder, paint in (("red", "red"), ("grey", "silver"), ("blue", "blue")):
        (tmp_path / folder).mkdir()
        for i in range(2):
            cv2.imwrite(str(tmp_path / folder / f"{i}.png"), car_crop(BGR[paint], seed=i))
    seen = []
    result = evaluate_colours(tmp_path, progress=lambda k, n: seen.append((k, n)))
    assert result["n"] == 6 and seen[-1] == (6, 6)
    assert result["labels"] == ["blue", "grey", "red"]
    assert result["confusion"]["grey"] == {"silver": 2}
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["accuracy_lenient"] == pytest.approx(1.0)


def test_real_photos_of_vivid_and_plain_colours(shared_data):
    import cv2

    names = ["red", "blue", "yellow", "white", "black"]
    right = total = 0
    for name in names:
        for path in sorted((shared_data / "colours" / name).iterdir())[:4]:
            result = name_colour([cv2.imread(str(path))])
            assert result.name in COLOURS
            right += result.name == name
            total += 1
    assert right / total >= 0.8


def car_rear(paint: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """A rear view: body of `paint`, dark rear window, two red tail lights at the lower
    corners of the boot and a blue plate between them, on grey road, with some noise."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((120, 120, 3), (110, 112, 115), np.uint8)  # road
    cv2.rectangle(img, (10, 15), (110, 105), paint, -1)  # body
    cv2.rectangle(img, (22, 22), (98, 50), (40, 35, 30), -1)  # rear window
    cv2.rectangle(img, (14, 58), (34, 74), (40, 30, 230), -1)  # tail lights
    cv2.rectangle(img, (86, 58), (106, 74), (40, 30, 230), -1)
    cv2.rectangle(img, (46, 80), (74, 90), (160, 60, 20), -1)  # plate
    noise = rng.normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def video_cast(crop: np.ndarray, red_blue: float = 7.0) -> np.ndarray:
    """`crop` as compressed CCTV video gives it: a faint magenta cast (red and blue raised
    a little over green) everywhere, dark and bright areas alike."""
    tinted = crop.astype(np.float32) + (red_blue, 0.0, red_blue)
    return np.clip(tinted, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", ["silver", "white", "black"])
def test_tail_lights_do_not_colour_a_car_seen_from_behind(name):
    # Small vivid red patches at the rear corners are lamps, not paint.
    assert name_colour([car_rear(BGR[name])]).name == name


def test_a_red_car_seen_from_behind_stays_red():
    # Its lamps vanish into one large red patch, the body.
    assert name_colour([car_rear(BGR["red"])]).name == "red"


@pytest.mark.parametrize("name", ["silver", "black"])
def test_a_faint_magenta_video_cast_names_no_purple_or_pink(name):
    crops = [video_cast(car_rear(BGR[name], seed=k)) for k in range(3)]
    assert name_colour(crops).name == name


@pytest.mark.parametrize("name", sorted(BGR))
def test_the_distribution_sums_to_one_and_favours_the_name(name):
    result = name_colour([car_crop(BGR[name])])
    probs = dict(result.distribution)
    assert sum(probs.values()) == pytest.approx(1.0, abs=0.02)
    assert set(probs) <= set(COLOURS)
    assert result.distribution[0][0] == name and result.probability(name) > 0.8


def test_a_dark_grey_named_black_keeps_grey_mass_a_deep_black_does_not():
    dark_grey = name_colour([car_crop((85, 85, 88))])
    assert dark_grey.name == "black"
    assert dark_grey.probability("grey") > 0.3  # a grey search still finds it early
    assert name_colour([car_crop(BGR["black"])]).probability("grey") < 0.01


def test_the_distribution_pools_every_view_of_the_vehicle():
    # A red car whose second view is washed out to silver: both views count, red leads.
    red, silver = car_crop(BGR["red"]), car_crop(BGR["silver"])
    pooled = name_colour([red, silver])
    assert pooled.name == "red"
    assert pooled.probability("silver") > 0.2 > name_colour([red]).probability("silver")


def test_a_sighting_without_a_distribution_falls_back_to_its_name_and_alt():
    from relecture.sightings import ColourResult

    assert ColourResult("black", 0.6).probability("black") == 1.0
    assert ColourResult("black", 0.6, "grey", 0.4).probability("grey") == pytest.approx(0.3)
    assert ColourResult("unknown", 0.0).probability("grey") == 0.0
