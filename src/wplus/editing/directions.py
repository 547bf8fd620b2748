"""Semantic directions in W and how an edit applies them.

A direction is a vector in W (`[w_dim]`, the same move on every chosen layer) or in W+
(`[num_ws, w_dim]`). An edit of strength s moves the chosen layers of a code by
`s * scale * vector`, where `scale` is the standard deviation of the generator's W along the
direction: strengths are in standard deviations ("+2" = two sigmas), whatever method made it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import WplusError


@dataclass
class Direction:
    """One named direction and how it is meant to be used."""

    vector: torch.Tensor  # [w_dim] (unit length) or [num_ws, w_dim]
    layers: list[int] | None = None  # the layers an edit changes by default (None = all)
    scale: float = 1.0  # W units per unit of strength (the std of W along the vector)
    strength_range: tuple[float, float] = (-3.0, 3.0)  # recommended strengths
    source: str = ""  # how it was made: ganspace, sefa, interfacegan, file:...
    note: str = ""  # e.g. variance explained, classifier accuracy


@dataclass
class DirectionSet:
    """Named directions for one generator (w_dim; its fingerprint when known)."""

    directions: dict[str, Direction]
    w_dim: int
    fingerprint: str | None = None
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Direction:
        if name not in self.directions:
            known = ", ".join(list(self.directions)[:12]) + (" ..." if len(self.directions) > 12 else "")
            raise WplusError(f"no direction {name!r} in this file; it has: {known}")
        return self.directions[name]

    def check_fits(self, w_dim: int, num_ws: int, fingerprint: str | None = None) -> None:
        """One-line error when these directions cannot apply to a generator's codes."""
        if self.w_dim != w_dim:
            raise WplusError(f"the directions have w_dim {self.w_dim} but the generator's w_dim is {w_dim}; "
                             "they were made for another generator")
        for name, d in self.directions.items():
            if d.vector.ndim == 2 and d.vector.shape[0] != num_ws:
                raise WplusError(f"direction {name!r} has {d.vector.shape[0]} layers, the generator {num_ws}")


def apply_direction(w: torch.Tensor, direction: Direction, strength: float | torch.Tensor,
                    layers: list[int] | None = None) -> torch.Tensor:
    """Move codes along a direction.

    Args:
        w: codes [N, num_ws, w_dim] (or one code [num_ws, w_dim]).
        direction: the direction; its `layers` are used when `layers` is None.
        strength: in standard deviations; a tensor [T] gives T edits per code.
        layers: the layers to change (None: the direction's own; if those are None, all).

    Returns:
        [N, num_ws, w_dim] (or [T, N, num_ws, w_dim] for a tensor of strengths); the other
        layers are bit-identical to `w`'s.

    Example:
        >>> edited = apply_direction(codes, dirs["yaw"], 2.0)          # two sigmas more yaw
    """
    chosen = layers if layers is not None else direction.layers
    num_ws = w.shape[-2]
    mask = torch.zeros(num_ws, 1, dtype=w.dtype, device=w.device)
    mask[list(range(num_ws)) if chosen is None else chosen] = 1
    vector = direction.vector.to(w)
    move = direction.scale * (vector[None] if vector.ndim == 1 else vector) * mask  # [num_ws, w_dim]
    strengths = torch.as_tensor(strength, dtype=w.dtype, device=w.device)
    if strengths.ndim == 0:
        return torch.where(mask.bool(), w + strengths * move, w)
    edits = strengths.view(-1, *([1] * w.ndim)) * move
    return torch.where(mask.bool(), w[None] + edits, w[None].expand(len(strengths), *w.shape))


def projection_std(ws: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Standard deviation of W samples [N, w_dim] along each unit vector [K, w_dim]: [K]."""
    return (ws @ vectors.T).std(dim=0)
