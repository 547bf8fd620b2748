"""StyleGAN3 (T and R): fake stylegan3 pickles of NVIDIA's layout, loaded and checked against
a reference written here from NVIDIA's equations (networks_stylegan3.py and the reference
upfirdn2d / filtered_lrelu ops) on the raw pickled tensors and layer attributes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wplus.checkpoints import load_generator, save_generator
from wplus.cli import main
from wplus.errors import WplusError
from wplus.models.alias_free import lowpass_filter, upfirdn2d
from wplus.models.stylegan3 import StyleGAN3Config, StyleGAN3Generator, layer_specs

from fakes import nvidia_v3_pickle, stylegan3_design, stylegan3_state
from helpers import assert_traces_as_one_graph

pytest.importorskip("scipy")  # the fakes design NVIDIA's filters with scipy, as NVIDIA does


def make_v3(res: int, radial: bool = False, seed: int = 5, conv_clamp: float = 256.0) -> StyleGAN3Generator:
    """Tiny random StyleGAN3 with every parameter and buffer non-trivial."""
    torch.manual_seed(seed)
    cfg = StyleGAN3Config(resolution=res, z_dim=16, w_dim=16, channel_base=256, channel_max=16,
                          conv_kernel=1 if radial else 3, use_radial_filters=radial, conv_clamp=conv_clamp)
    G = StyleGAN3Generator(cfg)
    with torch.no_grad():
        for name, t in G.named_parameters():
            if name.endswith("bias"):
                t.normal_(0, 0.2)
        for name, t in G.named_buffers():
            if name.endswith("magnitude_ema"):
                t.uniform_(0.5, 2.0)
        G.synthesis.input.affine.weight.normal_(0, 1)  # turn and shift the Fourier features per w
        angle = torch.tensor(0.3)
        G.synthesis.input.transform.copy_(torch.tensor([[angle.cos(), -angle.sin(), 0.1],
                                                        [angle.sin(), angle.cos(), -0.2], [0, 0, 1]]))
        G.mapping.w_avg.normal_()
    return G.eval().requires_grad_(False)


# --- reference: NVIDIA's equations ----------------------------------------------------------
def fc(x, sd, p, lr=1.0):
    w = sd[p + ".weight"]
    return x @ (w * lr / math.sqrt(w.shape[1])).t() + sd[p + ".bias"] * lr


def ref_input(sd, spec, w):
    t = fc(w, sd, "synthesis.input.affine")
    t = t / t[:, :2].norm(dim=1, keepdim=True)
    m_r = torch.eye(3).repeat(len(w), 1, 1)
    m_r[:, 0, 0], m_r[:, 0, 1], m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
    m_t = torch.eye(3).repeat(len(w), 1, 1)
    m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
    transforms = m_r @ m_t @ sd["synthesis.input.transform"][None]
    freqs, phases = sd["synthesis.input.freqs"][None], sd["synthesis.input.phases"][None]
    phases = phases + (freqs @ transforms[:, :2, 2:]).squeeze(2)
    freqs = freqs @ transforms[:, :2, :2]
    bw, sr, size = spec["bandwidth"], spec["sampling_rate"], int(spec["size"][0])
    amplitudes = (1 - (freqs.norm(dim=2) - bw) / (sr / 2 - bw)).clamp(0, 1)
    theta = torch.tensor([[0.5 * size / sr, 0, 0], [0, 0.5 * size / sr, 0]], dtype=torch.float32)
    grids = F.affine_grid(theta[None], [1, 1, size, size], align_corners=False)
    x = (grids.unsqueeze(3) @ freqs.permute(0, 2, 1).unsqueeze(1).unsqueeze(2)).squeeze(3)
    x = torch.sin((x + phases[:, None, None]) * (2 * np.pi)) * amplitudes[:, None, None]
    weight = sd["synthesis.input.weight"]
    return (x @ (weight / np.sqrt(weight.shape[0])).t()).permute(0, 3, 1, 2)


def ref_modconv(x, w, s, demodulate, padding, input_gain):
    """Per-sample weights, grouped conv; styles normalised over the whole batch, as NVIDIA."""
    if demodulate:
        w = w * w.square().mean([1, 2, 3], keepdim=True).rsqrt()
        s = s * s.square().mean().rsqrt()
    w = w[None] * s[:, None, :, None, None]
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()[:, :, None, None, None]
    w = w * input_gain
    y = F.conv2d(x.reshape(1, -1, *x.shape[2:]), w.reshape(-1, *w.shape[2:]), padding=padding, groups=len(x))
    return y.reshape(len(x), -1, *y.shape[2:])


def ref_upfirdn(x, f, up=1, down=1, pad=(0, 0, 0, 0), gain=1.0):
    n, c, h, w = x.shape
    x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = F.pad(x, list(pad))
    if f is None:
        f = torch.ones(1, 1)
    f = (f * gain ** (f.ndim / 2)).flip(list(range(f.ndim)))
    if f.ndim == 2:
        x = F.conv2d(x, f[None, None].repeat(c, 1, 1, 1), groups=c)
    else:
        x = F.conv2d(x, f[None, None, None].repeat(c, 1, 1, 1), groups=c)
        x = F.conv2d(x, f[None, None, :, None].repeat(c, 1, 1, 1), groups=c)
    return x[:, :, ::down, ::down]


def ref_layer(x, w, sd, spec):
    p = f"synthesis.{spec['name']}"
    torgb = spec["is_torgb"]
    styles = fc(w, sd, p + ".affine")
    if torgb:
        styles = styles / np.sqrt(spec["in_channels"] * spec["conv_kernel"] ** 2)
    x = ref_modconv(x, sd[p + ".weight"], styles, not torgb, spec["conv_kernel"] - 1, sd[p + ".magnitude_ema"].rsqrt())
    x = x + sd[p + ".bias"][None, :, None, None]  # filtered_lrelu reference: bias, up, lrelu+gain+clamp, down
    x = ref_upfirdn(x, sd.get(p + ".up_filter"), up=spec["up_factor"], pad=spec["padding"], gain=spec["up_factor"] ** 2)
    x = x if torgb else F.leaky_relu(x, 0.2) * np.sqrt(2)
    x = x.clamp(-spec["conv_clamp"], spec["conv_clamp"])
    return ref_upfirdn(x, sd.get(p + ".down_filter"), down=spec["down_factor"])


def ref_synthesis(sd, design, ws):
    x = ref_input(sd, design[0], ws[:, 0])
    for i, spec in enumerate(design[1:]):
        x = ref_layer(x, ws[:, i + 1], sd, spec)
    return x * 0.25


# --- tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("res,radial", [(32, False), (64, True)])
def test_stylegan3_pickle_renders_as_nvidia_equations(tmp_path, monkeypatch, res, radial):
    G0 = make_v3(res, radial)
    marker = tmp_path / "PWNED"
    G = load_generator(nvidia_v3_pickle(G0, tmp_path / "stylegan3-tiny.pkl", marker, monkeypatch, radial=radial))
    assert not marker.exists() and G.family == "stylegan3" and G.config == G0.config
    assert G.num_ws == 16 and not G.has_noise and G.synthesis.layers() == []
    design = stylegan3_design(res, 256, 16, G.config.conv_kernel, radial)
    sd = {k: v.float() for k, v in stylegan3_state(G0, design).items()}
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    for i in range(G.config.mapping_layers):
        x = F.leaky_relu(fc(x, sd, f"mapping.fc{i}", 0.01), 0.2) * np.sqrt(2)
    ws = G.mapping(z)
    assert (ws - x[:, None]).abs().max() <= 1e-5
    ws = ws + 0.5 * torch.randn(ws.shape, generator=torch.Generator().manual_seed(2))  # a W+ code
    ref = ref_synthesis(sd, design, ws)
    assert ref.std() > 0.01
    assert (G.synthesis(ws) - ref).abs().max() <= 1e-4


def test_small_conv_clamp_clamps_after_the_gain():
    G = make_v3(32, conv_clamp=0.05)
    design = stylegan3_design(32, 256, 16, 3, False)
    for spec in design[1:]:
        spec["conv_clamp"] = 0.05
    sd = {k: v.float() for k, v in stylegan3_state(G, design).items()}
    G.load_state_dict(sd)
    ws = G.mapping(torch.randn(2, 16))
    img, ref = G.synthesis(ws), ref_synthesis(sd, design, ws)
    assert (img - ref).abs().max() <= 1e-5 and (img.abs().max() - 0.25 * 0.05).abs() < 1e-6  # ToRGB clamped


@pytest.mark.parametrize("up,down,taps", [(2, 1, 12), (1, 2, 12), (4, 2, 24), (1, 1, 6), (2, 4, 6), (2, 1, 1)])
def test_upfirdn2d_equals_the_reference(up, down, taps):
    """Resampling by matrix products = zero insertion, padding (negative: cropping), convolution, decimation."""
    gen = torch.Generator().manual_seed(up * 100 + down * 10 + taps)
    x = torch.randn(2, 3, 37, 45, generator=gen)
    f = None if taps == 1 else torch.rand(taps, generator=gen)
    for pad in ([5, 6, 5, 6], [-2, 9, 3, -1]):
        y, ref = upfirdn2d(x, f, up, down, pad, gain=3.0), ref_upfirdn(x, f, up, down, pad, gain=3.0)
        assert y.shape == ref.shape and (y - ref).abs().max() <= 1e-5 * ref.abs().max()


@pytest.mark.parametrize("radial", [False, True])
def test_filter_design_equals_scipy(radial):
    cfg = StyleGAN3Config.preset("r" if radial else "t", resolution=1024)
    design = stylegan3_design(1024, cfg.channel_base, cfg.channel_max, cfg.conv_kernel, radial)
    specs = layer_specs(cfg)
    assert cfg.num_ws == 16 and [s.name for s in specs[1:]] == [d["name"] for d in design[1:]]
    for spec, d in zip(specs[1:], design[1:]):
        tmp = d["tmp_sampling_rate"]
        up = lowpass_filter(d["up_taps"], spec.in_cutoff, spec.in_half_width * 2, tmp)
        down = lowpass_filter(d["down_taps"], spec.out_cutoff, spec.out_half_width * 2, tmp, d["down_radial"])
        for ours, theirs in ((up, d["up_filter"]), (down, d["down_filter"])):
            assert (ours is None) == (theirs is None)
            assert ours is None or (ours.shape == theirs.shape and (ours - theirs).abs().max() < 1e-6)


def test_refusals_convert_and_native_round_trip(tmp_path, monkeypatch, capsys):
    G0 = make_v3(32)
    design = stylegan3_design(32, 256, 16, 3, False)
    sd = stylegan3_state(G0, design)
    del sd["synthesis.L3_36_16.magnitude_ema"]
    with pytest.raises(WplusError, match="missing tensors.*synthesis.L3_36_16.magnitude_ema"):
        load_generator(nvidia_v3_pickle(G0, tmp_path / "m.pkl", tmp_path / "x", monkeypatch, state=sd))
    sd = {**stylegan3_state(G0, design), "synthesis.L3_36_16.extra": torch.zeros(1)}
    with pytest.raises(WplusError, match="does not understand.*synthesis.L3_36_16.extra"):
        load_generator(nvidia_v3_pickle(G0, tmp_path / "u.pkl", tmp_path / "x", monkeypatch, state=sd))
    with pytest.raises(WplusError, match="L2_36_16.out_cutoff is 3.5, the design gives 2.828.*unsupported StyleGAN3"):
        load_generator(nvidia_v3_pickle(G0, tmp_path / "d.pkl", tmp_path / "x", monkeypatch,
                                        attrs={"L2_36_16": {"out_cutoff": 3.5}}))
    with pytest.raises(WplusError, match="no noise inputs"):
        G0.synthesis(G0.mapping(torch.randn(1, 16)), noise=[torch.zeros(1)])
    path = nvidia_v3_pickle(G0, tmp_path / "stylegan3-t-tiny.pkl", tmp_path / "x", monkeypatch)
    out = tmp_path / "v3.safetensors"
    assert main(["convert", str(path), str(out)]) == 0 and main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "num_ws:      16" in info and "family:      stylegan3 (no noise inputs)" in info
    direct, native = load_generator(path), load_generator(out)
    assert native.family == "stylegan3" and direct.fingerprint() == native.fingerprint()
    save_generator(G0, tmp_path / "again.safetensors")
    ws = G0.mapping(torch.randn(2, 16))
    assert torch.equal(load_generator(tmp_path / "again.safetensors").synthesis(ws), G0.synthesis(ws))


def test_v3_synthesis_traces_as_one_graph_for_torch_compile():
    G = make_v3(16).requires_grad_(False)
    assert_traces_as_one_graph(G, G.mapping(torch.randn(1, G.z_dim)))
