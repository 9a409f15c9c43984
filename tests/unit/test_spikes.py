"""Issue 30 #2b: the spike model (pipeline/analysis/spikes.py), pure: Poisson tail, floor, minimum count."""

from __future__ import annotations

import math

import pytest

from pipeline.analysis.spikes import SpikeOptions, expected_in_window, find_spikes, poisson_sf


@pytest.mark.parametrize("x,lam", [(0, 2.0), (1, 0.5), (3, 2.0), (10, 3.0), (30, 10.0), (4, 0.1)])
def test_poisson_tail_matches_the_sum_of_the_mass(x, lam):
    below = sum(math.exp(-lam) * lam ** k / math.factorial(k) for k in range(x))
    assert poisson_sf(x, lam) == pytest.approx(1 - below, rel=1e-9, abs=1e-15)


def test_poisson_tail_keeps_its_digits_far_in_the_tail():
    # 1 - cdf would be 0.0 in floating point; the tail itself is about 1e-40
    p = poisson_sf(40, 1.0)
    assert 0 < p < 1e-45 and p == pytest.approx(math.exp(-1) / math.factorial(40), rel=0.05)


def test_a_quiet_cell_spikes_on_a_few_calls_a_busy_one_does_not():
    o = SpikeOptions()
    window = {("environment", "Tân Lập"): 5, ("environment", "Tân Tiến"): 5}
    baseline = {("environment", "Tân Lập"): 2, ("environment", "Tân Tiến"): 28 * 4}  # ~0.07/day vs 4/day
    [s] = find_spikes(window, baseline, o)
    assert (s.topic, s.ward, s.count) == ("environment", "Tân Lập", 5)
    assert s.expected == pytest.approx(o.floor_per_day)  # the floor, not 2/28
    assert s.p_value < o.alpha


def test_below_the_minimum_count_is_never_a_spike_whatever_the_baseline():
    assert find_spikes({("traffic", "Ea Kao"): 3}, {}, SpikeOptions(min_count=4)) == []
    assert find_spikes({("traffic", "Ea Kao"): 4}, {}, SpikeOptions(min_count=4))


def test_a_busy_cell_spikes_when_far_above_its_baseline():
    baseline = {("traffic", "Tân An"): 28 * 4}
    assert find_spikes({("traffic", "Tân An"): 9}, baseline) == []  # P(X>=9 | 4) ~ 2 %
    [s] = find_spikes({("traffic", "Tân An"): 16}, baseline)
    assert s.baseline_per_day == pytest.approx(4.0) and s.p_value < 1e-4


def test_the_window_scales_the_baseline_and_inputs_stay_unchanged():
    per_day, lam = expected_in_window(56, SpikeOptions(window_h=6, baseline_days=28))
    assert per_day == 2.0 and lam == pytest.approx(0.5)
    window = {("land", "Hòa Phú"): 7}
    find_spikes(window, {})
    assert window == {("land", "Hòa Phú"): 7}
