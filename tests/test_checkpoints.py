"""Foreign checkpoints: fake files of each format, checked against reference forward passes
computed here from the raw tensors with each format's documented equations."""
import argparse
import dataclasses
import math
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wplus.checkpoints import UnsafePickleError, load_generator
from wplus.cli import main
from wplus.errors import WplusError
from wplus.models.stylegan2 import GeneratorConfig, fir_kernel

from fakes import nvidia_pt_pickle, nvidia_tf_pickle, rosinality_state, tf_variables
from helpers import make_generator

CFG = GeneratorConfig(resolution=32, z_dim=32, w_dim=32, channel_base=512, channel_max=32,
                      mapping_layers=3, conv_clamp=256.0)
SQRT2 = math.sqrt(2)


@pytest.fixture(scope="module")
def G0():
    G = make_generator(CFG, seed=7, rgb_gain=1.0)
    with torch.no_grad():
        for i, layer in enumerate(G.synthesis.layers()):
            layer.noise_strength.fill_(0.1 * (i + 1))  # noise must map to the right layer
            layer.bias.normal_()
    return G


def _ws(G, n=2, seed=0):
    return G.mapping(torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)))


def _assert_same_generator(G0, G1):
    sd0, sd1 = G0.state_dict(), G1.state_dict()
    assert sd0.keys() == sd1.keys()
    for k in sd0:
        assert torch.allclose(sd0[k], sd1[k], atol=1e-6), k
    ws = _ws(G0)
    assert torch.allclose(G0.synthesis(ws), G1.synthesis(ws), atol=1e-5)


