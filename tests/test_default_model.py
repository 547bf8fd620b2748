"""The shipped default model behaves like a StyleGAN2: style layers split coarse from fine."""
import torch

from wplus.app import ModelOptions, Workspace, directions_for
from wplus.checkpoints import load_generator
from wplus.editing.evaluation import attribute_response, spearman
from wplus.editing.spectrum import high_frequency_share, uniform_shift_share
from wplus.seeds import z_block
from wplus.training.report import style_mixing


def test_uniform_shift_share_separates_colour_shifts_from_patterns():
    shift = torch.ones(2, 3, 16, 16) * torch.tensor([0.3, -0.1, 0.2]).view(1, 3, 1, 1)
    pattern = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    pattern -= pattern.mean(dim=(2, 3), keepdim=True)
    assert abs(uniform_shift_share(shift) - 1) < 1e-6
    assert uniform_shift_share(pattern) < 1e-6
    assert abs(uniform_shift_share(shift + pattern) - shift.square().sum() / (shift + pattern).square().sum()) < 1e-4
    assert high_frequency_share(shift) < 1e-6 and high_frequency_share(pattern) > 0.5


def test_shipped_model_coarse_layers_move_structure_fine_layers_shift_colour():
    """Swapping layers 0-3 (4², 8²) changes the image much more than swapping 6-9 (32², 64²),
    and little of that change is a uniform colour shift; the fine swap's change mostly is
    (shipped model, 64 pairs, as in its card: RMS 0.44 vs 0.15, colour-shift share 0.11 vs 0.73)."""
    stats, _ = style_mixing(load_generator(), 64, seed=7)  # the model card's setting
    (coarse_rms, coarse_shift), (fine_rms, fine_shift) = stats["coarse"], stats["fine"]
    assert coarse_rms > 2 * fine_rms, stats
    assert coarse_shift < 0.3 and fine_shift > 0.6, stats


def test_shipped_directions_fit_the_default_model_and_do_what_they_say():
    """The shipped labelled directions move their attribute the right way on held-out samples
    (16 samples, strengths -2, 0, +2: the mean curve is increasing, as in docs/editing.md)."""
    ws = Workspace.open(ModelOptions())
    dirs = directions_for(ws)
    assert dirs.fingerprint == ws.fingerprint and len(dirs.directions) == 32
    assert {"pc0", "sefa_coarse0", "sefa_fine0", "yaw", "smile_only", "lighting"} <= set(dirs.directions)
    with torch.no_grad():
        codes = ws.G.mapping(z_block(16, ws.G.z_dim, seed=2000))
    for name in ("yaw", "brightness", "lighting"):
        curve = attribute_response(ws.G, codes, dirs[name], [-2.0, 0.0, 2.0]).curves[name]
        assert curve[0] < curve[1] < curve[2], (name, curve)


def test_spearman_reference_values():
    assert abs(spearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-12
    assert abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12
    assert abs(spearman([1, 2, 3, 4, 5], [1, 2, 3, 5, 4]) - 0.9) < 1e-12
