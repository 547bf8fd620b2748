"""Morphing: interpolation between two codes (linear in W/W+, optionally spherical in Z)."""
from __future__ import annotations

from typing import Sequence

import torch

from ..checks import check_same_shape


def _steps(t: float | Sequence[float] | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1)


def interpolate(w_a: torch.Tensor, w_b: torch.Tensor, t: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Linear interpolation (1 - t) w_a + t w_b between two codes, for each t (the paper's morph).

    Args:
        w_a: code at t = 0.
        w_b: code at t = 1, same shape as `w_a`.
        t: one value or a sequence of T values (usually in [0, 1]; others extrapolate).

    Shape:
        w_a, w_b: any shape S, e.g. [num_ws, w_dim]; output: [T, *S].

    Returns:
        The T codes, in the order of `t`.

    Example:
        >>> w_a, w_b = torch.zeros(10, 256), torch.ones(10, 256)
        >>> frames = interpolate(w_a, w_b, torch.linspace(0, 1, 5))
        >>> frames.shape, frames[:, 0, 0].tolist()
        (torch.Size([5, 10, 256]), [0.0, 0.25, 0.5, 0.75, 1.0])
    """
    check_same_shape(w_a, w_b)
    ts = _steps(t, w_a).view(-1, *([1] * w_a.ndim))
    return torch.lerp(w_a[None], w_b[None], ts)


def slerp(z_a: torch.Tensor, z_b: torch.Tensor, t: float | Sequence[float] | torch.Tensor,
          eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last dimension (for Z codes): [T, *z_a.shape]."""
    check_same_shape(z_a, z_b)
    ts = _steps(t, z_a).view(-1, *([1] * z_a.ndim))
    a, b = z_a / z_a.norm(dim=-1, keepdim=True), z_b / z_b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a * b).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    return (torch.sin((1 - ts) * omega) / so) * z_a[None] + (torch.sin(ts * omega) / so) * z_b[None]
