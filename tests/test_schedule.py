"""Learning-rate and latent-noise schedules (NVIDIA projector's formulas)."""
import math

import pytest

from wplus.inversion import PRESETS, LRSchedule
from wplus.inversion.schedule import latent_noise_scale


def nvidia_lr_factor(step, steps, rampup=0.05, rampdown=0.25):
    """projector.py's schedule, written out: t = step / steps, cosine ramp-down over the last
    `rampdown`, linear ramp-up over the first `rampup`."""
    t = step / steps
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return ramp * min(1.0, t / rampup)


@pytest.mark.parametrize("step, expected", [(0, 0.0), (25, 0.5), (50, 1.0), (500, 1.0), (750, 1.0),
                                            (875, 0.5), (999, 0.5 - 0.5 * math.cos(math.pi * 0.004))])
def test_nvidia_schedule_values(step, expected):
    schedule = LRSchedule(rampup=0.05, rampdown=0.25)
    assert schedule.factor(step, 1000) == pytest.approx(expected, abs=1e-12)
    assert schedule.factor(step, 1000) == pytest.approx(nvidia_lr_factor(step, 1000), abs=1e-12)


def test_constant_and_full_cosine():
    assert LRSchedule().constant and all(LRSchedule().factor(s, 100) == 1.0 for s in range(100))
    cosine = LRSchedule(rampdown=1.0)
    assert not cosine.constant
    for step in (0, 10, 50, 90, 99):
        assert cosine.factor(step, 100) == pytest.approx(0.5 + 0.5 * math.cos(math.pi * step / 100))


def test_latent_noise_scale_is_quadratic_to_zero_at_the_ramp_end():
    assert latent_noise_scale(0, 1000, 0.05, 0.75) == pytest.approx(0.05)
    assert latent_noise_scale(375, 1000, 0.05, 0.75) == pytest.approx(0.05 * 0.25)
    assert latent_noise_scale(750, 1000, 0.05, 0.75) == 0.0
    assert latent_noise_scale(900, 1000, 0.05, 0.75) == 0.0
    assert latent_noise_scale(10, 1000, 0.0, 0.75) == 0.0


def test_nvidia_preset_has_the_projectors_constants():
    """stylegan2-ada-pytorch projector.py: num_steps 1000, w_avg_samples 10000, initial_learning_rate
    0.1, initial_noise_factor 0.05, lr_rampdown_length 0.25, lr_rampup_length 0.05,
    noise_ramp_length 0.75, regularize_noise_weight 1e5, Adam betas (0.9, 0.999), W space."""
    c = PRESETS["nvidia"]
    assert (c.steps, c.lr, c.lr_rampup, c.lr_rampdown) == (1000, 0.1, 0.05, 0.25)
    assert (c.latent_noise, c.latent_noise_ramp, c.noise_weight, c.optimise_noise) == (0.05, 0.75, 1e5, True)
    assert (c.space, c.init, c.betas, c.loss) == ("w", "sample-mean", (0.9, 0.999), "auto-lpips")
