"""Body style evidence pooled from fake ImageNet scores, and what reaches the shown mark."""

from __future__ import annotations

import numpy as np
import pytest

from relecture.indexer.body_style import SHOWN_AT, STYLES, shown, style_scores
from relecture.indexer.vehicle_type import TypeRefiner


def probs_with(mass: dict[int, float]) -> np.ndarray:
    p = np.zeros((1, 1000))
    for i, m in mass.items():
        p[0, i] = m
    return p


@pytest.mark.parametrize("style, words", [
    ("estate", "beach wagon"), ("suv", "jeep"), ("pickup", "pickup"), ("minivan", "minivan"),
    ("convertible", "convertible"), ("limousine", "limousine"), ("taxi", "cab"),
    ("ambulance", "ambulance"), ("police", "police van"), ("tow_truck", "tow truck"),
    ("garbage_truck", "garbage truck"), ("fire_engine", "fire engine"), ("minibus", "minibus"),
    ("box_truck", "moving van"), ("articulated", "trailer truck"), ("school_bus", "school bus"),
    ("trolleybus", "trolleybus"),
])
def test_each_style_names_its_standard_imagenet_class(style, words):
    from timm.data import ImageNetInfo

    descriptions = [ImageNetInfo().index_to_description(i).lower() for i in STYLES[style]]
    assert any(words in d for d in descriptions), descriptions


def test_views_are_averaged_and_classes_of_one_style_summed():
    views = np.vstack([probs_with({468: 0.6, 670: 0.1}), probs_with({468: 0.2, 665: 0.3})])
    pooled = dict(style_scores(views))
    assert pooled["taxi"] == pytest.approx(0.4)
    assert pooled["scooter"] == pytest.approx(0.2)  # motor scooter and moped together
    assert set(pooled) == set(STYLES) and pooled["ambulance"] == 0.0


def test_styles_come_most_likely_first():
    pairs = style_scores(probs_with({436: 0.5, 609: 0.3, 864: 0.1}))
    assert [s for s, _ in pairs[:3]] == ["estate", "suv", "tow_truck"]


def test_only_styles_at_the_mark_are_shown():
    pairs = style_scores(probs_with({436: SHOWN_AT, 609: SHOWN_AT - 0.01, 407: 0.6}))
    assert shown(pairs) == (("ambulance", 0.6), ("estate", SHOWN_AT))
    assert shown({"estate": 0.3, "suv": None, "taxi": 0.01}) == (("estate", 0.3),)
    assert shown(None) == ()


class FakeNet:
    def __init__(self, probs):
        self.probs = probs

    def imagenet_probabilities(self, crops):
        return self.probs


def test_the_type_refiner_carries_the_style_of_the_same_pass():
    refiner = TypeRefiner(FakeNet(probs_with({468: 0.7})))
    result = refiner.refine("car", [np.zeros((40, 60, 3), np.uint8)])
    assert result.name == "car"
    assert result.body[0] == ("taxi", 0.7)
    assert refiner.refine("car", []).body == ()
