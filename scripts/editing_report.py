"""Figures and tables of docs/editing.md, measured on the embedded default model.

    python scripts/editing_report.py [--samples 64] [--steps 1000]

Writes docs/img/editing-{ganspace,sefa,attributes,photo}.png and docs/editing/measured.md:
GANSpace's variance explained; for each labelled direction (and its conditional version) the
attributes of 64 held-out samples (seed 1000) edited at strengths -2..2 (Spearman of the mean
curve, change of the edited attribute and of the others in units of their spread); the same
edits on the aligned, embedded astronaut photo.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from wplus import load_generator
from wplus.app import EmbedOptions, ModelOptions, Workspace, bundled_examples
from wplus.app.edit import EditSources
from wplus.app.semantic import directions_for
from wplus.editing.attributes import ATTRIBUTES, measure
from wplus.editing.directions import apply_direction
from wplus.editing.evaluation import attribute_response, spearman
from wplus.io.align import align
from wplus.io.images import image_grid, read_rgb, save_image
from wplus.seeds import z_block

DOCS = Path("docs")
STRENGTHS = [-2.0, -1.0, 0.0, 1.0, 2.0]
GROUPS = {"coarse (0-3)": [0, 1, 2, 3], "middle (4-5)": [4, 5], "fine (6-9)": [6, 7, 8, 9]}


def render(G, codes: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return G.synthesis(codes, noise_mode="const").clamp(-1, 1)


def sweep_rows(G, code: torch.Tensor, directions: list, strengths: list[float], layers=None) -> torch.Tensor:
    """One row per direction: the code edited at each strength ([rows * len(strengths), 3, R, R])."""
    return torch.cat([render(G, torch.cat([apply_direction(code, d, s, layers) for s in strengths]))
                      for d in directions])


def ganspace_figure(G, dirs, code) -> list[str]:
    """First 6 PCs at -2, 0, +2 on the coarse, middle and fine layers (one block each)."""
    pcs = [dirs[f"pc{k}"] for k in range(6)]
    blocks = [sweep_rows(G, code, pcs, [-2.0, 0.0, 2.0], layers) for layers in GROUPS.values()]
    per_row = torch.cat([b.view(6, 3, *b.shape[1:]) for b in blocks], dim=1).flatten(0, 1)
    save_image(image_grid(per_row, columns=9), DOCS / "img" / "editing-ganspace.png")
    explained = [dirs[f"pc{k}"].note for k in range(10)]
    return ["## GANSpace", "", "Variance of W explained by pc0-pc9: " + "; ".join(
        f"pc{k} {note.split('%')[0]} %" for k, note in enumerate(explained)) + "."]


def attribute_table(G, dirs, codes) -> list[str]:
    lines = ["## Labelled directions on 64 held-out samples", "",
             "Change from strength -2 to +2, in units of each attribute's spread (its standard deviation over "
             "the unedited samples); `others` is the mean absolute change of the other five attributes.", "",
             "| direction | Spearman (mean curve) | edited attribute | others | largest other |",
             "|---|---|---|---|---|"]
    for name in [*ATTRIBUTES, *(f"{a}_only" for a in ATTRIBUTES)]:
        target = name.removesuffix("_only")
        response = attribute_response(G, codes, dirs[name], STRENGTHS)
        others = {a: abs(response.change(a)) for a in ATTRIBUTES if a != target}
        worst = max(others, key=others.get)
        lines.append(f"| {name} | {spearman(STRENGTHS, response.curves[target]):.2f} | "
                     f"{response.change(target):+.2f} | {sum(others.values()) / len(others):.2f} | "
                     f"{worst} {others[worst]:.2f} |")
        print(lines[-1], file=sys.stderr)
    return lines


def photo_edits(G, dirs, steps: int) -> list[str]:
    """The labelled edits on the aligned, embedded astronaut (W+), with their measured effect."""
    ws = Workspace(G, torch.device("cpu"))
    face = align(read_rgb(bundled_examples()["astronaut"]), size=G.resolution)[0][1].image
    path = Path("/tmp/wplus-report-astronaut.png")
    face.save(path)
    code = EditSources(EmbedOptions(steps=steps)).coder(ws)(path)
    names = list(ATTRIBUTES)
    rows = sweep_rows(G, code, [dirs[n] for n in names], STRENGTHS)
    save_image(image_grid(rows, columns=len(STRENGTHS)), DOCS / "img" / "editing-photo.png")
    values = measure(rows)
    lines = ["## The same edits on the embedded photo (W+)", "", "| direction | at -2 | at 0 | at +2 |",
             "|---|---|---|---|"]
    for k, name in enumerate(names):
        v = values[name][k * len(STRENGTHS):(k + 1) * len(STRENGTHS)]
        lines.append(f"| {name} | {v[0]:.3f} | {v[2]:.3f} | {v[-1]:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1000, help="embedding steps for the photo")
    args = parser.parse_args()
    G = load_generator()
    dirs = directions_for(Workspace.open(ModelOptions()))
    with torch.no_grad():
        codes = G.mapping(z_block(args.samples, G.z_dim, seed=1000))
    lines = ["# Measured editing figures (scripts/editing_report.py)", ""]
    lines += ganspace_figure(G, dirs, codes[:1])
    save_image(image_grid(sweep_rows(G, codes[1:2], [dirs[f"sefa_coarse{k}"] for k in range(5)],
                                     [-3.0, -1.5, 0.0, 1.5, 3.0]), columns=5), DOCS / "img" / "editing-sefa.png")
    names = list(ATTRIBUTES) + [f"{a}_only" for a in ATTRIBUTES]
    save_image(image_grid(sweep_rows(G, codes[2:3], [dirs[n] for n in names], STRENGTHS), columns=5),
               DOCS / "img" / "editing-attributes.png")
    lines += ["", *attribute_table(G, dirs, codes), "", *photo_edits(G, dirs, args.steps)]
    (DOCS / "editing").mkdir(parents=True, exist_ok=True)
    (DOCS / "editing" / "measured.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
