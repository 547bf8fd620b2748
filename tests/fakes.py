"""Build small fake checkpoints with the exact structure of each format users bring.

Each starts from a wplus generator (random weights, non-zero noise strengths) and writes its
tensors in the foreign layout with the foreign names, module paths and pickle machinery.
The inverse tables here are written from the formats' documentation, independently of
wplus.checkpoints.
"""
from __future__ import annotations

import collections
import math
import pickle
import sys
import types
from pathlib import Path

import torch

from wplus.models.stylegan2 import Generator, fir_kernel

EVIL_SRC = "import pathlib\npathlib.Path('{marker}').write_text('module_src was executed')\n"


# --- NVIDIA stylegan2-ada-pytorch ------------------------------------------------------
class _Persistent:
    """Pickles exactly like an object of a `@persistence.persistent_class` class."""

    def __init__(self, class_name: str, state: dict, marker: str) -> None:
        self.class_name, self.state, self.marker = class_name, state, marker

    def __reduce__(self):
        meta = dict(type="class", version=4, module_src=EVIL_SRC.format(marker=self.marker),
                    class_name=self.class_name, state=self.state)
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (meta,))


class _EasyDict(dict):
    pass


def _fake_nvidia_modules(monkeypatch) -> None:
    pkg = types.ModuleType("torch_utils")
    persistence = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # never called by wplus
        raise AssertionError("reconstruct called")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    pkg.persistence = persistence
    dnnlib, util = types.ModuleType("dnnlib"), types.ModuleType("dnnlib.util")
    _EasyDict.__module__, _EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    util.EasyDict = _EasyDict
    dnnlib.util = util
    for name, mod in [("torch_utils", pkg), ("torch_utils.persistence", persistence),
                      ("dnnlib", dnnlib), ("dnnlib.util", util)]:
        monkeypatch.setitem(sys.modules, name, mod)


def _module_state(params: dict, buffers: dict, modules: dict, **attrs) -> dict:
    return {"training": False, "_parameters": collections.OrderedDict(
        (k, torch.nn.Parameter(v.clone(), requires_grad=False)) for k, v in params.items()),
        "_buffers": collections.OrderedDict(buffers), "_modules": collections.OrderedDict(modules),
        "_forward_hooks": collections.OrderedDict(), "_non_persistent_buffers_set": set(),
        "_init_args": (), "_init_kwargs": _EasyDict(attrs.pop("init_kwargs", {})), **attrs}


def nvidia_pt_pickle(G: Generator, path: Path, marker: Path, monkeypatch, *, d_only: bool = False) -> Path:
    """A stylegan2-ada-pytorch network pickle {G, D, G_ema, augment_pipe, training_set_kwargs}."""
    _fake_nvidia_modules(monkeypatch)
    sd, cfg, m = G.state_dict(), G.config, str(marker)
    filt = fir_kernel()

    def fc(prefix, lr=1.0):
        return _Persistent("FullyConnectedLayer", _module_state(
            {"weight": sd[prefix + ".weight"], "bias": sd[prefix + ".bias"]}, {}, {},
            activation="lrelu" if lr != 1.0 else "linear", weight_gain=lr / math.sqrt(sd[prefix + ".weight"].shape[1]),
            bias_gain=lr), m)

    def layer(prefix, cls):
        params = {k: sd[f"{prefix}.{k}"] for k in ("weight", "noise_strength", "bias") if f"{prefix}.{k}" in sd}
        buffers = {"resample_filter": filt.clone()} if cls == "SynthesisLayer" else {}
        if f"{prefix}.noise_const" in sd:
            buffers["noise_const"] = sd[f"{prefix}.noise_const"]
        return _Persistent(cls, _module_state(params, buffers, {"affine": fc(prefix + ".affine")},
                                              conv_clamp=cfg.conv_clamp), m)

    mapping = _Persistent("MappingNetwork", _module_state(
        {}, {"w_avg": sd["mapping.w_avg"]},
        {f"fc{i}": fc(f"mapping.fc{i}", cfg.mapping_lr_multiplier) for i in range(cfg.mapping_layers)},
        w_avg_beta=cfg.w_avg_beta, z_dim=cfg.z_dim, w_dim=cfg.w_dim), m)
    blocks = {}
    for res in G.synthesis.resolutions:
        p = f"synthesis.b{res}"
        mods = {} if res == 4 else {"conv0": layer(p + ".conv0", "SynthesisLayer")}
        mods.update(conv1=layer(p + ".conv1", "SynthesisLayer"), torgb=layer(p + ".torgb", "ToRGBLayer"))
        params = {"const": sd[p + ".const"]} if res == 4 else {}
        blocks[f"b{res}"] = _Persistent("SynthesisBlock", _module_state(
            params, {"resample_filter": filt.clone()}, mods, architecture="skip", resolution=res), m)
    synthesis = _Persistent("SynthesisNetwork", _module_state({}, {}, blocks, img_resolution=cfg.resolution), m)
    gen = _Persistent("Generator", _module_state({}, {}, {"synthesis": synthesis, "mapping": mapping},
                                                 z_dim=cfg.z_dim, c_dim=0, w_dim=cfg.w_dim,
                                                 img_resolution=cfg.resolution, num_ws=cfg.num_ws,
                                                 init_kwargs={"z_dim": cfg.z_dim}), m)
    disc = _Persistent("Discriminator", _module_state({"weight": torch.randn(4, 3)}, {}, {}), m)
    data = {"D": disc, "augment_pipe": None,
            "training_set_kwargs": _EasyDict(resolution=cfg.resolution, use_labels=False)}
    if not d_only:
        data.update(G=gen, G_ema=gen)
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path


