"""Crossover (the paper's style transfer): chosen layers from one code, the rest from another."""
from __future__ import annotations

from typing import Iterable

import torch

from ..errors import WplusError
from ..ranges import parse_int_ranges
from .interpolate import check_same_shape


def parse_layers(text: str, num_ws: int) -> list[int]:
    """'0-3', '4,6-8', 'all' or '' (none) -> sorted layer indices, each in 0..num_ws-1."""
    text = text.strip().lower()
    if text in ("", "none"):
        return []
    if text == "all":
        return list(range(num_ws))
    try:
        layers = sorted(parse_int_ranges(text))
    except ValueError:
        raise WplusError(f"bad layer list {text!r}; use e.g. 0-3 or 4,6-8 or all") from None
    _check_layers(layers, num_ws)
    return layers


def _check_layers(layers: list[int], num_ws: int) -> None:
    bad = [i for i in layers if not 0 <= i < num_ws]
    if bad:
        shown = ", ".join(map(str, bad[:4])) + (f", ... {bad[-1]}" if len(bad) > 4 else "")
        raise WplusError(f"layers {shown} do not exist: these latents have layers 0-{num_ws - 1}")


def mix(w_content: torch.Tensor, w_style: torch.Tensor, layers: Iterable[int]) -> torch.Tensor:
    """Copy of `w_content` whose `layers` (the second-to-last axis) come from `w_style`.

    Early layers (4²-8²) carry pose and face shape, middle ones features, late ones colours
    and micro-texture (Karras et al. 2019; Image2StyleGAN section 7)."""
    check_same_shape(w_content, w_style)
    idx = list(layers)
    _check_layers(idx, w_content.shape[-2])
    out = w_content.clone()
    out[..., idx, :] = w_style[..., idx, :]
    return out
