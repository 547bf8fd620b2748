"""Embedding on the generator's own samples (known ground truth, const noise)."""
import pytest
import torch

from wplus.inversion import Snapshots, embed
from wplus.losses import build_loss

from helpers import TINY


@pytest.fixture(scope="module")
def i2s_loss(vgg_file):
    loss = build_loss("i2s", vgg16=vgg_file)
    assert loss.warning is None and loss.perceptual is not None
    return loss


@pytest.fixture(scope="module")
def targets(tiny_G):
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        return tiny_G.synthesis(tiny_G.mapping(z))


@pytest.fixture(scope="module")
def by_space(tiny_G, targets, i2s_loss):
    return {space: embed(tiny_G, targets, loss=i2s_loss, space=space, steps=200)
            for space in ("z", "w", "w+")}


def test_w_plus_gains_10db_over_mean_start(by_space):
    # Measured (tiny G, random VGG, 200 steps): start ~ 21 dB, W+ end ~ 36 dB.
    history = torch.tensor(by_space["w+"].history["psnr"])
    gain = by_space["w+"].psnr - history[0]
    assert (gain >= 10).all(), gain


def test_space_ordering_matches_paper(by_space):
    # Measured: Z ~ 26, W ~ 30, W+ ~ 36 dB mean PSNR.
    psnr = {k: v.psnr.mean().item() for k, v in by_space.items()}
    assert psnr["w+"] >= psnr["w"] + 1 and psnr["w"] >= psnr["z"] + 1, psnr


def test_result_is_best_seen_and_rerenders(tiny_G, targets, by_space):
    r = by_space["w+"]
    losses = torch.tensor(r.history["loss"])
    assert torch.allclose(r.loss, losses.min(0).values)
    assert r.latents.shape == (2, TINY.num_ws, TINY.w_dim)
    with torch.no_grad():
        assert torch.allclose(tiny_G.synthesis(r.latents), r.images, atol=1e-5)


def test_w_space_latent_is_one_w_repeated(by_space):
    ws = by_space["w"].latents
    assert torch.equal(ws, ws[:, :1].expand_as(ws))


def test_first_step_goes_down_the_hand_computed_gradient(tiny_G, targets, i2s_loss):
    """Adam's first step moves each latent entry by lr against the sign of its gradient; the
    gradient is recomputed here with autograd on the same loss, so this fails if gradients do
    not reach the latent, have the wrong sign, or come from another loss or render."""
    lr = 0.01
    seen = []
    embed(tiny_G, targets, loss=i2s_loss, space="w+", steps=2, lr=lr,
          callbacks=[lambda state: seen.append((state.ws.clone(), state.loss.clone()))])
    (ws0, loss0), (ws1, _) = seen
    w = ws0.clone().requires_grad_(True)
    per_image = i2s_loss(tiny_G.synthesis(w, noise_mode="const"), i2s_loss.prepare(targets))
    torch.testing.assert_close(per_image.detach(), loss0)  # same loss, same render
    (grad,) = torch.autograd.grad(per_image.sum(), w)
    clear = grad.abs() > 1e-6  # Adam's eps (1e-8) shortens steps only where |grad| is ~eps
    assert clear.float().mean() > 0.9
    torch.testing.assert_close((ws1 - ws0)[clear], -lr * grad.sign()[clear], atol=lr * 0.02, rtol=0)


def test_batched_equals_single(tiny_G, targets, i2s_loss):
    both = embed(tiny_G, targets, loss=i2s_loss, steps=30, init="random")
    start = embed(tiny_G, targets, loss=i2s_loss, steps=1, lr=0.0, init="random").latents
    for i in range(2):
        one = embed(tiny_G, targets[i:i + 1], loss=i2s_loss, steps=30, init="random")
        moved = (both.latents[i] - start[i]).abs().max()
        # Float reduction order differs with batch size; Adam's normalisation amplifies it
        # slightly. Measured: max difference ~2e-4 of a ~0.3 move after 30 steps.
        assert (one.latents[0] - both.latents[i]).abs().max() < 0.01 * moved
        assert torch.allclose(one.loss[0], both.loss[i], rtol=1e-3)


