"""How well labelled directions edit what they claim: attribute response curves."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.stylegan2 import Generator
from .attributes import ATTRIBUTES, measure
from .directions import Direction, apply_direction


@dataclass
class Response:
    """Mean attribute values of edited samples, per strength: curves[attribute][k] at strengths[k]."""

    strengths: list[float]
    curves: dict[str, list[float]]
    spread: dict[str, float]  # std of each attribute over the unedited samples (the unit of change)

    def change(self, attribute: str) -> float:
        """Change from the lowest to the highest strength, in units of the attribute's spread."""
        curve = self.curves[attribute]
        return (curve[-1] - curve[0]) / self.spread[attribute]


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation of two equally long lists (no ties expected)."""
    rx, ry = (torch.tensor(v).argsort().argsort().double() for v in (x, y))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / (rx.norm() * ry.norm()))


@torch.no_grad()
def attribute_response(G: Generator, codes: torch.Tensor, direction: Direction, strengths: list[float],
                       batch: int = 64) -> Response:
    """Measure every attribute on the renders of `codes` [N, num_ws, w_dim] edited with each
    strength; attributes are averaged over the samples where they are defined."""
    curves: dict[str, list[float]] = {name: [] for name in ATTRIBUTES}
    spread: dict[str, float] = {}
    for s in strengths:
        edited = apply_direction(codes, direction, s)
        images = torch.cat([G.synthesis(edited[i:i + batch], noise_mode="const").clamp(-1, 1)
                            for i in range(0, len(edited), batch)])
        values = measure(images)
        for name in ATTRIBUTES:
            finite = values[name][torch.isfinite(values[name])]
            curves[name].append(float(finite.mean()) if len(finite) else float("nan"))
            if s == 0:
                spread[name] = float(finite.std()) if len(finite) > 1 else float("nan")
    return Response(list(strengths), curves, spread)
