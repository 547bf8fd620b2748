import pytest
import torch

from wplus.errors import WplusError
from wplus.losses.lpips import LPIPS, build_lpips, load_heads
from wplus.models.vgg16 import VGG16Features

from helpers import vgg_state_dict

# LPIPS's own VGG16 slices of torchvision's `features`: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
SLICES = [(0, 4), (4, 9), (9, 16), (16, 23), (23, 30)]


def reference_lpips(vgg: VGG16Features, heads, x, y):
    """LPIPS v0.1 written from its definition, layer by layer on torchvision's slices."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    hx, hy, total = (x - shift) / scale, (y - shift) / scale, 0
    for (a, b), w in zip(SLICES, heads):
        hx, hy = vgg.features[a:b](hx), vgg.features[a:b](hy)
        nx = hx / (hx.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        ny = hy / (hy.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        total = total + ((nx - ny) ** 2 * w.view(1, -1, 1, 1)).sum(1).mean((1, 2))
    return total


@pytest.fixture(scope="module")
def lpips_vgg():
    vgg = VGG16Features()
    vgg.load_state_dict(vgg_state_dict(seed=7, with_classifier=False))
    return vgg.eval()


def test_shipped_heads_have_lpips_vgg_shapes():
    heads = load_heads()
    assert [tuple(h.shape) for h in heads] == [(1, c, 1, 1) for c in (64, 128, 256, 512, 512)]
    assert all((h >= 0).all() for h in heads)  # LPIPS clamps its heads to be non-negative


def test_matches_reference_computation(lpips_vgg):
    heads = load_heads()
    torch.manual_seed(0)
    x, y = torch.rand(3, 3, 48, 48) * 2 - 1, torch.rand(3, 3, 48, 48) * 2 - 1
    got = LPIPS(lpips_vgg, heads)(x, y)
    want = reference_lpips(lpips_vgg, heads, x, y)
    assert got.shape == (3,)
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-6)
    assert (got > 0).all() and LPIPS(lpips_vgg, heads)(x, x).abs().max() < 1e-6


def test_build_lpips_loads_torchvision_file(tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(vgg_state_dict(seed=7), path)
    metric = build_lpips(path)
    x = torch.zeros(1, 3, 32, 32)
    assert metric(x, x + 0.5).item() > 0


def test_bad_heads_file_names_it(tmp_path):
    bad = tmp_path / "heads.pth"
    bad.write_bytes(b"junk")
    with pytest.raises(WplusError, match="heads.pth"):
        load_heads(bad)
