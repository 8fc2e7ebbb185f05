"""Colour from CCTV views: the surroundings as grey reference and road colour, light bodies
behind dark glass, views weighted by quality."""

from __future__ import annotations

import numpy as np
import pytest

from relecture.indexer.colour import name_colour
from relecture.indexer.colour_views import (
    ColourView, SurroundConfig, read_surroundings,
)
from tests.indexer.test_colour import BGR, car_crop


def framed(vehicle: np.ndarray, road: tuple[int, int, int], margin: int = 24) -> ColourView:
    """The vehicle crop with a margin of `road` around it, as `indexer.views` cuts views."""
    h, w = vehicle.shape[:2]
    crop = np.empty((h + 2 * margin, w + 2 * margin, 3), np.uint8)
    crop[:] = road
    crop[margin:margin + h, margin:margin + w] = vehicle
    return ColourView(crop, (margin, margin, margin + w, margin + h))


def cast(image: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    return np.clip(image * np.array(gains), 0, 255).astype(np.uint8)


def test_a_cast_on_the_road_is_taken_off_the_vehicle():
    # The whole picture is tinted green (camera white balance, video compression): the
    # grey road shows it, and a white van keeps its name.
    green = (0.98, 1.03, 0.96)
    van = cast(car_crop(BGR["white"]), green)
    road = cast(np.array([[[112, 112, 115]]], np.uint8), green)[0, 0]
    view = framed(van, tuple(int(c) for c in road))
    gains = read_surroundings([view], SurroundConfig()).gains
    assert gains[1] < 1.0 < gains[2]  # green down, red up (BGR)
    assert name_colour([van]).name == "green"  # without its surroundings
    assert name_colour([view]).name == "white"


def test_the_correction_is_partial_and_bounded():
    # A strongly coloured verge all round is not a grey reference: nothing is neutral.
    view = framed(car_crop(BGR["silver"]), (40, 160, 40))
    assert np.allclose(read_surroundings([view], SurroundConfig()).gains, 1.0)
    # A neutral but strongly cast road is corrected by at most max_gain per channel.
    view = framed(car_crop(BGR["silver"]), (90, 100, 112))
    gains = read_surroundings([view], SurroundConfig(neutral_chroma=50)).gains
    assert gains.max() <= 1.25 + 1e-6 and gains.min() >= 1 / 1.25 - 1e-6


def test_road_seen_inside_the_box_is_not_body():
    # A red car whose box holds a band of road: the road pixels inside the box do not vote.
    crop = car_crop(BGR["red"])
    crop[:, :80] = (112, 112, 115)
    bare, seen = name_colour([crop]), name_colour([framed(crop, (112, 112, 115))])
    assert seen.name == "red"
    assert seen.probability("red") > bare.probability("red")
    assert seen.probability("grey") + seen.probability("silver") < 0.01


def test_a_bare_crop_has_no_surroundings_and_is_named_as_before():
    crop = car_crop(BGR["blue"])
    assert name_colour([crop]) == name_colour([ColourView(crop)])
    assert read_surroundings([ColourView(crop)], SurroundConfig()).road_lab is None


def test_a_white_van_behind_a_dark_windscreen_is_not_black():
    # Seen from the front: the windscreen, grille and shadow under it take over half the
    # box, so the median is dark, but a fifth of the body is bright paint.
    van = np.full((100, 100, 3), 245, np.uint8)
    van[:60] = 30  # windscreen and grille
    assert name_colour([van]).name in ("white", "silver")
    # A black car with a streak of glare stays black.
    black = np.full((100, 100, 3), 25, np.uint8)
    black[45:50] = 250
    assert name_colour([black]).name == "black"


def test_heavier_views_count_more_and_weightless_ones_not_at_all():
    red, blue = car_crop(BGR["red"]), car_crop(BGR["blue"], seed=1)
    assert name_colour([ColourView(red, weight=3.0), ColourView(blue, weight=1.0)]).name == "red"
    assert name_colour([ColourView(red, weight=0.0), ColourView(blue)]).name == "blue"
    assert name_colour([ColourView(red, weight=0.0)]).name == "unknown"


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8)])
def test_a_view_must_be_a_bgr_image(bad):
    with pytest.raises(ValueError, match="BGR"):
        ColourView(bad)
    assert name_colour([bad]).name == "unknown"  # a bare crop that is not BGR is skipped


def test_metallic_highlights_make_a_grey_looking_body_silver():
    # Median in the grey range; a metallic body keeps bright highlights, a flat grey does not.
    flat = np.full((100, 100, 3), 105, np.uint8)
    metallic = flat.copy()
    metallic[30:45] = 225  # a sixth of the body catches the sky (short of white)
    assert name_colour([flat]).name == "grey"
    assert name_colour([metallic]).name == "silver"
