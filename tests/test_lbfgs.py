"""Per-image L-BFGS (inversion/lbfgs.py) and the presets that use it."""
import pytest
import torch

from wplus.errors import ConfigError
from wplus.inversion import PRESETS, EmbedConfig, embed
from wplus.inversion.lbfgs import BatchedLBFGS
from wplus.losses import build_loss

from helpers import TINY


def two_loop(g, pairs):
    """-H g by the textbook two-loop recursion (Nocedal & Wright, Algorithm 7.4); pairs oldest first."""
    if not pairs:
        return None
    q, alphas = g.clone(), []
    for s, y in reversed(pairs):
        a = (s @ q) / (y @ s)
        alphas.append(a)
        q = q - a * y
    s, y = pairs[-1]
    r = (s @ y) / (y @ y) * q
    for (s, y), a in zip(pairs, reversed(alphas)):
        r = r + s * (a - (y @ r) / (y @ s))
    return -r


def test_compact_direction_equals_the_two_loop_recursion():
    torch.manual_seed(0)
    dim, counts = 12, [0, 1, 3, 5]  # images with different numbers of pairs (memory 4: one overflows)
    opt = BatchedLBFGS(torch.zeros(len(counts), dim), lr=0.1, history=4)
    pairs = [[] for _ in counts]
    for k in range(max(counts)):
        s = torch.randn(len(counts), dim)
        y = s + 0.1 * torch.randn(len(counts), dim)  # s.y > 0
        where = torch.tensor([k < c for c in counts])
        opt._push(where, s, y)
        for i, c in enumerate(counts):
            if k < c:
                pairs[i] = (pairs[i] + [(s[i], y[i])])[-4:]
    g = torch.randn(len(counts), dim)
    got = opt._direction(g)
    for i in range(len(counts)):
        expected = two_loop(g[i], pairs[i])
        if expected is None:  # no pairs: steepest descent, largest entry moved by lr
            expected = -g[i] * 0.1 / g[i].abs().max()
        torch.testing.assert_close(got[i], expected, atol=1e-5, rtol=1e-4)


def quadratic(x, A, b):
    return 0.5 * torch.einsum("ni,nij,nj->n", x, A, x) - (b * x).sum(1)


def run_quadratic(A, b, steps):
    x = torch.zeros(len(A), A.shape[1], requires_grad=True)
    opt = BatchedLBFGS(x, lr=0.1, history=10, max_step=10.0)
    for _ in range(steps):
        f = quadratic(x, A, b)
        opt.zero_grad()
        f.sum().backward()
        opt.step(f.detach())
    return x.detach()


def test_solves_quadratics_per_image_independently():
    torch.manual_seed(1)
    n, dim = 3, 8
    M = torch.randn(n, dim, dim)
    A = M @ M.transpose(1, 2) + 0.5 * torch.eye(dim)  # condition numbers in the hundreds
    b = torch.randn(n, dim)
    x = run_quadratic(A, b, 60)
    solution = torch.linalg.solve(A, b)
    torch.testing.assert_close(x, solution, atol=1e-3, rtol=1e-3)
    alone = run_quadratic(A[1:2], b[1:2], 60)
    torch.testing.assert_close(alone[0], x[1], atol=1e-5, rtol=1e-5)


def test_a_worse_point_is_rejected_and_the_step_halved():
    x = torch.zeros(1, 1, requires_grad=True)
    opt = BatchedLBFGS(x, lr=1.0, max_step=10.0)
    f = lambda v: (v - 0.1).square().sum(1)  # noqa: E731 - minimum at 0.1; the first step (lr 1) overshoots to 1
    for expected in (1.0, 0.5, 0.25):  # 1 is worse than 0: back to 0 plus half the step, again
        loss = f(x)
        opt.zero_grad()
        loss.sum().backward()
        opt.step(loss.detach())
        if expected != 1.0:
            assert opt.f.item() == pytest.approx(0.01)  # the accepted point is still 0
        assert x.item() == pytest.approx(expected)


@pytest.fixture(scope="module")
def targets(tiny_G):
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        return tiny_G.synthesis(tiny_G.mapping(z))


def test_lbfgs_embeds_better_than_adam_in_the_same_steps(tiny_G, targets):
    loss = build_loss("mse+msssim")
    adam = embed(tiny_G, targets, loss=loss, steps=60)
    lbfgs = embed(tiny_G, targets, loss=loss, steps=60, optimiser="lbfgs", lr=0.2)
    # Measured (tiny G, 60 steps): Adam 29.7 / 32.1 dB, L-BFGS 30.8 / 43.8.
    assert (lbfgs.psnr > adam.psnr + 0.5).all() and (lbfgs.psnr - adam.psnr).mean() > 3, (lbfgs.psnr, adam.psnr)
    with torch.no_grad():
        torch.testing.assert_close(tiny_G.synthesis(lbfgs.latents), lbfgs.images, atol=1e-5, rtol=0)
    torch.testing.assert_close(lbfgs.loss, torch.tensor(lbfgs.history["loss"]).min(0).values)


def test_lbfgs_images_are_independent(tiny_G, targets):
    """Image 1's run is the same whatever image 0 is (same batch size: same kernels), and alone
    it follows the batched run until float rounding, which L-BFGS amplifies, builds up."""
    loss = build_loss("mse")
    run = lambda t, steps: embed(tiny_G, t, loss=loss, steps=steps, optimiser="lbfgs", lr=0.2,  # noqa: E731
                                 init="random")
    both = run(targets, 25)
    other = run(torch.stack([targets[1].flip(-1), targets[1]]), 25)
    torch.testing.assert_close(other.latents[1], both.latents[1], atol=1e-5, rtol=0)
    alone, batched = run(targets[1:], 10), run(targets, 10)
    history = lambda r, i: torch.tensor(r.history["loss"])[:, i]  # noqa: E731
    torch.testing.assert_close(history(alone, 0), history(batched, 1), rtol=1e-4, atol=0)


def test_presets_and_lbfgs_limits():
    assert PRESETS["default"].optimiser == "lbfgs" and PRESETS["default"].steps == 500
    assert PRESETS["paper"].optimiser == "adam" and PRESETS["paper"].lr == 0.01 and PRESETS["paper"].steps == 5000
    assert EmbedConfig().optimiser == "adam"
    for bad in (dict(optimise_noise=True), dict(latent_noise=0.05), dict(lr_rampdown=0.25), dict(space="w+n")):
        with pytest.raises(ConfigError, match="lbfgs optimises the latent alone"):
            EmbedConfig(optimiser="lbfgs", **bad)
