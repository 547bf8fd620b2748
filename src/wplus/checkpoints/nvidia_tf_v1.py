"""NVIDIA TensorFlow StyleGAN (v1) pickles, e.g. `karras2019stylegan-ffhq-1024x1024.pkl`: a
tuple (G, D, Gs) of `dnnlib.tflib.network.Network`; Gs (`G_style`) has the components
`G_mapping` and `G_synthesis`.

Variables, named as NVIDIA's `Gs.vars` (`dlatent_avg`, `G_mapping/Dense0/weight`,
`G_synthesis/4x4/Const/const`, `G_synthesis/8x8/Conv0_up/StyleMod/weight`,
`G_synthesis/noise0`, `G_synthesis/ToRGB_lod0/weight`), map to wplus' StyleGAN (v1) names
with TF's layouts undone: dense [in, out] -> [out, in]; conv [k, k, in, out] -> [out, in, k, k],
flipped spatially where TF used its fused up-sampling conv (`fused_scale`: 'auto' = from
128² on), which is a transposed conv of the stored kernel, i.e. nearest up-sampling then a
conv with the flipped kernel; constant [1, C, 4, 4] and noise [1, 1, R, R] lose their batch
axes. Only the fully grown network (`lod` 0) is supported: the ToRGB of lower levels of
detail (`ToRGB_lod1`, ...) are unused there and ignored.
"""
from __future__ import annotations

import math
import re
from typing import Callable

import numpy as np

from ..errors import WplusError
from ..models.stylegan1 import StyleGAN1Config
from .safe_pickle import TFNetworkStub
from .tables import IDENTITY, Rule, convert_by_table, fit_widths, generator_targets

FORMAT = "NVIDIA TensorFlow StyleGAN (v1) pickle"

#: Settings of NVIDIA's G_style / G_mapping / G_synthesis that wplus' StyleGAN (v1) implements.
SUPPORTED = dict(use_wscale=True, use_styles=True, const_input_layer=True, use_noise=True, use_pixel_norm=False,
                 use_instance_norm=True, nonlinearity="lrelu", mapping_nonlinearity="lrelu", normalize_latents=True,
                 blur_filter=[1, 2, 1], fmap_decay=1.0, label_size=0, num_channels=3, dtype="float32")

_dense = lambda t: t.t()
_conv = lambda t: t.permute(3, 2, 0, 1)
_conv_flipped = lambda t: t.flip([0, 1]).permute(3, 2, 0, 1)
_torgb = lambda t: t[0, 0].t()
_batch0 = lambda t: t[0]
_noise = lambda t: t[0, 0]


def is_nvidia_tf_v1(data) -> bool:
    """A TF (G, D, Gs) tuple whose Gs has StyleGAN (v1) style modulation layers."""
    return (isinstance(data, tuple) and len(data) == 3 and all(isinstance(n, TFNetworkStub) for n in data)
            and any(k.endswith("/StyleMod/weight") for k in data[2].named_vars()))


def _fused(res: int, fused_scale) -> bool:
    return fused_scale is True or (fused_scale == "auto" and res >= 128)


def make_rule(fused_scale) -> Callable[[str], Rule | None]:
    """wplus name -> (TF variable name, transform), for the given `fused_scale` setting."""
    def rule(name: str) -> Rule | None:
        if m := re.fullmatch(r"mapping\.fc(\d+)\.(weight|bias)", name):
            return f"G_mapping/Dense{m[1]}/{m[2]}", _dense if m[2] == "weight" else IDENTITY
        if name == "mapping.w_avg":
            return "dlatent_avg", IDENTITY
        if name == "synthesis.b4.const":
            return "G_synthesis/4x4/Const/const", _batch0
        if m := re.fullmatch(r"synthesis\.torgb\.(weight|bias)", name):
            return f"G_synthesis/ToRGB_lod0/{m[1]}", _torgb if m[1] == "weight" else IDENTITY
        m = re.fullmatch(r"synthesis\.b(\d+)\.layer([01])\.(.+)", name)
        if m is None:
            return None
        res, j, field = int(m[1]), int(m[2]), m[3]
        scope = f"G_synthesis/{res}x{res}/" + (("Const", "Conv") if res == 4 else ("Conv0_up", "Conv1"))[j]
        flip = j == 0 and _fused(res, fused_scale)
        return {"weight": (scope + "/weight", _conv_flipped if flip else _conv),
                "bias": (scope + "/bias", IDENTITY),
                "noise_strength": (scope + "/Noise/weight", IDENTITY),
                "noise_const": (f"G_synthesis/noise{2 * int(math.log2(res)) - 4 + j}", _noise),
                "affine.weight": (scope + "/StyleMod/weight", _dense),
                "affine.bias": (scope + "/StyleMod/bias", IDENTITY)}.get(field)
    return rule


def _ignorable(name: str) -> bool:
    """Progressive-growing leftovers: the `lod` variables and the ToRGB of lower levels."""
    return name.split("/")[-1] == "lod" or re.match(r"G_synthesis/ToRGB_lod[1-9]\d*/", name) is not None


def _check_settings(kwargs: dict, variables: dict, what: str) -> None:
    for key, supported in SUPPORTED.items():
        if key in kwargs and kwargs[key] != supported:
            raise WplusError(f"{what}: a StyleGAN (v1) with {key}={kwargs[key]!r}; wplus supports {supported!r} only")
    if kwargs.get("fused_scale", "auto") not in ("auto", True, False):
        raise WplusError(f"{what}: unknown fused_scale {kwargs['fused_scale']!r} (expected 'auto', True or False)")
    for key in ("lod", "G_synthesis/lod"):
        if key in variables and float(np.asarray(variables[key])) != 0:
            raise WplusError(f"{what}: a snapshot taken while growing ({key} = {float(variables[key]):g}); "
                             "use a fully grown network (lod 0)")


def infer_config(variables: dict, kwargs: dict, what: str) -> StyleGAN1Config:
    """Config from the variables' shapes and the networks' static kwargs."""
    dense = sorted(int(m[1]) for k in variables if (m := re.fullmatch(r"G_mapping/Dense(\d+)/weight", k)))
    convs = {int(m[1]): variables[k].shape[3] for k in variables
             if (m := re.fullmatch(r"G_synthesis/(\d+)x\d+/(Conv|Conv1)/weight", k))}
    if not dense or dense != list(range(len(dense))) or not convs:
        raise WplusError(f"{what}: no StyleGAN (v1) G_mapping/G_synthesis variables found")
    base, cmax = fit_widths(convs, what)
    cutoff = kwargs.get("truncation_cutoff", 8)
    return StyleGAN1Config(resolution=max(convs), z_dim=variables["G_mapping/Dense0/weight"].shape[0],
                           w_dim=variables[f"G_mapping/Dense{dense[-1]}/weight"].shape[1], channel_base=base,
                           channel_max=cmax, mapping_layers=len(dense),
                           mapping_lr_multiplier=float(kwargs.get("mapping_lrmul", 0.01)),
                           w_avg_beta=float(kwargs.get("dlatent_avg_beta") or 0.995),
                           truncation_cutoff=None if cutoff is None or cutoff <= 0 else int(cutoff))


def convert(data: tuple, what: str) -> tuple[StyleGAN1Config, dict]:
    Gs = data[2]
    variables, kwargs = Gs.named_vars(), Gs.all_static_kwargs()
    _check_settings(kwargs, variables, what)
    cfg = infer_config(variables, kwargs, what)
    rule = make_rule(kwargs.get("fused_scale", "auto"))
    return cfg, convert_by_table(variables, generator_targets(cfg), rule, _ignorable, what)
