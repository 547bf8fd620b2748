"""NVIDIA stylegan2-ada-pytorch / stylegan3-repo StyleGAN2 pickles (`G_ema`, `G`, `D`, ...).

Loaded with the restricted unpickler: networks arrive as `PersistentStub`s whose parameter
names are already wplus' names; only the `resample_filter` buffers are dropped (checked to
be the standard filter). StyleGAN3 generators in the same kind of pickle: nvidia_pt_v3.
"""
from __future__ import annotations

from ..errors import WplusError
from ..models.stylegan2 import GeneratorConfig
from .safe_pickle import PersistentStub
from .tables import IDENTITY, check_fir_buffers, convert_by_table, generator_targets, infer_config

FORMAT = "NVIDIA stylegan2-ada-pytorch pickle"


def is_nvidia_pt(data) -> bool:
    return isinstance(data, dict) and any(isinstance(v, PersistentStub) for v in data.values())


def convert(data: dict, what: str) -> tuple[GeneratorConfig, dict]:
    net = data.get("G_ema") or data.get("G")
    if not isinstance(net, PersistentStub):
        raise WplusError(f"{what}: the pickle has no generator (keys: {sorted(data)}); "
                         "a discriminator-only file cannot be embedded into")
    modules = net.modules()
    if net.class_name != "Generator":
        raise WplusError(f"{what}: G_ema is a {net.class_name}, expected a StyleGAN2 Generator")
    if int(net.state.get("c_dim") or 0):
        raise WplusError(f"{what}: a class-conditional generator (c_dim > 0) is not supported")
    for path, module in modules.items():
        arch = module.state.get("architecture")
        if module.class_name == "SynthesisBlock" and arch != "skip":
            raise WplusError(f"{what}: {path} uses the '{arch}' architecture; only 'skip' is supported")
    source = net.tensors()
    check_fir_buffers(source, what)
    mapping = modules.get("mapping")
    fc0 = modules.get("mapping.fc0")
    clamps = {m.state.get("conv_clamp") for m in modules.values() if m.class_name == "SynthesisLayer"}
    extra = dict(mapping_lr_multiplier=float(fc0.state.get("bias_gain", 0.01)) if fc0 else 0.01,
                 w_avg_beta=float(mapping.state.get("w_avg_beta", 0.995)) if mapping else 0.995,
                 conv_clamp=(None if clamps == {None} else float(max(c for c in clamps if c is not None))))
    cfg = infer_config(source, what, **extra)
    sd = convert_by_table(source, generator_targets(cfg), lambda t: (t, IDENTITY),
                          lambda k: k.endswith("resample_filter"), what)
    return cfg, sd
