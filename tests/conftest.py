"""Shared fixtures: a tiny generator and a random-weight VGG16 file built by the tests."""
from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("WPLUS_OFFLINE", "1")  # never try to download VGG16 in tests

from wplus.models.stylegan2 import Generator  # noqa: E402

from helpers import make_generator, vgg_state_dict  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_G() -> Generator:
    """Shared by many tests, so none may change it: checked when the session ends."""
    G = make_generator()
    fingerprint = G.fingerprint()
    yield G
    assert G.fingerprint() == fingerprint, "a test modified the shared tiny_G fixture"


@pytest.fixture(scope="session")
def vgg_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pth"
    torch.save(vgg_state_dict(with_classifier=False), path)
    return str(path)
