"""Crossover (the paper's style transfer): chosen layers from one code, the rest from another."""
from __future__ import annotations

from typing import Iterable

import torch

from ..checks import check_same_shape
from ..errors import WplusError
from ..ranges import parse_int_ranges


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
    """Crossover: a copy of `w_content` whose `layers` come from `w_style` (style transfer).

    Early layers (4²-8²) carry pose and face shape, middle ones features, late ones colours
    and micro-texture (Karras et al. 2019; Image2StyleGAN section 7).

    Args:
        w_content: the code that gives every layer not listed.
        w_style: the code that gives `layers`; same shape as `w_content`.
        layers: indices along the layer axis (second to last), e.g. `range(8)` or
            `parse_layers("0-3", num_ws)`.

    Shape:
        w_content, w_style, output: [..., num_ws, w_dim].

    Returns:
        The mixed code (the inputs are not modified).

    Example:
        >>> content, style = torch.zeros(1, 10, 256), torch.ones(1, 10, 256)
        >>> mix(content, style, range(4))[0, :, 0].tolist()
        [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    check_same_shape(w_content, w_style)
    idx = list(layers)
    _check_layers(idx, w_content.shape[-2])
    out = w_content.clone()
    out[..., idx, :] = w_style[..., idx, :]
    return out
