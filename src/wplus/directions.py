"""Semantic directions in one namespace: `wplus.directions.ganspace(G)`, `.sefa(G, layers)`,
`.attribute_directions(G)`, `.load(path)`, `.save(path, dirs)`, `.apply(w, direction, strength)`."""
from .editing.direction_files import load_directions as load
from .editing.direction_files import merge
from .editing.direction_files import save_directions as save
from .editing.directions import Direction, DirectionSet, apply_direction, projection_std
from .editing.directions import apply_direction as apply
from .editing.ganspace import ganspace, sample_w
from .editing.labelled import attribute_directions
from .editing.sefa import sefa, sefa_matrix

__all__ = ["load", "save", "merge", "Direction", "DirectionSet", "apply", "apply_direction", "projection_std",
           "ganspace", "sample_w", "attribute_directions", "sefa", "sefa_matrix"]