# --- NVIDIA TensorFlow StyleGAN2 -------------------------------------------------------
class _TFNetwork:
    def __init__(self, name: str, variables: list, components: dict, static_kwargs: dict) -> None:
        self.state = dict(version=4, name=name, static_kwargs=static_kwargs, components=components,
                          build_module_src="raise SystemExit('build source was executed')",
                          build_func_name="G_main", variables=variables)

    def __getstate__(self):
        return self.state


def tf_variables(G: Generator) -> dict[str, torch.Tensor]:
    """Gs' variables in TF layout, named as in NVIDIA's TF StyleGAN2 (config-e/f, 'skip')."""
    sd, out = G.state_dict(), {}
    for i in range(G.config.mapping_layers):
        out[f"mapping/Dense{i}/weight"] = sd[f"mapping.fc{i}.weight"].t()
        out[f"mapping/Dense{i}/bias"] = sd[f"mapping.fc{i}.bias"]
    out["dlatent_avg"] = sd["mapping.w_avg"]
    out["synthesis/4x4/Const/const"] = sd["synthesis.b4.const"][None]
    noise_index = 0
    for res in G.synthesis.resolutions:
        scopes = [("conv1", "Conv")] if res == 4 else [("conv0", "Conv0_up"), ("conv1", "Conv1")]
        for name, scope in scopes + [("torgb", "ToRGB")]:
            p, t = f"synthesis.b{res}.{name}.", f"synthesis/{res}x{res}/{scope}/"
            w = sd[p + "weight"].permute(2, 3, 1, 0)  # [out,in,k,k] -> [k,k,in,out]
            out[t + "weight"] = w.flip([0, 1]) if scope == "Conv0_up" else w
            out[t + "bias"] = sd[p + "bias"]
            out[t + "mod_weight"] = sd[p + "affine.weight"].t()
            out[t + "mod_bias"] = sd[p + "affine.bias"] - 1
            if name != "torgb":
                out[t + "noise_strength"] = sd[p + "noise_strength"]
                out[f"synthesis/noise{noise_index}"] = sd[p + "noise_const"][None, None]
                noise_index += 1
    return out


def nvidia_tf_pickle_modules(monkeypatch) -> None:
    """Make `_TFNetwork` pickle as `dnnlib.tflib.network.Network`."""
    mod = types.ModuleType("dnnlib.tflib.network")
    _TFNetwork.__module__, _TFNetwork.__qualname__ = "dnnlib.tflib.network", "Network"
    mod.Network = _TFNetwork
    for name in ("dnnlib", "dnnlib.tflib"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "dnnlib.tflib.network", mod)


def nvidia_tf_pickle(G: Generator, path: Path, monkeypatch) -> Path:
    nvidia_tf_pickle_modules(monkeypatch)
    v = {k: t.numpy().copy() for k, t in tf_variables(G).items()}
    split = lambda prefix: [(k[len(prefix):], a) for k, a in v.items() if k.startswith(prefix)]
    mapping = _TFNetwork("G_mapping", split("mapping/"), {}, {})
    synthesis = _TFNetwork("G_synthesis", split("synthesis/") + [("lod", torch.zeros(()).numpy())], {}, {})
    Gs = _TFNetwork("G", [("dlatent_avg", v["dlatent_avg"])],
                    {"mapping": mapping, "synthesis": synthesis},
                    {"resolution": G.resolution, "mapping_lrmul": G.config.mapping_lr_multiplier})
    D = _TFNetwork("D", [("4x4/Dense0/weight", torch.zeros(2, 2).numpy())], {}, {})
    path.write_bytes(pickle.dumps((Gs, D, Gs), protocol=3))
    return path