# --- reference equations ----------------------------------------------------------------
def fir_up(x):
    """upfirdn2d up=2: zero insertion, pad (2, 1), [1,3,3,1] filter with gain 4."""
    n, c, h, w = x.shape
    up = torch.zeros(n, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = x
    k = (fir_kernel() * 4)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(F.pad(up, [2, 1, 2, 1]), k, groups=c)


def nvidia_layer(x, w, sd, p, up, clamp=None):
    """stylegan2-ada SynthesisLayer with per-sample weights (fused_modconv form), noise const."""
    styles = w @ (sd[p + "affine.weight"] / math.sqrt(w.shape[1])).t() + sd[p + "affine.bias"]
    outs = []
    for i in range(len(x)):
        wt = sd[p + "weight"] * styles[i][None, :, None, None]
        wt = wt * (wt.square().sum([1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        if up:  # conv2d_resample(up=2): transposed conv stride 2, then FIR pad (1, 1), gain 4
            y = F.conv_transpose2d(x[i:i + 1], wt.transpose(0, 1), stride=2)
            c = y.shape[1]
            y = F.conv2d(F.pad(y, [1, 1, 1, 1]), (fir_kernel() * 4)[None, None].repeat(c, 1, 1, 1), groups=c)
        else:
            y = F.conv2d(x[i:i + 1], wt, padding=1)
        outs.append(y)
    y = torch.cat(outs) + sd[p + "noise_const"] * sd[p + "noise_strength"]
    y = F.leaky_relu(y + sd[p + "bias"][None, :, None, None], 0.2) * SQRT2
    # bias_act: bias, activation, activation gain sqrt(2), then clamp at conv_clamp * gain (1).
    return y.clamp(-clamp, clamp) if clamp else y


def nvidia_torgb(x, w, sd, p, clamp=None):
    styles = (w @ (sd[p + "affine.weight"] / math.sqrt(w.shape[1])).t() + sd[p + "affine.bias"])
    styles = styles / math.sqrt(x.shape[1])
    y = torch.cat([F.conv2d(x[i:i + 1], sd[p + "weight"] * styles[i][None, :, None, None]) for i in range(len(x))])
    y = y + sd[p + "bias"][None, :, None, None]
    return y.clamp(-clamp, clamp) if clamp else y


def nvidia_synthesis(sd, ws, resolutions, clamp, layer_clamp=None):
    """`layer_clamp` (default `clamp`) overrides the conv layers' clamp, to model other rules."""
    layer_clamp = clamp if layer_clamp is None else layer_clamp
    x = sd["synthesis.b4.const"][None].repeat(len(ws), 1, 1, 1)
    img, idx = None, 0
    for res in resolutions:
        p = f"synthesis.b{res}."
        if res > 4:
            x = nvidia_layer(x, ws[:, idx], sd, p + "conv0.", True, layer_clamp)
            idx += 1
        x = nvidia_layer(x, ws[:, idx], sd, p + "conv1.", False, layer_clamp)
        y = nvidia_torgb(x, ws[:, idx + 1], sd, p + "torgb.", clamp)
        img = y if img is None else fir_up(img) + y
        idx += 1
    return img


# --- NVIDIA PyTorch ----------------------------------------------------------------------
def test_nvidia_pt_pickle_loads_without_running_its_code(G0, tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    path = nvidia_pt_pickle(G0, tmp_path / "network-snapshot.pkl", marker, monkeypatch)
    G1 = load_generator(path)
    assert not marker.exists()
    assert G1.source_format.startswith("NVIDIA stylegan2-ada") and G1.config == CFG
    _assert_same_generator(G0, G1)
    ws = _ws(G1)
    sd = {k: v.float() for k, v in G0.state_dict().items()}
    ref = nvidia_synthesis(sd, ws, G1.synthesis.resolutions, CFG.conv_clamp)
    assert torch.allclose(G1.synthesis(ws), ref, atol=1e-4)
    z = torch.randn(2, CFG.z_dim)
    x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    for i in range(CFG.mapping_layers):  # equalised-lr dense layers with lr multiplier 0.01
        lr = CFG.mapping_lr_multiplier
        x = F.leaky_relu(x @ (sd[f"mapping.fc{i}.weight"] * lr / math.sqrt(x.shape[1])).t()
                         + sd[f"mapping.fc{i}.bias"] * lr, 0.2) * SQRT2
    assert torch.allclose(G1.mapping(z)[:, 0], x, atol=1e-5)


def test_small_conv_clamp_matches_bias_act(G0, tmp_path, monkeypatch):
    """conv_clamp 0.5 clips most activations: the render equals NVIDIA's bias_act rule (clamp
    after the sqrt(2) gain) and differs from clamping at conv_clamp * sqrt(2)."""
    G = make_generator(dataclasses.replace(CFG, conv_clamp=0.5), seed=7, rgb_gain=1.0)
    G1 = load_generator(nvidia_pt_pickle(G, tmp_path / "clamp.pkl", tmp_path / "m", monkeypatch))
    assert G1.config.conv_clamp == 0.5
    ws = _ws(G1)
    sd = {k: v.float() for k, v in G.state_dict().items()}
    img = G1.synthesis(ws)
    ref = nvidia_synthesis(sd, ws, G1.synthesis.resolutions, 0.5)
    assert (img - ref).abs().max() <= 1e-4
    old = nvidia_synthesis(sd, ws, G1.synthesis.resolutions, 0.5, layer_clamp=0.5 * SQRT2)
    assert (img - old).abs().max() > 0.1


def test_convert_gives_identical_generator(G0, tmp_path, monkeypatch, capsys):
    path = nvidia_pt_pickle(G0, tmp_path / "ffhq.pkl", tmp_path / "marker", monkeypatch)
    out = tmp_path / "ffhq.safetensors"
    assert main(["convert", str(path), str(out)]) == 0
    direct, converted = load_generator(path), load_generator(out)
    for (k, a), (_, b) in zip(direct.state_dict().items(), converted.state_dict().items()):
        assert torch.equal(a, b), k
    assert main(["info", str(path)]) == 0
    info = capsys.readouterr().out
    assert "NVIDIA stylegan2-ada" in info and "32x32" in info and "file sha256:" in info


def test_discriminator_only_pickle(G0, tmp_path, monkeypatch):
    path = nvidia_pt_pickle(G0, tmp_path / "x.pkl", tmp_path / "m", monkeypatch, d_only=True)
    with pytest.raises(WplusError, match="discriminator-only"):
        load_generator(path)


# --- NVIDIA TensorFlow -------------------------------------------------------------------
def test_nvidia_tf_pickle_matches_tf_equations(G0, tmp_path, monkeypatch):
    path = nvidia_tf_pickle(G0, tmp_path / "stylegan2-tiny-config-f.pkl", monkeypatch)
    G1 = load_generator(path)
    assert G1.source_format.startswith("NVIDIA TensorFlow")
    raw = {k: v.float() for k, v in tf_variables(G0).items()}
    w = _ws(G1)[:, 0]
    # Dense layer: x @ W * (lrmul / sqrt(in)) + b * lrmul, leaky ReLU * sqrt(2).
    z = torch.randn(2, CFG.z_dim)
    x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    dense0 = F.leaky_relu(x @ raw["mapping/Dense0/weight"] * (0.01 / math.sqrt(CFG.z_dim))
                          + raw["mapping/Dense0/bias"] * 0.01, 0.2) * SQRT2
    assert torch.allclose(G1.mapping.fc0(x), dense0, atol=1e-5)

    def tf_modconv(x, scope, up):
        """TF: s = dense(w) + 1; weights [k,k,in,out] * s, demodulated; Conv0_up is
        `upsample_2d` followed by conv2d with the TF weights as stored."""
        s = w @ (raw[scope + "mod_weight"] / math.sqrt(w.shape[1])) + raw[scope + "mod_bias"] + 1
        outs = []
        for i in range(len(x)):
            wt = raw[scope + "weight"] * s[i][None, None, :, None]
            wt = wt * (wt.square().sum([0, 1, 2], keepdim=True) + 1e-8).rsqrt()
            xi = fir_up(x[i:i + 1]) if up else x[i:i + 1]
            outs.append(F.conv2d(xi, wt.permute(3, 2, 0, 1), padding=1))
        return torch.cat(outs)

    layer = G1.synthesis.b8.conv0
    x = torch.randn(2, layer.weight.shape[1], 4, 4)
    noise = raw["synthesis/noise1"][0, 0] * raw["synthesis/8x8/Conv0_up/noise_strength"]
    ref = F.leaky_relu(tf_modconv(x, "synthesis/8x8/Conv0_up/", True) + noise
                       + raw["synthesis/8x8/Conv0_up/bias"][None, :, None, None], 0.2) * SQRT2
    # TF's fused up-conv equals upsample-then-conv except on the 1-pixel border (the fused
    # form keeps the full filter support there); the interior checks the weight flip.
    assert torch.allclose(layer(x, w)[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-4)
    x4 = torch.randn(2, G1.synthesis.b4.conv1.weight.shape[1], 4, 4)
    ref4 = F.leaky_relu(tf_modconv(x4, "synthesis/4x4/Conv/", False)
                        + raw["synthesis/noise0"][0, 0] * raw["synthesis/4x4/Conv/noise_strength"]
                        + raw["synthesis/4x4/Conv/bias"][None, :, None, None], 0.2) * SQRT2
    assert torch.allclose(G1.synthesis.b4.conv1(x4, w), ref4, atol=1e-4)
    # ToRGB: 1x1 modulated conv without demodulation, styles * 1/sqrt(in), plus bias.
    s = w @ (raw["synthesis/8x8/ToRGB/mod_weight"] / math.sqrt(w.shape[1])) + raw["synthesis/8x8/ToRGB/mod_bias"] + 1
    x8 = torch.randn(2, G1.synthesis.b8.torgb.weight.shape[1], 8, 8)
    rgb = torch.einsum("nchw,co,nc->nohw", x8, raw["synthesis/8x8/ToRGB/weight"][0, 0], s / math.sqrt(x8.shape[1]))
    rgb = rgb + raw["synthesis/8x8/ToRGB/bias"][None, :, None, None]
    assert torch.allclose(G1.synthesis.b8.torgb(x8, w), rgb, atol=1e-4)
    _assert_same_generator(G0, G1)


# --- rosinality ----------------------------------------------------------------------------
def rosinality_styled_conv(x, w, g, p, noise, up):
    """rosinality StyledConv: EqualLinear modulation, scale 1/sqrt(in k^2), demod, grouped
    (transposed) conv, Blur pad (1, 1) after up-sampling, noise.weight * noise, FusedLeakyReLU."""
    weight = g[p + "conv.weight"]
    _, out_c, in_c, k, _ = weight.shape
    style = w @ (g[p + "conv.modulation.weight"] / math.sqrt(w.shape[1])).t() + g[p + "conv.modulation.bias"]
    wt = weight / math.sqrt(in_c * k * k) * style.view(len(x), 1, in_c, 1, 1)
    wt = wt * (wt.square().sum([2, 3, 4]) + 1e-8).rsqrt().view(len(x), out_c, 1, 1, 1)
    if up:
        wt = wt.transpose(1, 2).reshape(len(x) * in_c, out_c, k, k)
        y = F.conv_transpose2d(x.reshape(1, -1, *x.shape[2:]), wt, stride=2, groups=len(x))
        y = y.view(len(x), out_c, *y.shape[2:])
        kernel = g[p + "conv.blur.kernel"]
        y = F.conv2d(F.pad(y, [1, 1, 1, 1]), kernel.flip([0, 1])[None, None].repeat(out_c, 1, 1, 1), groups=out_c)
    else:
        y = F.conv2d(x.reshape(1, -1, *x.shape[2:]), wt.view(-1, in_c, k, k), padding=1, groups=len(x))
        y = y.view(len(x), out_c, *y.shape[2:])
    y = y + g[p + "noise.weight"] * noise
    return F.leaky_relu(y + g[p + "activate.bias"].view(1, -1, 1, 1), 0.2) * SQRT2


@pytest.mark.parametrize("kind", ["converted", "training"])
def test_rosinality_checkpoint(G0, tmp_path, kind):
    g = rosinality_state(G0)
    if kind == "converted":  # convert_weight.py output
        data = {"g_ema": g, "latent_avg": G0.w_avg.clone()}
    else:  # train.py checkpoint: args namespace, optimisers, no latent_avg
        data = {"g": g, "d": {"convs.0.0.weight": torch.zeros(1)}, "g_ema": g, "g_optim": {}, "d_optim": {},
                "args": argparse.Namespace(size=16, channel_multiplier=2), "ada_aug_p": 0.0}
    path = tmp_path / "550000.pt"
    torch.save(data, path)
    G1 = load_generator(path)
    assert G1.source_format.startswith("rosinality")
    if kind == "converted":
        _assert_same_generator(G0, G1)
    else:
        assert torch.allclose(G1.w_avg, G0.w_avg, atol=0.2)  # estimated from 10 000 z
    raw = {k: v.float() for k, v in g.items()}
    w = _ws(G1)[:, 0]
    x = torch.randn(2, G1.synthesis.b8.conv0.weight.shape[1], 4, 4)
    ref = rosinality_styled_conv(x, w, raw, "convs.0.", raw["noises.noise_1"], up=True)
    assert torch.allclose(G1.synthesis.b8.conv0(x, w), ref, atol=1e-4)
    x8 = torch.randn(2, G1.synthesis.b8.conv1.weight.shape[1], 8, 8)
    ref8 = rosinality_styled_conv(x8, w, raw, "convs.1.", raw["noises.noise_2"], up=False)
    assert torch.allclose(G1.synthesis.b8.conv1(x8, w), ref8, atol=1e-4)
    # ToRGB: modulated 1x1 conv (scale 1/sqrt(in)), no demodulation, bias [1, 3, 1, 1].
    modulation = raw["to_rgbs.0.conv.modulation.weight"] / math.sqrt(w.shape[1])
    style = w @ modulation.t() + raw["to_rgbs.0.conv.modulation.bias"]
    wt = raw["to_rgbs.0.conv.weight"][0, :, :, 0, 0] / math.sqrt(x8.shape[1])
    rgb = torch.einsum("nchw,oc,nc->nohw", x8, wt, style) + raw["to_rgbs.0.bias"]
    assert torch.allclose(G1.synthesis.b8.torgb(x8, w), rgb, atol=1e-4)
    # Mapping: PixelNorm, then EqualLinear(lr_mul 0.01) + fused leaky ReLU.
    z = torch.randn(2, CFG.z_dim)
    x = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
    for i in range(1, CFG.mapping_layers + 1):
        x = F.leaky_relu(x @ (raw[f"style.{i}.weight"] * 0.01 / math.sqrt(x.shape[1])).t()
                         + raw[f"style.{i}.bias"] * 0.01, 0.2) * SQRT2
    assert torch.allclose(G1.mapping(z)[:, 0], x, atol=1e-5)


def test_rosinality_missing_key(G0, tmp_path):
    g = rosinality_state(G0)
    del g["convs.1.noise.weight"]
    torch.save({"g_ema": g}, tmp_path / "bad.pt")
    with pytest.raises(WplusError, match="missing tensors.*convs.1.noise.weight"):
        load_generator(tmp_path / "bad.pt")
    g = rosinality_state(G0)
    g["convs.1.extra.weight"] = torch.zeros(1)
    torch.save({"g_ema": g, "latent_avg": G0.w_avg}, tmp_path / "extra.pt")
    with pytest.raises(WplusError, match="does not understand.*convs.1.extra.weight"):
        load_generator(tmp_path / "extra.pt")


# --- hostile and broken files --------------------------------------------------------------
class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func,name", [(os.system, "system"), (exec, "builtins.exec"),
                                       (eval, "builtins.eval"), (print, "builtins.print")])
def test_code_running_pickles_are_refused(tmp_path, func, name):
    marker = tmp_path / "ran"
    payload = f"touch {marker}" if func is os.system else f"open({str(marker)!r}, 'w').write('x')"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Evil(func, payload)}, protocol=4))
    with pytest.raises(UnsafePickleError, match=f"refused to load global '.*{name.split('.')[-1]}'") as info:
        load_generator(path)
    assert "\n" not in str(info.value) and "evil.pkl" in str(info.value)
    assert not marker.exists()


def test_unknown_global_is_refused(tmp_path):
    path = tmp_path / "odd.pkl"
    path.write_bytes(pickle.dumps({"G_ema": argparse.Namespace(a=1)}, protocol=4))
    with pytest.raises(UnsafePickleError, match="argparse.Namespace"):
        load_generator(path)


def test_broken_files_give_one_line_errors(G0, tmp_path, monkeypatch):
    good = nvidia_pt_pickle(G0, tmp_path / "good.pkl", tmp_path / "m", monkeypatch)
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    jpeg = tmp_path / "photo.pkl"
    from PIL import Image
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(jpeg, format="JPEG")
    torch.save({"model": torch.zeros(1)}, tmp_path / "other.pt")
    for path, match in [(truncated, "truncated or corrupt"), (jpeg, "unrecognised generator format"),
                        (tmp_path / "other.pt", "no known StyleGAN generator")]:
        with pytest.raises(WplusError, match=match) as info:
            load_generator(path)
        assert "\n" not in str(info.value) and path.name in str(info.value)


# --- latent files ------------------------------------------------------------------------
def test_latent_interop(G0, tmp_path):
    from wplus.io.latents import fit_latents, load_latents, save_latents
    ws = _ws(G0, n=3)
    save_latents(tmp_path / "ours.npz", ws, {"a": 1})
    with np.load(tmp_path / "ours.npz") as data:  # what NVIDIA's generate.py --projected-w reads
        assert data["w"].shape == (3, G0.num_ws, G0.w_dim) and data["w"].dtype == np.float32
    np.savez(tmp_path / "projected_w.npz", w=ws[:1].numpy())  # NVIDIA projector.py output
    w, _ = load_latents(tmp_path / "projected_w.npz")
    assert torch.equal(w, ws[:1])
    torch.save({"a.png": {"img": torch.zeros(3, 4, 4), "latent": ws[0, 0], "noise": []},
                "b.png": {"img": torch.zeros(3, 4, 4), "latent": ws[1, 0], "noise": []}}, tmp_path / "a.pt")
    w, meta = load_latents(tmp_path / "a.pt")  # rosinality projector.py output (W, not --w_plus)
    assert meta["images"] == ["a.png", "b.png"]
    assert torch.equal(fit_latents(w, G0.num_ws, G0.w_dim), ws[:2])
    with pytest.raises(WplusError, match=r"shape \[2, 1, 32\] do not fit .*num_ws 10, w_dim 64"):
        fit_latents(w, 10, 64)
