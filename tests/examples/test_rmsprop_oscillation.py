"""examples/rmsprop_oscillation.py: the tail distance and loss rises it reports, by hand,
and RMSProp's limit cycle on the quadratic at the distance lr / sqrt(2) worked out by hand
(each coordinate flips between +lr/2 and -lr/2)."""

from __future__ import annotations

import math

import pytest
import rmsprop_oscillation as ex
import torch

import ravine


def test_tail_distance_and_rises_by_hand():
    positions = torch.tensor([[3.0, 4.0], [0.0, 1.0], [0.6, 0.8], [0.0, 0.5]])
    assert ex.tail_distance(positions, (0.0, 0.0), tail=3) == pytest.approx(1.0)
    assert ex.tail_distance(positions, (0.0, 0.0), tail=4) == pytest.approx(5.0)
    assert ex.rises([5.0, 4.0, 4.5, 3.0, 3.2, 3.1], tail=4) == (2, pytest.approx(0.5))
    assert ex.rises([3.0, 2.0, 1.0], tail=2) == (0, 0.0)


@pytest.mark.parametrize("lr", [0.1, 0.3])
def test_rmsprop_ends_in_the_cycle_of_half_a_learning_rate_per_coordinate(lr):
    race = ravine.race("quadratic", ["rmsprop"], lrs=[lr], steps=400)
    minimum = race.landscape.global_minimum.location
    positions = race["rmsprop"].positions[0, 0, 0]
    assert ex.tail_distance(positions, minimum) == pytest.approx(lr / math.sqrt(2), rel=1e-3)
    assert positions[-1].abs() == pytest.approx(torch.full((2,), lr / 2), rel=1e-3)
