"""Latent arithmetic (the paper's expression transfer): w_target + s (w_b - w_a)."""
from __future__ import annotations

import torch

from ..checks import check_same_shape


def transfer(w_target: torch.Tensor, w_a: torch.Tensor, w_b: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Latent arithmetic: add the change from `w_a` to `w_b` (e.g. neutral -> smiling) to
    `w_target`, i.e. w_target + strength (w_b - w_a).

    Args:
        w_target: the code to edit.
        w_a: the code before the change.
        w_b: the code after the change.
        strength: how much of the change to add (0 returns `w_target`; negative reverses it).

    Shape:
        w_target, w_a, w_b, output: the same shape, e.g. [N, num_ws, w_dim].

    Returns:
        The edited code.

    Example:
        >>> target, w_a, w_b = torch.zeros(1, 10, 256), torch.zeros(1, 10, 256), torch.ones(1, 10, 256)
        >>> transfer(target, w_a, w_b, strength=0.5).unique().tolist()
        [0.5]
    """
    check_same_shape(w_a, w_b)
    check_same_shape(w_target, w_a)
    return w_target + strength * (w_b - w_a)
