"""StyleGAN (v1): fake TF pickles of NVIDIA's layout, loaded and checked against a reference
written here from NVIDIA's TF equations (networks_stylegan.py) on the raw TF variables."""
import math

import pytest
import torch
import torch.nn.functional as F

from wplus.checkpoints import load_generator, save_generator
from wplus.cli import main
from wplus.errors import WplusError
from wplus.models.stylegan1 import StyleGAN1Config, StyleGAN1Generator

from fakes import nvidia_tf_v1_pickle, tf_v1_variables
from helpers import assert_traces_as_one_graph

SQRT2 = math.sqrt(2)


def make_v1(res: int, seed: int = 3) -> StyleGAN1Generator:
    """Tiny random StyleGAN (v1), every parameter non-trivial (noise, biases, style biases)."""
    torch.manual_seed(seed)
    cfg = StyleGAN1Config(resolution=res, z_dim=16, w_dim=16, channel_base=16 * res // 2, channel_max=16,
                          mapping_layers=3)
    G = StyleGAN1Generator(cfg)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if "bias" in name or "noise_strength" in name:
                p.normal_(0, 0.3)
        G.synthesis.b4.const.normal_()
        G.mapping.w_avg.normal_()
    return G.eval().requires_grad_(False)


# --- reference: NVIDIA's TF G_style at lod 0 ------------------------------------------------
def tf_mapping(v, z, lrmul=0.01):
    x = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)  # pixel_norm
    i = 0
    while f"G_mapping/Dense{i}/weight" in v:  # dense(gain sqrt2, use_wscale, lrmul), bias*lrmul, lrelu
        w = v[f"G_mapping/Dense{i}/weight"]
        x = F.leaky_relu(x @ (w * SQRT2 / math.sqrt(w.shape[0]) * lrmul) + v[f"G_mapping/Dense{i}/bias"] * lrmul, 0.2)
        i += 1
    return x


def tf_conv(x, w, gain=SQRT2):
    """conv2d: weight [k, k, in, out] * gain / sqrt(fan_in), 'SAME' padding (correlation)."""
    k = w.shape[0]
    return F.conv2d(x, (w * gain / math.sqrt(k * k * w.shape[2])).permute(3, 2, 0, 1), padding=k // 2)


def tf_upscale_conv(x, w, fused):
    """upscale2d_conv2d: nearest 2x then conv2d; fused: kernel padded to 4x4 as the sum of its
    four shifts, conv2d_transpose stride 2 'SAME' (= PyTorch's padding 1)."""
    if not fused:
        return tf_conv(x.repeat_interleave(2, 2).repeat_interleave(2, 3), w)
    w = w * SQRT2 / math.sqrt(9 * w.shape[2])
    w = F.pad(w.permute(2, 3, 0, 1), [1, 1, 1, 1]).permute(2, 3, 0, 1)  # [5, 5, in, out]
    w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]
    return F.conv_transpose2d(x, w.permute(2, 3, 0, 1), stride=2, padding=1)


def tf_blur(x):
    f = torch.tensor([1.0, 2.0, 1.0])
    f = torch.outer(f, f) / 16
    return F.conv2d(x, f[None, None].repeat(x.shape[1], 1, 1, 1), padding=1, groups=x.shape[1])


def tf_epilogue(x, v, scope, noise, dlatent):
    """apply_noise (per-channel weight), apply_bias, lrelu, instance_norm, style_mod."""
    x = x + noise * v[scope + "Noise/weight"][None, :, None, None]
    x = F.leaky_relu(x + v[scope + "bias"][None, :, None, None], 0.2)
    x = x - x.mean([2, 3], keepdim=True)
    x = x * torch.rsqrt(x.square().mean([2, 3], keepdim=True) + 1e-8)
    sw = v[scope + "StyleMod/weight"]
    style = (dlatent @ (sw / math.sqrt(sw.shape[0])) + v[scope + "StyleMod/bias"]).reshape(len(x), 2, -1, 1, 1)
    return x * (style[:, 0] + 1) + style[:, 1]


def tf_synthesis(v, dlatents, res, fused_scale="auto"):
    x = v["G_synthesis/4x4/Const/const"].repeat(len(dlatents), 1, 1, 1)
    x = tf_epilogue(x, v, "G_synthesis/4x4/Const/", v["G_synthesis/noise0"], dlatents[:, 0])
    x = tf_epilogue(tf_conv(x, v["G_synthesis/4x4/Conv/weight"]), v, "G_synthesis/4x4/Conv/",
                    v["G_synthesis/noise1"], dlatents[:, 1])
    for r in range(3, int(math.log2(res)) + 1):
        s = f"G_synthesis/{2 ** r}x{2 ** r}/"
        fused = fused_scale is True or (fused_scale == "auto" and 2 ** r >= 128)
        x = tf_blur(tf_upscale_conv(x, v[s + "Conv0_up/weight"], fused))
        x = tf_epilogue(x, v, s + "Conv0_up/", v[f"G_synthesis/noise{2 * r - 4}"], dlatents[:, 2 * r - 4])
        x = tf_conv(x, v[s + "Conv1/weight"])
        x = tf_epilogue(x, v, s + "Conv1/", v[f"G_synthesis/noise{2 * r - 3}"], dlatents[:, 2 * r - 3])
    rgb = tf_conv(x, v["G_synthesis/ToRGB_lod0/weight"], gain=1)  # ToRGB_lod0: 1x1 conv, gain 1
    return rgb + v["G_synthesis/ToRGB_lod0/bias"][None, :, None, None]


