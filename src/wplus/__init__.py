"""wplus: embed images into a StyleGAN's W+ latent space (Image2StyleGAN) and edit them there."""
from . import directions
from ._version import __version__
from .checkpoints import load_generator, save_generator
from .editing import interpolate, mix, slerp, transfer
from .editing.directions import apply_direction as edit
from .errors import ConfigError, WplusError
from .inversion import PRESETS, EmbedConfig, EmbedResult, embed
from .inversion.tuning import TUNE_PRESETS, TuneConfig, TuneResult, tune
from .io.align import align
from .io.deltas import load_delta, save_delta
from .io.images import LoadedImage, load_image
from .io.latents import load_latents, load_noise_maps, save_latents
from .models.delta import GeneratorDelta
from .models.stylegan1 import StyleGAN1Config, StyleGAN1Generator
from .models.stylegan2 import Generator, GeneratorConfig
from .models.stylegan3 import StyleGAN3Config, StyleGAN3Generator

__all__ = ["tune", "TuneConfig", "TuneResult", "TUNE_PRESETS", "load_delta", "save_delta", "GeneratorDelta",
           "directions", "edit", "align", "load_generator", "save_generator", "interpolate", "mix", "slerp", "transfer",
           "ConfigError", "WplusError", "PRESETS", "EmbedConfig", "EmbedResult", "embed", "LoadedImage",
           "load_image", "load_latents", "load_noise_maps", "save_latents", "Generator", "GeneratorConfig",
           "StyleGAN1Config", "StyleGAN1Generator", "StyleGAN3Config", "StyleGAN3Generator", "__version__"]
