"""NVIDIA stylegan3 pickles of StyleGAN3 generators (`stylegan3-t-*.pkl`, `stylegan3-r-*.pkl`):
`G_ema` of class `training.networks_stylegan3.Generator`, read through the restricted
unpickler as `PersistentStub`s.

Tensor names are already wplus' (identity table, exact coverage), the stored up/down filters
included. The design parameters come from the generator's `_init_kwargs` (NVIDIA's defaults
for the missing ones) and from the modules' own attributes; every layer's sizes, sampling
rates, cutoffs, resampling factors and padding are then recomputed and must equal the stored
ones, so a generator wplus would render differently is refused rather than loaded.
"""
from __future__ import annotations

import numpy as np

from ..errors import WplusError
from ..models.stylegan3 import StyleGAN3Config, layer_specs
from .safe_pickle import PersistentStub
from .tables import IDENTITY, convert_by_table, generator_targets

FORMAT = "NVIDIA stylegan3 pickle (StyleGAN3)"

_FROM_KWARGS = ("channel_base", "channel_max", "first_cutoff", "first_stopband", "last_stopband_rel",
                "filter_size", "lrelu_upsampling", "num_critical", "margin_size", "output_scale")


def _generator(data) -> PersistentStub | None:
    if not isinstance(data, dict):
        return None
    net = data.get("G_ema") or data.get("G")
    return net if isinstance(net, PersistentStub) else None


def is_nvidia_pt_v3(data) -> bool:
    """An NVIDIA network pickle whose generator has a Fourier-feature `SynthesisInput`."""
    net = _generator(data)
    return net is not None and any(m.class_name == "SynthesisInput" for m in net.modules().values())


def _scalar(value) -> float:
    return float(np.asarray(value).ravel()[0])


def _layer_kwargs(modules: dict[str, PersistentStub]) -> dict:
    """conv_kernel, use_radial_filters and conv_clamp as stored on the layers."""
    layers = [m for m in modules.values() if m.class_name == "SynthesisLayer"]
    convs = [m for m in layers if not m.state.get("is_torgb")]
    clamps = {m.state.get("conv_clamp") for m in layers}
    out = {"use_radial_filters": any(bool(m.state.get("down_radial")) for m in convs)}
    if convs and convs[0].state.get("conv_kernel") is not None:
        out["conv_kernel"] = int(convs[0].state["conv_kernel"])
    if len(clamps) == 1:
        clamp = clamps.pop()
        out["conv_clamp"] = None if clamp is None else float(clamp)
    return out


def infer_config(net: PersistentStub, what: str) -> StyleGAN3Config:
    """The design parameters of a StyleGAN3 generator stub."""
    kwargs = dict(net.state.get("_init_kwargs") or {})
    modules = net.modules()
    mapping, synthesis = modules.get("mapping"), modules.get("synthesis")
    n_fc = int(mapping.state.get("num_layers", 2)) if mapping is not None else 0
    if synthesis is None or n_fc < 1 or "mapping.fc0" not in modules or f"mapping.fc{n_fc - 1}" not in modules:
        raise WplusError(f"{what}: the StyleGAN3 generator has no mapping/synthesis networks")
    if int(net.state.get("c_dim") or 0):
        raise WplusError(f"{what}: a class-conditional generator (c_dim > 0) is not supported")
    if int(net.state.get("img_channels", 3)) != 3:
        raise WplusError(f"{what}: {net.state.get('img_channels')} image channels; wplus needs RGB (3)")
    fields = {k: kwargs[k] for k in _FROM_KWARGS if k in kwargs}
    fields.update(_layer_kwargs(modules))
    stored = ("num_critical", "margin_size", "output_scale")
    fields.update({k: synthesis.state[k] for k in stored if k in synthesis.state})
    fields = {k: v.item() if hasattr(v, "item") else v for k, v in fields.items()}  # numpy -> JSON-able
    default_r = fields.get("conv_kernel") == 1 and fields.get("use_radial_filters")
    fields.setdefault("channel_base", 65536 if default_r else 32768)
    fields.setdefault("channel_max", 1024 if default_r else 512)
    fc0, fc_last = modules["mapping.fc0"], modules[f"mapping.fc{n_fc - 1}"]
    return StyleGAN3Config(
        resolution=int(net.state.get("img_resolution") or synthesis.state["img_resolution"]),
        z_dim=int(fc0.tensors()["weight"].shape[1]), w_dim=int(fc_last.tensors()["weight"].shape[0]),
        mapping_layers=n_fc,
        mapping_lr_multiplier=float(fc0.state.get("bias_gain", 0.01)),
        w_avg_beta=float(mapping.state.get("w_avg_beta", 0.998)),
        num_layers=int(synthesis.state.get("num_layers", 14)), **fields)


def _expected(spec) -> dict[str, float]:
    return {"in_size": spec.in_size, "out_size": spec.out_size, "in_sampling_rate": spec.in_rate,
            "out_sampling_rate": spec.out_rate, "in_cutoff": spec.in_cutoff, "out_cutoff": spec.out_cutoff,
            "in_half_width": spec.in_half_width, "out_half_width": spec.out_half_width,
            "out_channels": spec.out_channels}


def check_layers(cfg: StyleGAN3Config, modules: dict[str, PersistentStub], what: str) -> None:
    """Every stored layer attribute must equal the one recomputed from `cfg`."""
    stored_names = [m.split(".")[1] for m, s in modules.items()
                    if s.class_name == "SynthesisLayer" and m.count(".") == 1]
    specs = layer_specs(cfg)[1:]
    if stored_names != [s.name for s in specs]:
        raise WplusError(f"{what}: layers {stored_names[:3]}... differ from the design's {[s.name for s in specs][:3]}"
                         "...; an unsupported StyleGAN3 variant")
    for spec in specs:
        state = modules[f"synthesis.{spec.name}"].state
        for key, value in _expected(spec).items():
            if key in state and not np.isclose(_scalar(state[key]), value, rtol=1e-6, atol=1e-6):
                raise WplusError(f"{what}: synthesis.{spec.name}.{key} is {_scalar(state[key]):g}, the design "
                                 f"gives {value:g}; an unsupported StyleGAN3 variant")


def convert(data: dict, what: str) -> tuple[StyleGAN3Config, dict]:
    net = _generator(data)
    if net.class_name != "Generator":
        raise WplusError(f"{what}: G_ema is a {net.class_name}, expected a StyleGAN3 Generator")
    cfg = infer_config(net, what)
    check_layers(cfg, net.modules(), what)
    sd = convert_by_table(net.tensors(), generator_targets(cfg), lambda t: (t, IDENTITY), lambda k: False, what)
    return cfg, sd
