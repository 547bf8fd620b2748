"""Per-image noise maps (inversion/noise.py) and the nvidia preset that optimises them."""
import pytest
import torch
import torch.nn.functional as F

from wplus.errors import ConfigError
from wplus.inversion import PRESETS, embed
from wplus.inversion.engine import image_seeds
from wplus.inversion.noise import init_noise_maps, noise_regulariser, renormalise_noise_
from wplus.inversion.spaces import w_stats
from wplus.seeds import z_block

from helpers import TINY, make_generator


def regulariser_one_map(m):
    """NVIDIA's penalty for one [r, r] map, as projector.py writes it (batch of one)."""
    noise, total = m[None, None], 0.0
    while True:
        total += (noise * torch.roll(noise, shifts=1, dims=3)).mean() ** 2
        total += (noise * torch.roll(noise, shifts=1, dims=2)).mean() ** 2
        if noise.shape[2] <= 8:
            break
        noise = F.avg_pool2d(noise, kernel_size=2)
    return total


@pytest.fixture(scope="module")
def targets(tiny_G):
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        return tiny_G.synthesis(tiny_G.mapping(z))


def test_regulariser_is_per_image_and_equals_the_projectors():
    maps = [torch.randn(3, 1, r, r, generator=torch.Generator().manual_seed(r)) for r in (4, 8, 16, 32)]
    got = noise_regulariser(maps)
    for i in range(3):
        expected = sum(regulariser_one_map(m[i, 0]) for m in maps)
        torch.testing.assert_close(got[i], expected)
    ones = [torch.ones(1, 1, 32, 32)]  # autocorrelation 1 at scales 32, 16 and 8, along x and y
    assert noise_regulariser(ones).item() == pytest.approx(6.0)


def test_renormalise_gives_each_image_mean_0_and_std_1():
    maps = [torch.randn(2, 1, 16, 16) * torch.tensor([3.0, 0.1]).view(2, 1, 1, 1) + 5]
    renormalise_noise_(maps)
    torch.testing.assert_close(maps[0].mean((1, 2, 3)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(maps[0].square().mean((1, 2, 3)), torch.ones(2))


def test_init_is_seeded_per_image_or_the_generators_own(tiny_G):
    both, one = init_noise_maps(tiny_G, [11, 22]), init_noise_maps(tiny_G, [22])
    layers = tiny_G.synthesis.layers()
    assert [tuple(m.shape) for m in both] == [(2, 1, layer.resolution, layer.resolution) for layer in layers]
    assert all(torch.equal(a[1], b[0]) for a, b in zip(both, one))  # batch position does not matter
    assert not torch.equal(both[-1][0], both[-1][1])
    const = init_noise_maps(tiny_G, [1, 2], "const")
    assert all(torch.equal(m[1, 0], layer.noise_const) for m, layer in zip(const, layers))


def test_no_noise_inputs_is_a_one_line_config_error(targets):
    G = make_generator()
    G.synthesis.layers = lambda: []  # a family without noise inputs (StyleGAN3) says this
    with pytest.raises(ConfigError, match="no noise inputs") as info:
        embed(G, targets, PRESETS["nvidia"], steps=2, loss="mse")
    assert "\n" not in str(info.value)


def test_w_stats_are_the_projectors():
    G = make_generator(seed=3)
    mean, std = w_stats(G, n=2000, seed=123)
    with torch.no_grad():
        w = G.mapping(z_block(2000, G.z_dim, 123))[:, 0]
    torch.testing.assert_close(mean, w.mean(0))
    assert std == pytest.approx(((w - w.mean(0)) ** 2).sum().div(2000).sqrt().item(), rel=1e-5)
    assert w_stats(G, n=2000, seed=123)[0] is mean  # cached


def test_nvidia_preset_optimises_noise_maps_in_w(tiny_G, targets):
    """Noise maps move (renormalised each step), w is one vector for all layers, the latent is
    perturbed early on and not at the end, and the result re-renders exactly with its maps."""
    seen = []
    r = embed(tiny_G, targets, PRESETS["nvidia"], steps=40, loss="mse", noise_weight=10.0,
              callbacks=[lambda s: seen.append(s.ws.clone())])
    start = init_noise_maps(tiny_G, image_seeds(targets, 0))  # the maps the run started from
    assert r.noise is not None and [m.shape for m in r.noise] == [m.shape for m in start]
    assert all((a - b).abs().max() > 1e-3 for a, b in zip(r.noise, start))
    for m in r.noise:
        torch.testing.assert_close(m.mean((1, 2, 3)), torch.zeros(2), atol=1e-4, rtol=0)
        torch.testing.assert_close(m.square().mean((1, 2, 3)), torch.ones(2), atol=1e-4, rtol=0)
    assert torch.equal(r.latents, r.latents[:, :1].expand_as(r.latents))
    mean = w_stats(tiny_G)[0]
    assert (seen[0][:, 0] - mean).abs().max() > 1e-4  # perturbed at step 0 (lr is 0 there)
    assert torch.equal(seen[-1], seen[-1][:, :1].expand_as(seen[-1]))
    with torch.no_grad():
        torch.testing.assert_close(tiny_G.synthesis(r.latents, noise=r.noise), r.images, atol=1e-5, rtol=0)
    assert (torch.tensor(r.history["psnr"])[-1] > torch.tensor(r.history["psnr"])[0] + 1).all()

