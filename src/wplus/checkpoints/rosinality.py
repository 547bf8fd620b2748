"""rosinality stylegan2-pytorch checkpoints (`.pt` with `g_ema`, optional `latent_avg`).

Names map to wplus' (NVIDIA's) with: mapping `style.{i+1}` -> `mapping.fc{i}`; the input
`input.input` [1, C, 4, 4]; modulated convs `conv.weight` [1, out, in, k, k]; noise weight
`noise.weight` [1]; bias `activate.bias`; ToRGB bias [1, 3, 1, 1]; noise buffers
`noises.noise_{i}` [1, 1, r, r]. The up-sampling conv follows the same transposed-conv +
FIR scheme as NVIDIA's, so weights carry over unchanged. Blur/upsample kernels are buffers:
checked to be the [1,3,3,1] filter, then dropped.
"""
from __future__ import annotations

import argparse
import math
import re

import torch

from ..models.stylegan2 import GeneratorConfig
from .tables import IDENTITY, Rule, check_fir_buffers, convert_by_table, generator_targets, infer_config, parse_target

FORMAT = "rosinality stylegan2-pytorch checkpoint"
_squeeze0 = lambda t: t[0]
_flat = lambda t: t.reshape(-1)
_scalar = lambda t: t.reshape(())
_noise = lambda t: t[0, 0]


def load_pt(path: str) -> dict:
    """torch.load with weights_only (argparse.Namespace of training checkpoints allowed)."""
    with torch.serialization.safe_globals([argparse.Namespace]):
        return torch.load(path, map_location="cpu", weights_only=True)


def is_rosinality(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("g_ema"), dict)


def _layer_prefix(r: int, layer: str) -> str:
    """Where wplus' b{r}.{conv0,conv1,torgb} lives in rosinality's module tree."""
    if r == 4:
        return "conv1." if layer == "conv1" else "to_rgb1."
    i = int(math.log2(r)) - 3  # block index from 8x8 = 0
    return {"conv0": f"convs.{2 * i}.", "conv1": f"convs.{2 * i + 1}.", "torgb": f"to_rgbs.{i}."}[layer]


def rule(name: str) -> Rule | None:
    """wplus name -> (rosinality name, transform)."""
    t = parse_target(name)
    if t is None:
        return None
    if t.kind == "fc":
        return f"style.{t.index + 1}.{t.field}", IDENTITY
    if t.kind == "w_avg":
        return "latent_avg", _flat
    if t.kind == "const":
        return "input.input", _squeeze0
    if t.field == "noise_const":
        return f"noises.noise_{t.noise_index}", _noise
    p = _layer_prefix(t.index, t.layer)
    return {"weight": (p + "conv.weight", _squeeze0),
            "affine.weight": (p + "conv.modulation.weight", IDENTITY),
            "affine.bias": (p + "conv.modulation.bias", IDENTITY),
            "noise_strength": (p + "noise.weight", _scalar),
            "bias": (p + ("bias" if t.layer == "torgb" else "activate.bias"), _flat)}.get(t.field)


def _nvidia_names(g: dict) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in g.items():
        if m := re.fullmatch(r"style\.(\d+)\.weight", key):
            out[f"mapping.fc{int(m[1]) - 1}.weight"] = value
    n_blocks = sum(1 for k in g if re.fullmatch(r"to_rgbs\.\d+\.bias", k)) + 1
    for i in range(n_blocks):
        key = "conv1.conv.weight" if i == 0 else f"convs.{2 * i - 1}.conv.weight"
        if key in g:
            out[f"synthesis.b{2 ** (i + 2)}.conv1.weight"] = g[key][0]
            out[f"synthesis.b{2 ** (i + 2)}.torgb.weight"] = torch.empty(0)
    return out


def _ignorable(key: str) -> bool:
    return key.endswith(("blur.kernel", "upsample.kernel"))


def convert(data: dict, what: str) -> tuple[GeneratorConfig, dict]:
    g = dict(data["g_ema"])
    cfg = infer_config(_nvidia_names(g), what)
    if "latent_avg" in data:
        g["latent_avg"] = data["latent_avg"]
    targets = generator_targets(cfg)
    if "latent_avg" not in g:  # training checkpoints: estimated after loading
        targets.remove("mapping.w_avg")
    check_fir_buffers(g, what, ("blur.kernel", "upsample.kernel"))
    sd = convert_by_table(g, targets, rule, _ignorable, what)
    return cfg, sd
