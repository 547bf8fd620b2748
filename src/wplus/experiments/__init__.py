"""The studies, each a small module with `run(ctx) -> StudyResult`: the paper's and
Image2StyleGAN++'s (run by `wplus experiment all`), and the extensions run on their own."""
from . import affine, init, inpaint, loss, noise, non_face, pti, random_generator, spaces

STUDIES = {"spaces": spaces.run, "init": init.run, "loss": loss.run,
           "random-generator": random_generator.run, "affine": affine.run, "non-face": non_face.run,
           "inpaint": inpaint.run, "noise": noise.run}
#: Not part of `all`: pivotal tuning (its own report: scripts/pti_report.py).
EXTRA_STUDIES = {"pti": pti.run}

__all__ = ["STUDIES", "EXTRA_STUDIES"]
