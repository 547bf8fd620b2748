"""The paper's editing applications on latent codes [N, num_ws, w_dim] (or [num_ws, w_dim])."""
from .arithmetic import transfer
from .interpolate import interpolate, slerp
from .mix import mix, parse_layers

__all__ = ["interpolate", "slerp", "mix", "parse_layers", "transfer"]
