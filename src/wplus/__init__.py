"""wplus: embed images into a StyleGAN's W+ latent space (Image2StyleGAN) and edit them there."""
from .checkpoints import load_generator, save_generator
from .errors import WplusError
from .inversion import PRESETS, EmbedConfig, EmbedResult, embed
from .io.align import align
from .io.images import load_image
from .io.latents import load_latents, save_latents
from .models.stylegan2 import Generator, GeneratorConfig

__version__ = "0.1.0"

__all__ = ["align", "load_generator", "save_generator", "WplusError", "PRESETS", "EmbedConfig",
           "EmbedResult", "embed", "load_image", "load_latents", "save_latents", "Generator",
           "GeneratorConfig", "__version__"]
