"""Shared machinery of the format converters: exact coverage and config inference.

Every converter fills wplus' state dict (NVIDIA stylegan2-ada names) from a source dict via
an explicit table `target name -> (source name, transform)`. `convert_by_table` asserts that
every target is filled and every source tensor is used (or named as ignorable).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..errors import WplusError
from ..models.base import FamilyConfig
from ..models.families import make_generator
from ..models.stylegan2 import GeneratorConfig, fir_kernel

Rule = tuple[str, Callable[[torch.Tensor], torch.Tensor]]
IDENTITY: Callable[[torch.Tensor], torch.Tensor] = lambda t: t


def as_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().float()
    return torch.from_numpy(np.array(value, dtype=np.float32))  # np.array keeps 0-d shapes


@dataclass(frozen=True)
class Target:
    """A wplus state-dict name, parsed: `kind` is 'fc', 'w_avg', 'const' or 'layer'."""

    kind: str
    index: int = 0  # mapping layer index, or block resolution for 'layer'
    layer: str = ""  # conv0 | conv1 | torgb
    field: str = ""  # weight, bias, noise_const, affine.weight, ...

    @property
    def noise_index(self) -> int:
        """Position of this conv's noise map in the TF / rosinality numbering (b4.conv1 = 0)."""
        return 2 * int(math.log2(self.index)) - (5 if self.layer == "conv0" else 4)


def parse_target(name: str) -> Target | None:
    if m := re.fullmatch(r"mapping\.fc(\d+)\.(weight|bias)", name):
        return Target("fc", int(m[1]), field=m[2])
    if name == "mapping.w_avg":
        return Target("w_avg")
    if name == "synthesis.b4.const":
        return Target("const", 4)
    if m := re.fullmatch(r"synthesis\.b(\d+)\.(conv0|conv1|torgb)\.(.+)", name):
        return Target("layer", int(m[1]), m[2], m[3])
    return None


def convert_by_table(source: dict, targets: list[str], rule: Callable[[str], Rule | None],
                     ignorable: Callable[[str], bool], what: str) -> dict[str, torch.Tensor]:
    """Fill each target via `rule(target)`; error on missing sources or unused source keys."""
    out, used, missing = {}, set(), []
    for target in targets:
        found = rule(target)
        if found is None or found[0] not in source:
            missing.append(found[0] if found else target)
            continue
        key, transform = found
        out[target] = transform(as_tensor(source[key]))
        used.add(key)
    if missing:
        raise WplusError(f"{what}: missing tensors {missing[:4]}{' ...' if len(missing) > 4 else ''}")
    unused = sorted(k for k in source if k not in used and not ignorable(k))
    if unused:
        raise WplusError(f"{what}: tensors this converter does not understand: "
                         f"{unused[:4]}{' ...' if len(unused) > 4 else ''}")
    return out


def check_fir_buffers(source: dict, what: str, suffixes: tuple[str, ...] = ("resample_filter",)) -> None:
    """Checkpoints store the [1,3,3,1] resampling filter as buffers: accept only that filter
    (any normalisation or gain)."""
    for key, value in source.items():
        if key.endswith(suffixes):
            f = as_tensor(value)
            if f.shape != (4, 4) or not torch.allclose(f / f.sum(), fir_kernel(), atol=1e-6):
                raise WplusError(f"{what}: {key} is not the [1,3,3,1] filter; unsupported generator")


def fit_widths(channels: dict[int, int], what: str) -> tuple[int, int]:
    """(channel_base, channel_max) with channels[res] == min(base // res, max) at every res."""
    cmax = max(channels.values())
    below = [ch * r for r, ch in channels.items() if ch < cmax]
    base = min(below) if below else cmax * max(channels)
    wrong = {r: ch for r, ch in channels.items() if min(base // r, cmax) != ch}
    if wrong or sorted(channels) != [2 ** i for i in range(2, len(channels) + 2)]:
        raise WplusError(f"{what}: channel widths {channels} do not follow min(base / res, max)")
    return base, cmax


def infer_config(sd: dict[str, torch.Tensor], what: str, **extra) -> GeneratorConfig:
    """StyleGAN2 config from NVIDIA-named tensors (+ `extra` fields such as conv_clamp)."""
    fc = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", k)))
    blocks = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"synthesis\.b(\d+)\.torgb\.weight", k)))
    if not fc or not blocks or fc != list(range(len(fc))):
        raise WplusError(f"{what}: no StyleGAN2 mapping/synthesis tensors found")
    base, cmax = fit_widths({r: sd[f"synthesis.b{r}.conv1.weight"].shape[0] for r in blocks}, what)
    return GeneratorConfig(resolution=blocks[-1], z_dim=sd["mapping.fc0.weight"].shape[1],
                           w_dim=sd[f"mapping.fc{fc[-1]}.weight"].shape[0], channel_base=base,
                           channel_max=cmax, mapping_layers=len(fc), **extra)


def generator_targets(cfg: FamilyConfig) -> list[str]:
    """All state-dict names of wplus' generator for `cfg` (any family), in order."""
    with torch.device("meta"):
        return list(make_generator(cfg).state_dict())
