import math

import pytest
import torch

from wplus.checkpoints import load_generator, save_generator
from wplus.errors import WplusError
from wplus.models.stylegan2 import Generator, GeneratorConfig, fir_kernel, upsample2d

from helpers import TINY, assert_traces_as_one_graph, make_generator


@pytest.mark.parametrize("res", [16, 32, 64, 128, 256])
def test_shapes_and_num_ws(res):
    cfg = GeneratorConfig(resolution=res, z_dim=32, w_dim=32, channel_base=256, channel_max=16,
                          mapping_layers=2)
    G = Generator(cfg).eval()
    assert G.num_ws == 2 * int(math.log2(res)) - 2
    ws = G.mapping(torch.randn(2, 32))
    assert ws.shape == (2, G.num_ws, 32)
    img = G.synthesis(ws)
    assert img.shape == (2, 3, res, res)
    assert len(G.synthesis.layers()) == G.num_ws - 1  # one w per conv, the last feeds ToRGB


def test_nvidia_parameter_names():
    G = Generator(GeneratorConfig(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8,
                                  mapping_layers=2))
    keys = set(G.state_dict())
    for key in ["mapping.fc0.weight", "mapping.fc1.bias", "mapping.w_avg", "synthesis.b4.const",
                "synthesis.b4.conv1.affine.weight", "synthesis.b4.conv1.noise_const",
                "synthesis.b4.conv1.noise_strength", "synthesis.b8.conv0.weight",
                "synthesis.b16.torgb.affine.bias", "synthesis.b16.torgb.weight"]:
        assert key in keys
    assert "synthesis.b4.conv0.weight" not in keys


def test_deterministic_with_const_noise(tiny_G):
    ws = tiny_G.mapping(torch.randn(3, TINY.z_dim))
    assert torch.equal(tiny_G.synthesis(ws), tiny_G.synthesis(ws))
    with torch.no_grad():
        for layer in tiny_G.synthesis.layers():
            layer.noise_strength.fill_(0.5)
    try:
        a, b = tiny_G.synthesis(ws, noise_mode="random"), tiny_G.synthesis(ws, noise_mode="random")
        assert not torch.equal(a, b)
        assert torch.equal(tiny_G.synthesis(ws, noise_mode="const"), tiny_G.synthesis(ws, noise_mode="const"))
        assert not torch.equal(tiny_G.synthesis(ws, noise_mode="const"), tiny_G.synthesis(ws, noise_mode="none"))
    finally:
        with torch.no_grad():
            for layer in tiny_G.synthesis.layers():
                layer.noise_strength.zero_()


def test_truncation_moves_toward_w_avg(tiny_G):
    z = torch.randn(4, TINY.z_dim)
    full, half, zero = (tiny_G.mapping(z, truncation_psi=p) for p in (1.0, 0.5, 0.0))
    assert torch.allclose(half, tiny_G.w_avg + 0.5 * (full - tiny_G.w_avg), atol=1e-5)
    assert torch.allclose(zero, tiny_G.w_avg.expand_as(zero))


