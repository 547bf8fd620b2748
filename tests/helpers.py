"""Builders the tests share: tiny generators and random VGG16 weights (no fixtures here)."""
from __future__ import annotations

import torch

from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGG16Features

TINY = GeneratorConfig(resolution=32, z_dim=64, w_dim=64, channel_base=512, channel_max=64,
                       mapping_layers=2)


def make_generator(cfg: GeneratorConfig = TINY, seed: int = 0, rgb_gain: float = 0.2) -> Generator:
    """A seeded random generator. `rgb_gain` scales the ToRGB weights so that, like a trained
    generator, it outputs images in about [-1, 1] (untrained ones reach +-5)."""
    torch.manual_seed(seed)
    G = Generator(cfg)
    with torch.no_grad():
        for block in G.synthesis.blocks():
            block.torgb.weight.mul_(rgb_gain)
    G.compute_w_avg(n=2000, seed=seed)
    return G.eval().requires_grad_(False)


def vgg_state_dict(seed: int = 1, with_classifier: bool = True) -> dict[str, torch.Tensor]:
    """A random VGG16 state_dict with exactly torchvision's key names and shapes."""
    torch.manual_seed(seed)
    state = VGG16Features().state_dict()
    if with_classifier:
        for i, (o, n) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
            state[f"classifier.{i}.weight"] = torch.zeros(o, n)
            state[f"classifier.{i}.bias"] = torch.zeros(o)
    return state