# --- rosinality stylegan2-pytorch ------------------------------------------------------
def rosinality_state(G: Generator) -> dict[str, torch.Tensor]:
    sd, out = G.state_dict(), {}
    for i in range(G.config.mapping_layers):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.fc{i}.bias"]
    out["input.input"] = sd["synthesis.b4.const"][None]
    blur = fir_kernel() * 4  # make_kernel([1,3,3,1]) (normalised) times upsample factor²
    noise_index = 0
    for k, res in enumerate(G.synthesis.resolutions):
        if res == 4:
            places = [("conv1", "conv1."), ("torgb", "to_rgb1.")]
        else:
            i = k - 1
            places = [("conv0", f"convs.{2 * i}."), ("conv1", f"convs.{2 * i + 1}."), ("torgb", f"to_rgbs.{i}.")]
        for name, r in places:
            p = f"synthesis.b{res}.{name}."
            out[r + "conv.weight"] = sd[p + "weight"][None]
            out[r + "conv.modulation.weight"] = sd[p + "affine.weight"]
            out[r + "conv.modulation.bias"] = sd[p + "affine.bias"]
            if name == "torgb":
                out[r + "bias"] = sd[p + "bias"].view(1, 3, 1, 1)
                if res > 4:
                    out[r + "upsample.kernel"] = blur.clone()
            else:
                out[r + "noise.weight"] = sd[p + "noise_strength"].view(1)
                out[r + "activate.bias"] = sd[p + "bias"]
                out[f"noises.noise_{noise_index}"] = sd[p + "noise_const"][None, None]
                noise_index += 1
                if name == "conv0":
                    out[r + "conv.blur.kernel"] = blur.clone()
    return out


# --- NVIDIA TensorFlow StyleGAN (v1) ---------------------------------------------------
def tf_v1_variables(G, fused_scale="auto") -> dict[str, torch.Tensor]:
    """Gs.vars of a TF StyleGAN (v1) `G_style` (NVIDIA's names and layouts) from a wplus
    StyleGAN1Generator: dense [in, out], conv [k, k, in, out], StyleMod [w_dim, 2C]; a fused
    up-sampling conv (transposed conv of the stored kernel) stores the kernel flipped."""
    sd, cfg, out = G.state_dict(), G.config, {"lod": torch.zeros(()), "dlatent_avg": G.state_dict()["mapping.w_avg"]}
    for i in range(cfg.mapping_layers):
        out[f"G_mapping/Dense{i}/weight"] = sd[f"mapping.fc{i}.weight"].t()
        out[f"G_mapping/Dense{i}/bias"] = sd[f"mapping.fc{i}.bias"]
    syn = {"lod": torch.zeros(()), "4x4/Const/const": sd["synthesis.b4.const"][None]}
    for i, res in enumerate(G.synthesis.resolutions):
        for j, scope in enumerate(("Const", "Conv") if res == 4 else ("Conv0_up", "Conv1")):
            p, t = f"synthesis.b{res}.layer{j}.", f"{res}x{res}/{scope}/"
            if scope != "Const":
                w = sd[p + "weight"].permute(2, 3, 1, 0)
                fused = scope == "Conv0_up" and (fused_scale is True or (fused_scale == "auto" and res >= 128))
                syn[t + "weight"] = w.flip([0, 1]) if fused else w
            syn[t + "Noise/weight"] = sd[p + "noise_strength"]
            syn[t + "bias"] = sd[p + "bias"]
            syn[t + "StyleMod/weight"] = sd[p + "affine.weight"].t()
            syn[t + "StyleMod/bias"] = sd[p + "affine.bias"]
            syn[f"noise{2 * i + j}"] = sd[p + "noise_const"][None, None]
        lod = len(G.synthesis.resolutions) - 1 - i
        channels = sd[f"synthesis.b{res}.layer1.bias"].shape[0]
        syn[f"ToRGB_lod{lod}/weight"] = (sd["synthesis.torgb.weight"].t()[None, None] if lod == 0
                                         else torch.randn(1, 1, channels, 3))
        syn[f"ToRGB_lod{lod}/bias"] = sd["synthesis.torgb.bias"] if lod == 0 else torch.randn(3)
    out.update({f"G_synthesis/{k}": v for k, v in syn.items()})
    return out