def test_demodulation_matches_per_sample_weights(tiny_G):
    """Activation-side modulation equals the paper's per-sample weight modulation."""
    layer = tiny_G.synthesis.b8.conv1
    x = torch.randn(2, layer.weight.shape[1], 8, 8)
    w = torch.randn(2, TINY.w_dim)
    s = layer.affine(w)
    outs = []
    for i in range(2):
        wi = layer.weight * s[i][None, :, None, None]
        wi = wi * (wi.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        outs.append(torch.nn.functional.conv2d(x[i:i + 1], wi, padding=1))
    ref = torch.nn.functional.leaky_relu(torch.cat(outs) + layer.bias[None, :, None, None], 0.2) * math.sqrt(2)
    assert torch.allclose(layer(x, w, noise_mode="none"), ref, atol=1e-4)


def test_upsample2d_keeps_constant_and_resolution():
    x = torch.full((1, 3, 8, 8), 0.7)
    y = upsample2d(x)
    assert y.shape == (1, 3, 16, 16)
    assert torch.allclose(y[..., 2:-2, 2:-2], torch.full_like(y[..., 2:-2, 2:-2], 0.7), atol=1e-6)
    assert torch.isclose(fir_kernel().sum(), torch.tensor(1.0))


def test_native_round_trip_is_bit_exact(tmp_path):
    G = make_generator(seed=3)
    path = save_generator(G, tmp_path / "g.safetensors")
    G2 = load_generator(path)
    assert G2.config == G.config
    for (k, a), (k2, b) in zip(G.state_dict().items(), G2.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    ws = G.mapping(torch.randn(2, TINY.z_dim))
    assert torch.equal(G.synthesis(ws), G2.synthesis(ws))


def test_native_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(WplusError, match="unrecognised generator format"):
        load_generator(bad)
    with pytest.raises(WplusError, match="no such generator file"):
        load_generator(tmp_path / "missing.safetensors")
    G = make_generator()
    path = save_generator(G, tmp_path / "g.safetensors")
    truncated = tmp_path / "trunc.safetensors"
    truncated.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(WplusError, match="trunc.safetensors"):
        load_generator(truncated)


def test_default_generator_loads():
    G = load_generator()
    assert G.resolution == 64 and G.num_ws == 10
    assert "default" in G.source
    assert G.w_avg.abs().sum() > 0  # estimated, not the zero init


def test_fir_filter_matches_reference_convolution():
    from wplus.models.stylegan2 import fir_filter
    x = torch.randn(2, 5, 9, 9)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, [2, 1, 2, 1]).reshape(10, 1, 12, 12),
                                     (fir_kernel() * 4)[None, None]).reshape(2, 5, 9, 9)
    assert torch.allclose(fir_filter(x, 2, 1, gain=4.0), ref, atol=1e-5)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, [1, 1, 1, 1]).reshape(10, 1, 11, 11),
                                     (fir_kernel() * 4)[None, None]).reshape(2, 5, 8, 8)
    assert torch.allclose(fir_filter(x, 1, 1, gain=4.0), ref, atol=1e-5)


def test_upsample2d_is_zero_insertion_then_fir():
    from wplus.models.stylegan2 import fir_filter
    x = torch.randn(2, 3, 5, 7)
    zeros = torch.zeros(2, 3, 10, 14)
    zeros[..., ::2, ::2] = x
    assert torch.allclose(upsample2d(x), fir_filter(zeros, 2, 1, gain=4.0), atol=1e-5)


def test_cached_weight_terms_follow_weight_updates(tiny_G):
    layer = tiny_G.synthesis.b8.conv0
    x, w = torch.randn(1, layer.weight.shape[1], 4, 4), torch.randn(1, TINY.w_dim)
    before = layer(x, w, noise_mode="none")
    with torch.no_grad():
        layer.weight.mul_(2.0)  # demodulation cancels the scale; the transposed copy must not go stale
        layer.weight[0].mul_(-1.0)
    after = layer(x, w, noise_mode="none")
    with torch.no_grad():
        layer.weight[0].mul_(-1.0)
        layer.weight.mul_(0.5)
    assert not torch.allclose(before, after)
    assert torch.allclose(layer(x, w, noise_mode="none"), before, atol=1e-6)


def test_synthesis_traces_as_one_graph_for_torch_compile():
    """The frozen-weight caches and the Winograd path step aside under torch.compile: one graph
    (fullgraph raises on any graph break, which made every layer recompile), same images."""
    G = Generator(GeneratorConfig(resolution=64, z_dim=32, w_dim=32, channel_base=16384, channel_max=256,
                                  mapping_layers=1)).eval().requires_grad_(False)
    assert_traces_as_one_graph(G, G.mapping(torch.randn(2, 32)))
