"""The paper's studies, each a small module with `run(ctx) -> StudyResult`."""
from . import affine, init, inpaint, loss, noise, non_face, pti, random_generator, spaces

STUDIES = {"spaces": spaces.run, "init": init.run, "loss": loss.run,
           "random-generator": random_generator.run, "affine": affine.run, "non-face": non_face.run,
           "inpaint": inpaint.run, "noise": noise.run, "pti": pti.run}

__all__ = ["STUDIES"]