def nvidia_tf_v1_pickle(G, path: Path, monkeypatch, *, fused_scale="auto", variables=None) -> Path:
    """karras2019stylegan-*.pkl layout: (G, D, Gs), Gs = G_style with components
    {'mapping': G_mapping, 'synthesis': G_synthesis}; `variables` overrides Gs.vars."""
    nvidia_tf_pickle_modules(monkeypatch)
    v = {k: t.numpy().copy() for k, t in (variables or tf_v1_variables(G, fused_scale)).items()}
    own = lambda prefix: [(k[len(prefix):], a) for k, a in v.items() if k.startswith(prefix)]
    kwargs = {"resolution": G.resolution, "num_channels": 3, "fused_scale": fused_scale, "structure": "auto"}
    mapping = _TFNetwork("G_mapping", own("G_mapping/"), {}, dict(kwargs, dlatent_broadcast=G.num_ws))
    synthesis = _TFNetwork("G_synthesis", own("G_synthesis/"), {}, kwargs)
    Gs = _TFNetwork("G", [(k, a) for k, a in v.items() if "/" not in k],
                    {"synthesis": synthesis, "mapping": mapping}, dict(kwargs, truncation_psi=0.7))
    Gs.state["build_func_name"] = "G_style"
    D = _TFNetwork("D", [("4x4/Dense0/weight", torch.zeros(2, 2).numpy())], {}, {})
    path.write_bytes(pickle.dumps((Gs, D, Gs), protocol=3))
    return path


# --- NVIDIA stylegan3 (StyleGAN3 T / R) ------------------------------------------------
def stylegan3_design(res: int, channel_base: int, channel_max: int, conv_kernel: int, radial: bool) -> list[dict]:
    """Per-layer attributes of networks_stylegan3.SynthesisNetwork (paper, appendix F), with
    filters designed by scipy; entry 0 is the Fourier input."""
    import numpy as np
    import scipy.signal
    import scipy.special
    n, crit = 14, 2
    e = np.minimum(np.arange(n + 1) / (n - crit), 1)
    cut = 2 * (res / 2 / 2) ** e
    stop = 2 ** 2.1 * (res / 2 * 2 ** 0.3 / 2 ** 2.1) ** e
    rate = np.exp2(np.ceil(np.log2(np.minimum(stop * 2, res))))
    half = np.maximum(stop, rate / 2) - cut
    size = rate + 20
    size[-2:] = res
    ch = np.rint(np.minimum(channel_base / 2 / cut, channel_max))
    ch[-1] = 3

    def design(taps, cutoff, width, fs, rad):
        if taps == 1:
            return None
        if not rad:
            f = scipy.signal.firwin(numtaps=taps, cutoff=cutoff, width=width, fs=fs)
            return torch.as_tensor(f, dtype=torch.float32)
        x = (np.arange(taps) - (taps - 1) / 2) / fs
        r = np.hypot(*np.meshgrid(x, x))
        f = scipy.special.j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
        w = np.kaiser(taps, scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(taps, width / (fs / 2))))
        f *= np.outer(w, w)
        return torch.as_tensor(f / f.sum(), dtype=torch.float32)

    out = [dict(channels=int(ch[0]), size=np.array([int(size[0])] * 2), sampling_rate=rate[0], bandwidth=cut[0])]
    for i in range(n + 1):
        p, torgb, critical = max(i - 1, 0), i == n, i >= n - crit
        k = 1 if torgb else conv_kernel
        tmp = max(rate[p], rate[i]) * (1 if torgb else 2)
        up, down = int(np.rint(tmp / rate[p])), int(np.rint(tmp / rate[i]))
        up_taps = 6 * up if up > 1 and not torgb else 1
        down_taps = 6 * down if down > 1 and not torgb else 1
        total = (int(size[i]) - 1) * down + 1 - (int(size[p]) + k - 1) * up + up_taps + down_taps - 2
        lo = (total + up) // 2
        out.append(dict(
            name=f"L{i}_{int(size[i])}_{int(ch[i])}", is_torgb=torgb, is_critically_sampled=critical, use_fp16=False,
            in_channels=int(ch[p]), out_channels=int(ch[i]), in_size=np.array([int(size[p])] * 2),
            out_size=np.array([int(size[i])] * 2), in_sampling_rate=int(rate[p]), out_sampling_rate=int(rate[i]),
            tmp_sampling_rate=tmp, in_cutoff=cut[p], out_cutoff=cut[i], in_half_width=half[p], out_half_width=half[i],
            conv_kernel=k, conv_clamp=256, magnitude_ema_beta=0.999, up_factor=up, up_taps=up_taps, down_factor=down,
            down_taps=down_taps, down_radial=radial and not critical, padding=[lo, total - lo, lo, total - lo],
            up_filter=design(up_taps, cut[p], half[p] * 2, tmp, False),
            down_filter=design(down_taps, cut[i], half[i] * 2, tmp, radial and not critical)))
    return out