# --- tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("res,fused_scale", [(32, True), (64, "auto")])
def test_tf_v1_pickle_renders_as_nvidia_equations(tmp_path, monkeypatch, res, fused_scale):
    G0 = make_v1(res)
    path = nvidia_tf_v1_pickle(G0, tmp_path / "karras2019stylegan-tiny.pkl", monkeypatch, fused_scale=fused_scale)
    G = load_generator(path)
    assert G.family == "stylegan1" and G.source_format.startswith("NVIDIA TensorFlow StyleGAN (v1)")
    assert G.config == G0.config and G.num_ws == 2 * int(math.log2(res)) - 2 and G.has_noise
    v = {k: t.float() for k, t in tf_v1_variables(G0, fused_scale).items()}
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    w = tf_mapping(v, z)
    ws = G.mapping(z)
    assert (ws - w[:, None]).abs().max() <= 1e-5
    ws = ws + 0.3 * torch.randn(ws.shape, generator=torch.Generator().manual_seed(2))  # a W+ code
    ref = tf_synthesis(v, ws, res, fused_scale)
    assert ref.abs().max() > 1  # images in about [-1, 1] or wider: the bound below is meaningful
    assert (G.synthesis(ws) - ref).abs().max() <= 1e-4


def test_w_plus_and_noise_inputs(tmp_path, monkeypatch):
    G0 = make_v1(32)
    G = load_generator(nvidia_tf_v1_pickle(G0, tmp_path / "a.pkl", monkeypatch, fused_scale=True))
    v = {k: t.float() for k, t in tf_v1_variables(G0, True).items()}
    ws = G.mapping(torch.randn(2, 16)) + 0.3 * torch.randn(2, G.num_ws, 16)
    img = G.synthesis(ws)
    assert (img - tf_synthesis(v, ws, 32, True)).abs().max() <= 1e-4
    noise = [torch.randn(1, 1, layer.resolution, layer.resolution) for layer in G.synthesis.layers()]
    for i, n in enumerate(noise):
        v[f"G_synthesis/noise{i}"] = n
    assert (G.synthesis(ws, noise=noise) - tf_synthesis(v, ws, 32, True)).abs().max() <= 1e-4
    assert not torch.equal(G.synthesis(ws, noise_mode="random"), img)


def test_truncation_cutoff_8_as_nvidia():
    G = make_v1(64)  # 10 ws: NVIDIA's G_style truncates the first 8 only
    z = torch.randn(2, 16)
    full, half = G.mapping(z), G.mapping(z, truncation_psi=0.5)
    assert torch.allclose(half[:, :8], G.w_avg.lerp(full[:, :8], 0.5), atol=1e-6)
    assert torch.equal(half[:, 8:], full[:, 8:])
    assert torch.allclose(G.mapping(z, 0.5, truncation_cutoff=10), G.w_avg.lerp(full, 0.5), atol=1e-6)


def test_missing_unknown_and_unsupported_are_refused_by_name(tmp_path, monkeypatch):
    G0 = make_v1(32)
    v = tf_v1_variables(G0)
    del v["G_synthesis/8x8/Conv1/Noise/weight"]
    with pytest.raises(WplusError, match="missing tensors.*G_synthesis/8x8/Conv1/Noise/weight"):
        load_generator(nvidia_tf_v1_pickle(G0, tmp_path / "m.pkl", monkeypatch, variables=v))
    v = tf_v1_variables(G0)
    v["G_synthesis/8x8/Conv1/Extra/weight"] = torch.zeros(2)
    with pytest.raises(WplusError, match="does not understand.*G_synthesis/8x8/Conv1/Extra/weight"):
        load_generator(nvidia_tf_v1_pickle(G0, tmp_path / "u.pkl", monkeypatch, variables=v))
    v = tf_v1_variables(G0)
    v["lod"] = torch.tensor(1.5)
    with pytest.raises(WplusError, match=r"while growing \(lod = 1.5\)") as info:
        load_generator(nvidia_tf_v1_pickle(G0, tmp_path / "g.pkl", monkeypatch, variables=v))
    assert "\n" not in str(info.value)


def test_convert_info_and_native_round_trip(tmp_path, monkeypatch, capsys):
    G0 = make_v1(32)
    path = nvidia_tf_v1_pickle(G0, tmp_path / "karras2019stylegan-tiny.pkl", monkeypatch)
    out = tmp_path / "v1.safetensors"
    assert main(["convert", str(path), str(out)]) == 0
    assert main(["info", str(path)]) == 0
    info = capsys.readouterr().out
    assert "32x32" in info and "family:      stylegan1\n" in info and "TensorFlow StyleGAN (v1)" in info
    direct, native = load_generator(path), load_generator(out)
    assert native.family == "stylegan1" and native.config == direct.config
    assert direct.fingerprint() == native.fingerprint()
    save_generator(G0, tmp_path / "again.safetensors")
    ws = G0.mapping(torch.randn(2, 16))
    assert torch.equal(load_generator(tmp_path / "again.safetensors").synthesis(ws), G0.synthesis(ws))


def test_v1_synthesis_traces_as_one_graph_for_torch_compile():
    G = make_v1(32).requires_grad_(False)
    assert_traces_as_one_graph(G, G.mapping(torch.randn(1, G.z_dim)))
