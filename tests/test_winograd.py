"""Winograd F(4x4, 3x3) convolutions (models/winograd.py) against F.conv2d."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from wplus.inversion import EmbedConfig, embed
from wplus.models import winograd
from wplus.models.stylegan2 import GeneratorConfig
from wplus.models.vgg16 import CONV_INDEX, VGG16Features

from helpers import make_generator

WIDE = GeneratorConfig(resolution=64, z_dim=64, w_dim=64, channel_base=256 * 64, channel_max=256, mapping_layers=2)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize("shape", [(2, 5, 7, 10, 13), (1, 3, 3, 4, 4), (3, 6, 4, 33, 17), (1, 8, 8, 1, 1),
                                   (2, 4, 4, 64, 64)])
def test_matches_conv2d_and_its_input_gradient(shape):
    n, c, k, h, w = shape
    torch.manual_seed(0)
    weight = torch.randn(k, c, 3, 3)
    x = torch.randn(n, c, h, w, requires_grad=True)
    ref = F.conv2d(x, weight, padding=1)
    out = winograd.conv3x3(x, winograd.transform_weight(weight))
    grad = torch.randn_like(ref)
    (ref_grad,) = torch.autograd.grad(ref, x, grad)
    (out_grad,) = torch.autograd.grad(out, x, grad)
    assert out.shape == ref.shape
    assert relative_error(out, ref) < 2e-5
    assert relative_error(out_grad, ref_grad) < 2e-5


def test_eligible_only_for_frozen_wide_fp32_cpu_convs(monkeypatch):
    weight, x = torch.zeros(256, 256, 3, 3), torch.zeros(1, 256, 32, 32)
    assert winograd.eligible(weight, x)
    assert not winograd.eligible(weight.requires_grad_(True), x)
    assert not winograd.eligible(torch.zeros(128, 256, 3, 3), x)
    assert not winograd.eligible(weight.detach(), torch.zeros(1, 256, 16, 16))
    assert not winograd.eligible(weight.detach(), x.double())
    monkeypatch.setenv("WPLUS_NO_WINOGRAD", "1")
    assert not winograd.eligible(weight.detach(), x)


def synthesis_and_grad(G, ws):
    ws = ws.clone().requires_grad_(True)
    img = G.synthesis(ws)
    (grad,) = torch.autograd.grad(img.square().mean(), ws)
    return img, grad


def test_generator_renders_and_gradients_match_the_direct_path(monkeypatch):
    G = make_generator(WIDE)
    ws = G.mapping(torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(1)))
    img, grad = synthesis_and_grad(G, ws)
    wide = [layer for layer in G.synthesis.layers() if not layer.up and layer.resolution >= 32]
    assert wide and all(layer._winograd._value is not None for layer in wide)  # the fast path ran
    monkeypatch.setenv("WPLUS_NO_WINOGRAD", "1")
    ref_img, ref_grad = synthesis_and_grad(G, ws)
    assert relative_error(img, ref_img) < 1e-4
    assert relative_error(grad, ref_grad) < 1e-4


def test_cached_transform_follows_weight_changes():
    G = make_generator(WIDE)
    ws = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(2)))
    layer = G.synthesis.layers()[-1]
    assert not layer.up and layer.resolution == 64
    with torch.no_grad():
        G.synthesis(ws)
        layer.weight.mul_(-1.5)  # an in-place change, as applying a PTI delta makes
        x = torch.randn(1, 256, 64, 64)
        expected = F.conv2d(x, layer.weight, padding=1)
        assert relative_error(winograd.conv3x3(x, layer._winograd.get(layer.weight)), expected) < 2e-5


def test_embedding_quality_is_unchanged(monkeypatch):
    G = make_generator(WIDE)
    with torch.no_grad():
        target = G.synthesis(G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(3))))
    config = EmbedConfig(steps=30, loss="mse")
    fast = embed(G, target, config)
    monkeypatch.setenv("WPLUS_NO_WINOGRAD", "1")
    direct = embed(G, target, config)
    assert abs(fast.psnr[0] - direct.psnr[0]) < 0.05


def test_vgg16_features_match_the_direct_path(monkeypatch):
    torch.manual_seed(0)
    vgg = VGG16Features().eval().requires_grad_(False)
    x = torch.randn(1, 3, 256, 256, requires_grad=True)
    names = ["conv1_2", "conv3_2", "conv4_2"]

    def features_and_grad():
        feats = vgg(x, names)
        (grad,) = torch.autograd.grad(sum(f.square().mean() for f in feats), x)
        return feats, grad

    feats, grad = features_and_grad()
    assert vgg._winograd[CONV_INDEX["conv4_2"]]._value is not None  # 512 channels at 32²: fast path
    monkeypatch.setenv("WPLUS_NO_WINOGRAD", "1")
    ref_feats, ref_grad = features_and_grad()
    for f, r in zip(feats, ref_feats):
        assert relative_error(f, r) < 1e-4
    assert relative_error(grad, ref_grad) < 1e-4
