"""NVIDIA TensorFlow StyleGAN2 pickles: a tuple (G, D, Gs) of `dnnlib.tflib.network.Network`.

Variables of Gs (`mapping/Dense0/weight`, `synthesis/8x8/Conv0_up/weight`, `dlatent_avg`, ...)
map to wplus' names with the layout changes of TF: dense weights [in, out] -> [out, in];
conv weights [k, k, in, out] -> [out, in, k, k], the up-sampling conv flipped spatially
(TF's fused up-conv correlates where PyTorch's transposed conv convolves); affine biases
stored without their +1; noise maps [1, 1, r, r]; the constant [1, C, 4, 4].
"""
from __future__ import annotations

import re

import torch

from ..errors import WplusError
from ..models.stylegan2 import GeneratorConfig
from .safe_pickle import TFNetworkStub
from .tables import IDENTITY, Rule, convert_by_table, generator_targets, infer_config, parse_target

FORMAT = "NVIDIA TensorFlow StyleGAN2 pickle"

_dense = lambda t: t.t()
_conv = lambda t: t.permute(3, 2, 0, 1)
_conv_up = lambda t: t.flip([0, 1]).permute(3, 2, 0, 1)
_plus_one = lambda t: t + 1
_noise = lambda t: t[0, 0]
_const = lambda t: t[0]

_LAYER = {"weight": None, "bias": IDENTITY, "noise_strength": IDENTITY,
          "affine.weight": ("mod_weight", _dense), "affine.bias": ("mod_bias", _plus_one)}


def is_nvidia_tf(data) -> bool:
    return isinstance(data, tuple) and len(data) == 3 and all(isinstance(n, TFNetworkStub) for n in data)


def rule(name: str) -> Rule | None:
    """wplus name -> (TF variable name, transform)."""
    t = parse_target(name)
    if t is None:
        return None
    if t.kind == "fc":
        return f"mapping/Dense{t.index}/{t.field}", _dense if t.field == "weight" else IDENTITY
    if t.kind == "w_avg":
        return "dlatent_avg", IDENTITY
    if t.kind == "const":
        return "synthesis/4x4/Const/const", _const
    r = t.index
    scope = {"conv0": "Conv0_up", "conv1": "Conv" if r == 4 else "Conv1", "torgb": "ToRGB"}[t.layer]
    prefix = f"synthesis/{r}x{r}/{scope}/"
    if t.field == "noise_const":
        return f"synthesis/noise{t.noise_index}", _noise
    if t.field == "weight":
        return prefix + "weight", _conv_up if t.layer == "conv0" else _conv
    spec = _LAYER.get(t.field)
    if isinstance(spec, tuple):
        return prefix + spec[0], spec[1]
    return (prefix + t.field, spec) if spec else None


def _nvidia_names(params: dict) -> dict[str, torch.Tensor]:
    """Just enough renaming for `infer_config` (shapes only)."""
    out = {}
    for key, value in params.items():
        if m := re.fullmatch(r"mapping/Dense(\d+)/weight", key):
            out[f"mapping.fc{m[1]}.weight"] = torch.empty(value.shape[::-1])
        elif m := re.fullmatch(r"synthesis/(\d+)x\d+/(Conv|Conv1)/weight", key):
            out[f"synthesis.b{m[1]}.conv1.weight"] = torch.empty(value.shape[3])
        elif m := re.fullmatch(r"synthesis/(\d+)x\d+/ToRGB/weight", key):
            out[f"synthesis.b{m[1]}.torgb.weight"] = torch.empty(0)
    return out


def convert(data: tuple, what: str) -> tuple[GeneratorConfig, dict]:
    Gs = data[2]
    params = Gs.params()
    if any(k.startswith("synthesis/ToRGB_lod") or "/Skip/" in k for k in params):
        raise WplusError(f"{what}: a StyleGAN2 'orig' or 'resnet' generator; only 'skip' is supported")
    if any(k.startswith("mapping/LabelEmbed") for k in params):
        raise WplusError(f"{what}: a class-conditional generator is not supported")
    kwargs = Gs.state.get("static_kwargs") or {}
    extra = dict(mapping_lr_multiplier=float(kwargs.get("mapping_lrmul", 0.01)),
                 w_avg_beta=float(kwargs.get("dlatent_avg_beta", 0.995)))
    cfg = infer_config(_nvidia_names(params), what, **extra)
    # 'synthesis/lod' is the progressive-growing level variable: unused by StyleGAN2 itself.
    sd = convert_by_table(params, generator_targets(cfg), rule, lambda k: k.split("/")[-1] == "lod", what)
    return cfg, sd
