"""Latent arithmetic (the paper's expression transfer): w_target + s (w_b - w_a)."""
from __future__ import annotations

import torch

from .interpolate import check_same_shape


def transfer(w_target: torch.Tensor, w_a: torch.Tensor, w_b: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Add the change from `w_a` to `w_b` (e.g. neutral -> smiling) to `w_target`."""
    check_same_shape(w_a, w_b)
    check_same_shape(w_target, w_a)
    return w_target + strength * (w_b - w_a)