def stylegan3_state(G, design: list[dict]) -> dict[str, torch.Tensor]:
    """G's tensors with NVIDIA's (scipy-designed) filters in place of wplus' own."""
    sd = dict(G.state_dict())
    for layer in design[1:]:
        for key in ("up_filter", "down_filter"):
            if layer[key] is not None:
                sd[f"synthesis.{layer['name']}.{key}"] = layer[key]
    return sd


def nvidia_v3_pickle(G, path: Path, marker: Path, monkeypatch, *, radial: bool = False,
                     state: dict | None = None, attrs: dict | None = None) -> Path:
    """A stylegan3 network pickle {G, D, G_ema, ...}; G_ema a networks_stylegan3.Generator.
    `state` overrides the tensors, `attrs` {layer name: {attribute: value}} layer attributes."""
    _fake_nvidia_modules(monkeypatch)
    cfg, m = G.config, str(marker)
    design = stylegan3_design(cfg.resolution, cfg.channel_base, cfg.channel_max, cfg.conv_kernel, radial)
    for layer in design[1:]:
        layer.update((attrs or {}).get(layer["name"], {}))
    sd = state or stylegan3_state(G, design)
    pick = lambda prefix, names: {k: sd[f"{prefix}.{k}"] for k in names if f"{prefix}.{k}" in sd}

    def fc(prefix, lr=1.0, act="linear"):
        fan_in = sd[prefix + ".weight"].shape[1]
        return _Persistent("FullyConnectedLayer", _module_state(
            pick(prefix, ("weight", "bias")), {}, {}, activation=act, bias_gain=lr, in_features=fan_in,
            weight_gain=lr / math.sqrt(fan_in)), m)

    layers = {}
    for spec in design[1:]:
        attrs = {k: v for k, v in spec.items() if k not in ("name", "up_filter", "down_filter")}
        p = f"synthesis.{spec['name']}"
        own = {k[len(p) + 1:] for k in sd if k.startswith(p + ".") and "." not in k[len(p) + 1:]}
        buffers = {"up_filter": None, "down_filter": None, **pick(p, sorted(own - {"weight", "bias"}))}
        layers[spec["name"]] = _Persistent("SynthesisLayer", _module_state(
            pick(p, ("weight", "bias")), buffers, {"affine": fc(p + ".affine")}, w_dim=cfg.w_dim, **attrs), m)
    inp = _Persistent("SynthesisInput", _module_state(
        pick("synthesis.input", ("weight",)), pick("synthesis.input", ("transform", "freqs", "phases")),
        {"affine": fc("synthesis.input.affine")}, w_dim=cfg.w_dim, **design[0]), m)
    synthesis = _Persistent("SynthesisNetwork", _module_state({}, {}, {"input": inp, **layers}, w_dim=cfg.w_dim,
                            num_ws=cfg.num_ws, img_resolution=cfg.resolution, img_channels=3, num_layers=14,
                            num_critical=2, margin_size=10, output_scale=0.25, num_fp16_res=4,
                            layer_names=[s["name"] for s in design[1:]]), m)
    mapping = _Persistent("MappingNetwork", _module_state(
        {}, {"w_avg": sd["mapping.w_avg"]},
        {f"fc{i}": fc(f"mapping.fc{i}", 0.01, "lrelu") for i in range(cfg.mapping_layers)},
        z_dim=cfg.z_dim, c_dim=0, w_dim=cfg.w_dim, num_ws=cfg.num_ws, num_layers=cfg.mapping_layers,
        w_avg_beta=0.998), m)
    kwargs = dict(z_dim=cfg.z_dim, w_dim=cfg.w_dim, mapping_kwargs=_EasyDict(num_layers=cfg.mapping_layers),
                  channel_base=cfg.channel_base, channel_max=cfg.channel_max, magnitude_ema_beta=0.999,
                  c_dim=0, img_resolution=cfg.resolution, img_channels=3)
    if radial:
        kwargs.update(conv_kernel=1, use_radial_filters=True)
    gen = _Persistent("Generator", _module_state({}, {}, {"synthesis": synthesis, "mapping": mapping},
                                                 z_dim=cfg.z_dim, c_dim=0, w_dim=cfg.w_dim, num_ws=cfg.num_ws,
                                                 img_resolution=cfg.resolution, img_channels=3, init_kwargs=kwargs), m)
    data = {"G": gen, "D": _Persistent("Discriminator", _module_state({"weight": torch.randn(4, 3)}, {}, {}), m),
            "G_ema": gen, "augment_pipe": None, "training_set_kwargs": _EasyDict(resolution=cfg.resolution)}
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path
