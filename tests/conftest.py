"""Shared fixtures: tiny generators and random-weight VGG16 files built by the tests."""
from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("WPLUS_OFFLINE", "1")  # never try to download VGG16 in tests

from wplus.models.stylegan2 import Generator, GeneratorConfig  # noqa: E402
from wplus.models.vgg16 import VGG16Features  # noqa: E402

TINY = GeneratorConfig(resolution=32, z_dim=64, w_dim=64, channel_base=512, channel_max=64,
                       mapping_layers=2)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def tiny_G() -> Generator:
    return make_generator()


@pytest.fixture(scope="session")
def vgg_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pth"
    torch.save(vgg_state_dict(with_classifier=False), path)
    return str(path)
