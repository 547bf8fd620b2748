"""The generator families wplus runs, by name: config class and generator class."""
from __future__ import annotations

import json

from ..errors import ConfigError
from .base import FamilyConfig, GeneratorBase, Provenance
from .stylegan1 import StyleGAN1Config, StyleGAN1Generator
from .stylegan2 import Generator, GeneratorConfig
from .stylegan3 import StyleGAN3Config, StyleGAN3Generator

#: family name -> (config class, generator class)
FAMILIES: dict[str, tuple[type[FamilyConfig], type[GeneratorBase]]] = {
    "stylegan1": (StyleGAN1Config, StyleGAN1Generator),
    "stylegan2": (GeneratorConfig, Generator),
    "stylegan3": (StyleGAN3Config, StyleGAN3Generator),
}


def config_from_json(text: str) -> FamilyConfig:
    """A config from its JSON; the `family` tag picks the class (no tag: StyleGAN2)."""
    data = json.loads(text)
    family = data.get("family", "stylegan2") if isinstance(data, dict) else None
    if family not in FAMILIES:
        raise ConfigError(f"unknown generator family {family!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[family][0].from_json(text)


def make_generator(cfg: FamilyConfig, provenance: Provenance = Provenance()) -> GeneratorBase:
    """A randomly initialised generator of `cfg`'s family."""
    for config_cls, generator_cls in FAMILIES.values():
        if type(cfg) is config_cls:
            return generator_cls(cfg, provenance)
    raise ConfigError(f"no generator family has the config type {type(cfg).__name__}")