def test_random_init_differs_per_image_and_is_reproducible(tiny_G, targets):
    loss = build_loss("mse")
    a = embed(tiny_G, targets, loss=loss, steps=1, init="random")
    b = embed(tiny_G, targets, loss=loss, steps=1, init="random")
    assert torch.equal(a.params, b.params)
    assert not torch.equal(a.params[0], a.params[1])


def test_early_stop_and_snapshots(tiny_G, targets):
    loss = build_loss("mse")
    snaps = Snapshots(every=10)
    r = embed(tiny_G, targets, loss=loss, steps=400, lr=0.0, early_stop=True, patience=20,
              callbacks=[snaps])
    assert r.steps == 21  # step 0 sets the reference, then 20 steps without improvement
    assert [s for s, _ in snaps.frames] == [0, 10, 20]


def test_msssim_fallback_embeds(tiny_G, targets):
    loss = build_loss("mse+msssim")
    r = embed(tiny_G, targets, loss=loss, steps=60)
    history = torch.tensor(r.history["psnr"])
    assert (r.psnr - history[0] > 3).all()


def test_interrupt_keeps_best_so_far(tiny_G, targets):
    loss = build_loss("mse")

    def stop_at_5(state):
        if state.step == 5:
            raise KeyboardInterrupt

    r = embed(tiny_G, targets, loss=loss, steps=100, callbacks=[stop_at_5])
    assert r.interrupted and r.steps == 6
    assert torch.allclose(r.loss, torch.tensor(r.history["loss"]).min(0).values)
    with torch.no_grad():
        assert torch.allclose(tiny_G.synthesis(r.latents), r.images, atol=1e-5)


def reference_embed(G, targets, loss, steps, lr, init_ws):
    """The loop as plainly as it can be written (host reads every step): W+ from `init_ws`,
    Adam, per-image best so far by boolean indexing, history appended every step."""
    param = init_ws.clone().requires_grad_(True)
    opt = torch.optim.Adam([param], lr=lr)
    prepared = loss.prepare(targets)
    best_loss = torch.full((len(targets),), float("inf"))
    best_param, history = param.detach().clone(), []
    for _ in range(steps):
        per_image = loss(G.synthesis(param, noise_mode="const"), prepared)
        improved = per_image.detach() < best_loss
        best_loss = torch.where(improved, per_image.detach(), best_loss)
        best_param[improved] = param.detach()[improved]
        history.append(per_image.tolist())
        opt.zero_grad(set_to_none=True)
        per_image.sum().backward()
        opt.step()
    return best_param, best_loss, history


@pytest.mark.parametrize("sync_every", [1, 7, 32])
def test_loop_equals_the_plain_reference_loop(tiny_G, targets, sync_every):
    """The device-side loop (history buffered, host reads every `sync_every` steps) gives the
    same latents, losses and history as a plain loop that reads everything every step."""
    loss = build_loss("mse+msssim")
    start = embed(tiny_G, targets, loss=loss, steps=1, lr=0.0, init="random").latents
    got = embed(tiny_G, targets, loss=loss, steps=20, lr=0.03, init="random", sync_every=sync_every)
    ref_param, ref_loss, ref_history = reference_embed(tiny_G, targets, loss, 20, 0.03, start)
    torch.testing.assert_close(got.latents, ref_param, atol=1e-6, rtol=0)
    torch.testing.assert_close(got.loss, ref_loss, atol=1e-7, rtol=1e-6)
    torch.testing.assert_close(torch.tensor(got.history["loss"]), torch.tensor(ref_history), atol=1e-7, rtol=1e-6)
    assert got.steps == 20 and len(got.history["psnr"]) == 20


