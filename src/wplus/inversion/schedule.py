"""Schedules over an embedding run, as functions of its progress t = step / steps.

The learning rate is `lr * LRSchedule.factor(step, steps)`:
    up   = min(1, t / rampup)                       (1 when rampup = 0)
    down = 0.5 - 0.5 cos(pi * min(1, (1 - t) / rampdown))   (1 when rampdown = 0)
    factor = up * down
so `rampup` is the fraction of steps over which the rate rises linearly from 0 and `rampdown`
the fraction at the end over which it falls to 0 along a half cosine (NVIDIA stylegan2-ada
`projector.py`: rampup 0.05, rampdown 0.25; rampdown 1 is a cosine decay over the whole run).

The latent noise of NVIDIA's projector has the std
    w_std * initial * max(0, 1 - t / ramp)²
(initial 0.05, ramp 0.75): `latent_noise_scale`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LRSchedule:
    """Learning-rate factor per step: linear ramp-up, then a cosine ramp-down at the end."""

    rampup: float = 0.0  # fraction of the steps with a linear ramp-up from 0
    rampdown: float = 0.0  # fraction of the steps, at the end, with a cosine ramp-down to 0

    def factor(self, step: int, steps: int) -> float:
        """The multiplier of the initial learning rate at `step` (0-based) of `steps`."""
        t = step / steps
        up = min(1.0, t / self.rampup) if self.rampup > 0 else 1.0
        if self.rampdown > 0:
            down = 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1.0 - t) / self.rampdown))
        else:
            down = 1.0
        return up * down

    @property
    def constant(self) -> bool:
        return self.rampup == 0 and self.rampdown == 0


def latent_noise_scale(step: int, steps: int, initial: float, ramp: float) -> float:
    """Std of the noise added to the latent at `step`, in units of W's std (0 after `ramp`)."""
    if initial == 0 or ramp == 0:
        return 0.0
    return initial * max(0.0, 1.0 - step / steps / ramp) ** 2
