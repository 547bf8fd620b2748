"""The same generator interface on every family: StyleGAN (v1), StyleGAN2, StyleGAN3."""
import pytest
import torch

import wplus
from wplus.checkpoints import load_generator, save_generator
from wplus.editing.sefa import sefa_matrix
from wplus.errors import ConfigError
from wplus.experiments.random_generator import random_like
from wplus.models.families import FAMILIES, config_from_json, make_generator
from wplus.models.stylegan1 import StyleGAN1Config
from wplus.models.stylegan2 import GeneratorConfig
from wplus.models.stylegan3 import StyleGAN3Config

CONFIGS = {
    "stylegan1": StyleGAN1Config(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8, mapping_layers=2),
    "stylegan2": GeneratorConfig(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8, mapping_layers=2),
    "stylegan3": StyleGAN3Config(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8),
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def G(request):
    torch.manual_seed(0)
    G = make_generator(CONFIGS[request.param])
    G.compute_w_avg(n=200)
    return G.eval().requires_grad_(False)


def test_interface(G):
    assert set(FAMILIES) == set(CONFIGS) and G.family in FAMILIES
    ws = G.mapping(torch.randn(2, G.z_dim), truncation_psi=0.7)
    assert ws.shape == (2, G.num_ws, G.w_dim) and G.w_avg.shape == (G.w_dim,)
    img = G.synthesis(ws, noise_mode="const")
    assert img.shape == (2, 3, G.resolution, G.resolution) and torch.isfinite(img).all()
    assert torch.allclose(img[1:], G.synthesis(ws[1:]), atol=1e-5)  # images of a batch are independent
    assert G.has_noise == (G.family != "stylegan3") == bool(G.synthesis.layers())
    assert config_from_json(G.config.to_json()) == G.config
    assert ('"family"' in G.config.to_json()) == (G.family != "stylegan2")  # StyleGAN2 JSON as before


def test_native_round_trip_sefa_and_random_like(G, tmp_path):
    save_generator(G, tmp_path / "g.safetensors")
    H = load_generator(tmp_path / "g.safetensors")
    assert type(H) is type(G) and H.fingerprint() == G.fingerprint()
    matrix = sefa_matrix(G, list(range(G.num_ws - 1)))  # the default layers of `wplus directions compute`
    assert matrix.shape == (G.w_dim, G.w_dim)
    R = random_like(G)
    assert type(R) is type(G) and R.config == G.config and R.fingerprint() != G.fingerprint()


def test_embed_in_every_space(G):
    target = G.synthesis(G.mapping(torch.randn(1, G.z_dim))).clamp(-1, 1)
    for space in ("z", "w", "w+"):
        result = wplus.embed(G, target, space=space, steps=2, loss="mse")
        assert result.latents.shape == (1, G.num_ws, G.w_dim)


def test_unknown_family_is_refused():
    with pytest.raises(ConfigError, match="unknown generator family 'stylegan9'"):
        config_from_json('{"family": "stylegan9"}')
