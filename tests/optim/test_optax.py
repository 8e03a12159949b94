"""optax's conventions, reproduced by ravine's options, against optax itself.

200 steps in float64 on parameters of several shapes. The gradients are a fixed random
sequence (not the gradient of a loss at the current point), so rounding cannot be amplified
by the dynamics and every step is checked to 1e-12 relative to the tensor's largest entry
(a coordinate passing near zero differs by rounding, 1e-16 absolute, not relative to
itself). The learning rate follows a schedule, so the place of the rate in a momentum trace
shows. Skipped where optax is absent
(it is not a dependency); each option also has a test written out by hand that runs without it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ravine.optim as ro

optax = pytest.importorskip("optax")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

STEPS = 200
SHAPES = ((3,), (4, 5), (2, 3, 2))
RTOL = 1e-12


def _lr(t):  # t counts from 0
    return 1e-2 * (1 + 0.5 * np.cos(0.1 * t))


def _run_both(ours_factory, tx):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * (1 + t % 7) for s in SHAPES] for t in range(STEPS)]
    params = [torch.tensor(a, requires_grad=True) for a in start]
    opt = ours_factory(params)
    theirs = [jnp.asarray(a) for a in start]
    state = tx.init(theirs)
    for t in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = _lr(t)
        for p, g in zip(params, grads[t], strict=True):
            p.grad = torch.tensor(g)
        opt.step()
        updates, state = tx.update([jnp.asarray(g) for g in grads[t]], state, theirs)
        theirs = optax.apply_updates(theirs, updates)
        for p, q in zip(params, theirs, strict=True):
            ours, ref = p.detach().numpy(), np.asarray(q)
            scale = np.abs(ref).max()
            assert np.abs(ours - ref).max() <= RTOL * scale, f"step {t + 1}, shape {ref.shape}"


def test_adam_eps_root() -> None:
    _run_both(
        lambda ps: ro.Adam(ps, eps=1e-8, eps_root=1e-6),
        optax.adam(_lr, eps=1e-8, eps_root=1e-6),
    )


def test_amsgrad_keeps_the_corrected_maximum() -> None:
    _run_both(
        lambda ps: ro.Adam(ps, amsgrad=True, amsgrad_corrected=True, eps_root=1e-8),
        optax.amsgrad(_lr, eps=1e-8, eps_root=1e-8),
    )


def test_adabelief_eps_root() -> None:
    _run_both(
        lambda ps: ro.AdaBelief(ps, eps=1e-8, eps_root=1e-12),
        optax.adabelief(_lr, eps=1e-8, eps_root=1e-12),
    )


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_rmsprop_optax_form(centered, nesterov, bias_correction) -> None:
    options = {"centered": centered, "nesterov": nesterov, "bias_correction": bias_correction}
    _run_both(
        lambda ps: ro.RMSProp(
            ps,
            decay=0.9,
            eps=1e-8,
            eps_in_sqrt=True,
            momentum=0.9,
            initial_scale=0.1,
            lr_in_momentum=True,
            **options,
        ),
        optax.rmsprop(_lr, decay=0.9, eps=1e-8, initial_scale=0.1, momentum=0.9, **options),
    )


def test_adamax_default_is_optax_form() -> None:
    _run_both(lambda ps: ro.AdaMax(ps), optax.adamax(_lr, eps=1e-8))