def test_nan_in_one_image_mid_run_keeps_the_best_before_it(targets):
    """Image 1's render turns NaN from step 10 on; the loop only reads the device every 8 steps,
    so it runs on to step 15, where image 0 still improves. The result must be the one a
    per-step check gives: stopped at step 10, every image's best from steps 0-9."""
    from helpers import make_generator
    G = make_generator()  # its own copy: the synthesis is patched below
    real, calls = G.synthesis.forward, {"n": 0}

    def breaks_image_1_from_step_10(ws, **kwargs):
        calls["n"] += 1
        out = real(ws, **kwargs)
        if calls["n"] > 10:
            out = torch.cat([out[:1], out[1:] * float("nan")])
        return out

    G.synthesis.forward = breaks_image_1_from_step_10
    seen = []
    r = embed(G, targets, loss="mse", steps=50, lr=0.03, sync_every=8,
              callbacks=[lambda s: seen.append(s.loss.clone())])
    assert r.error and "non-finite at step 10" in r.error and r.steps == 10 and not r.interrupted
    assert len(seen) == 16  # the loop ran on to the read after step 15 ...
    assert seen[15][0] < torch.tensor(r.history["loss"])[:, 0].min()  # ... where image 0 was still improving
    torch.testing.assert_close(r.loss, torch.tensor(r.history["loss"]).min(0).values)
    assert torch.isfinite(r.latents).all() and torch.isfinite(r.images).all()
    with torch.no_grad():
        torch.testing.assert_close(real(r.latents), r.images, atol=1e-5, rtol=0)


@pytest.mark.parametrize("sync_every", [1, 5, 64])
def test_early_stop_lands_on_the_same_step_whatever_the_read_interval(tiny_G, targets, sync_every):
    loss = build_loss("mse")
    r = embed(tiny_G, targets, loss=loss, steps=400, lr=0.0, early_stop=True, patience=20, sync_every=sync_every)
    assert r.steps == 21 and len(r.history["psnr"]) == 21


def test_bf16_autocast_runs_on_cpu_close_to_fp32(tiny_G, targets):
    """precision='bf16' (autocast; fp32 latents, loss and Adam) embeds as well as fp32 within a
    fraction of a dB; 'auto' is fp32 on the CPU (bit-identical to asking for fp32)."""
    loss = build_loss("mse")
    fp32 = embed(tiny_G, targets, loss=loss, steps=40, lr=0.03, precision="fp32")
    auto = embed(tiny_G, targets, loss=loss, steps=40, lr=0.03)
    bf16 = embed(tiny_G, targets, loss=loss, steps=40, lr=0.03, precision="bf16")
    assert torch.equal(fp32.latents, auto.latents)
    assert bf16.latents.dtype == torch.float32 and bf16.images.dtype == torch.float32
    assert not torch.equal(bf16.latents, fp32.latents)  # autocast did something
    assert (bf16.psnr - fp32.psnr).abs().max() < 1.0, (bf16.psnr, fp32.psnr)


def test_lr_schedule_is_applied(tiny_G, targets):
    """With a linear ramp-up over the whole run (factor 0, 1/3, 2/3 at steps 0-2) the first
    step cannot move the latent; the second, from the same render and so the same gradient,
    moves it by lr/3 per entry against the gradient's sign (Adam's normalised step)."""
    loss, lr, seen = build_loss("mse"), 0.03, []
    embed(tiny_G, targets, loss=loss, steps=3, lr=lr, lr_rampup=1.0,
          callbacks=[lambda s: seen.append(s.ws.clone())])
    assert torch.equal(seen[0], seen[1])
    w = seen[0].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(tiny_G.synthesis(w), loss.prepare(targets)).sum(), w)
    clear = grad.abs() > 1e-6
    torch.testing.assert_close((seen[2] - seen[1])[clear], -lr / 3 * grad.sign()[clear], atol=lr * 0.01, rtol=0)


@pytest.mark.slow
def test_compiled_render_and_loss_equal_eager(tiny_G, targets):
    """compile='default' (torch.compile of the render + loss; minutes of compiling on 2 CPU
    cores) gives the eager results within float tolerance."""
    loss = build_loss("mse")
    eager = embed(tiny_G, targets, loss=loss, steps=5)
    compiled = embed(tiny_G, targets, loss=loss, steps=5, compile="default")
    torch.testing.assert_close(compiled.latents, eager.latents, atol=1e-5, rtol=0)


def test_auto_precision_is_bf16_only_for_adam_on_cuda():
    from wplus.inversion.precision import resolve_precision
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("auto", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cuda, "lbfgs") == "fp32"  # L-BFGS loses 2 dB in bf16 (measured)
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        assert resolve_precision("auto", cuda, "adam") == "bf16"
