"""Semantic directions: GANSpace, SeFa, the file format and readers, edits and `wplus edit`."""
import numpy as np
import pytest
import torch

from wplus.checkpoints import save_generator
from wplus.cli import main
from wplus.editing.direction_files import load_directions, save_directions
from wplus.editing.directions import Direction, DirectionSet, apply_direction
from wplus.editing.ganspace import ganspace, sample_w
from wplus.editing.sefa import sefa, sefa_matrix
from wplus.errors import WplusError
from wplus.io.latents import load_latents

from helpers import TINY, make_generator


@pytest.fixture(scope="module")
def pcs(tiny_G):
    return ganspace(tiny_G, components=8, n=20_000)


@pytest.fixture(scope="module")
def codes(tiny_G):
    with torch.no_grad():
        return tiny_G.mapping(torch.randn(3, TINY.z_dim, generator=torch.Generator().manual_seed(1)))


def test_pca_components_are_orthonormal_and_ordered_by_variance(tiny_G, pcs):
    vectors = torch.stack([d.vector for d in pcs.directions.values()])
    assert torch.allclose(vectors @ vectors.T, torch.eye(len(vectors)), atol=1e-5)
    scales = [d.scale for d in pcs.directions.values()]
    assert scales == sorted(scales, reverse=True)
    measured = (sample_w(tiny_G, 20_000, seed=5).float() @ vectors.T).std(0)  # other samples
    assert torch.allclose(measured, torch.tensor(scales), rtol=0.05)
    assert 0 < pcs.meta["variance_explained"] < 1


def test_sefa_direction_is_an_eigenvector_of_its_matrix(tiny_G):
    dirs = sefa(tiny_G, [0, 1, 2], components=3, n=2000)
    matrix = sefa_matrix(tiny_G, [0, 1, 2]).float()
    eigenvalues = []
    for d in dirs.directions.values():
        image = matrix @ d.vector
        eigenvalue = float(image @ d.vector)
        assert torch.allclose(image, eigenvalue * d.vector, atol=1e-4 * eigenvalue)
        eigenvalues.append(eigenvalue)
        assert d.layers == [0, 1, 2]
    assert eigenvalues == sorted(eigenvalues, reverse=True)
    top = torch.linalg.eigvalsh(matrix.double()).max()
    assert eigenvalues[0] == pytest.approx(float(top), rel=1e-5)


def test_strength_zero_is_the_identity_and_layers_are_kept(pcs, codes):
    d = pcs["pc0"]
    assert torch.equal(apply_direction(codes, d, 0.0), codes)
    edited = apply_direction(codes, d, 2.0, layers=[1, 3])
    kept = [i for i in range(TINY.num_ws) if i not in (1, 3)]
    assert torch.equal(edited[:, kept], codes[:, kept])
    assert torch.allclose(edited[:, [1, 3]] - codes[:, [1, 3]], (2.0 * d.scale * d.vector).expand(3, 2, -1), atol=1e-5)
    sweep = apply_direction(codes[0], d, torch.tensor([-1.0, 0.0, 1.0]))
    assert sweep.shape == (3, TINY.num_ws, TINY.w_dim) and torch.equal(sweep[1], codes[0])
    assert torch.allclose(sweep[2] - sweep[1], sweep[1] - sweep[0], atol=1e-5)


def test_file_round_trip_and_published_formats(pcs, tmp_path):
    path = save_directions(tmp_path / "d.safetensors", pcs)
    back = load_directions(path)
    assert list(back.directions) == list(pcs.directions) and back.fingerprint == pcs.fingerprint
    for name, d in pcs.directions.items():
        assert torch.equal(back[name].vector, d.vector) and back[name].scale == d.scale
    boundary = np.random.default_rng(0).normal(size=(1, 64)).astype(np.float32)
    np.save(tmp_path / "smile.npy", boundary)  # InterFaceGAN's layout: [1, w_dim]
    smile = load_directions(tmp_path / "smile.npy")["smile"]
    assert torch.allclose(smile.vector, torch.from_numpy(boundary[0] / np.linalg.norm(boundary)))
    comps = np.random.default_rng(1).normal(size=(4, 1, 64)).astype(np.float32)
    np.savez(tmp_path / "ganspace.npz", lat_comp=comps, lat_stdev=np.array([4, 3, 2, 1], np.float32),
             var_ratio=np.array([0.4, 0.3, 0.2, 0.1], np.float32))
    read = load_directions(tmp_path / "ganspace.npz")
    assert list(read.directions) == ["pc0", "pc1", "pc2", "pc3"] and read["pc2"].scale == 2.0
    with pytest.raises(WplusError, match="w_dim 64 but the generator's w_dim is 512"):
        read.check_fits(512, 18)


def test_edit_command_sweeps_a_code_of_a_multi_code_file(tmp_path, capsys):
    G = make_generator()
    gen = str(save_generator(G, tmp_path / "g.safetensors"))
    dirs = tmp_path / "dirs.safetensors"
    save_directions(dirs, DirectionSet({"up": Direction(torch.ones(TINY.w_dim) / 8, [0, 1], 2.0)}, TINY.w_dim))
    assert main(["generate", "--generator", gen, "--seeds", "0-3", "--out", str(tmp_path / "s")]) == 0
    seeds = str(tmp_path / "s" / "seeds.npz")
    assert main(["edit", f"{seeds}:2", "--generator", gen, "--directions", str(dirs), "--direction", "up=0.5",
                 "--sweep", "-2:2", "--frames", "5", "--out", str(tmp_path / "e")]) == 0
    w, meta = load_latents(tmp_path / "e" / "edit.npz")
    original = load_latents(seeds)[0][2]
    assert meta["strengths"] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert torch.equal(w[2], original) and torch.equal(w[:, 2:], original[None, 2:].expand(5, -1, -1))
    assert torch.allclose(w[4, 0] - original[0], 0.5 * 2 * 2.0 * torch.ones(TINY.w_dim) / 8, atol=1e-6)
    assert (tmp_path / "e" / "edit.gif").stat().st_size > 0
    for args, message in [([f"{seeds}:9", "--direction", "up"], "has 4 code(s); choose an index 0-3"),
                          ([seeds, "--direction", "down"], "no direction 'down' in this file; it has: up")]:
        assert main(["edit", *args, "--generator", gen, "--directions", str(dirs), "--out", str(tmp_path)]) == 2
        assert message in capsys.readouterr().err


def test_directions_compute_and_list(tmp_path, capsys):
    gen = str(save_generator(make_generator(), tmp_path / "g.safetensors"))
    out = str(tmp_path / "sefa.safetensors")
    assert main(["directions", "compute", "sefa", "--generator", gen, "--layers", "0-2", "--components", "2",
                 "--samples", "500", "--out", out]) == 0
    assert main(["directions", "list", out]) == 0
    listing = capsys.readouterr().out
    assert "sefa0" in listing and "sefa1" in listing and "layers 0-2" in listing
