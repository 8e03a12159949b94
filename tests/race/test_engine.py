"""The race engine: batched trajectories equal per-trajectory runs, for every closure kind
(outputs and layers on the landscapes that are a model's loss)."""

from __future__ import annotations

import pytest
import torch

from ravine import landscapes, optim
from ravine.optim import KFAC, lookup, names
from ravine.race import race

STEPS = 25

LRS = [1e-4, 3e-4, 1e-3]

STARTS = [[-1.5, 2.0], [0.5, -0.5]]


def _manual(landscape, make_opt, start, steps, noise_gen=None):
    """One trajectory, one optimizer instance on a [1, dim] parameter: the reference."""
    x = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    opt = make_opt([x])
    backward = getattr(opt, "closure_kind", "backward") == "backward"
    out = [x.detach()[0].clone()]
    for _ in range(steps):
        u = None if noise_gen is None else landscape.draw(noise_gen, torch.float64)

        def closure(u=u):
            opt.zero_grad()
            f = landscape.loss(x) if u is None else landscape.sample_loss(x, u[None])
            if backward:
                f.sum().backward()
            return f.sum()

        opt.step(closure)
        out.append(x.detach()[0].clone())
    return torch.stack(out)


RACEABLE = [n for n in optim.names() if optim.lookup(n).closure_kind in ("backward", "loss")]


@pytest.mark.parametrize("name", RACEABLE)
def test_batched_equals_one_ravine_optimizer_per_trajectory(name):
    """Elementwise rules race batched; the others one instance per trajectory: either way
    each trajectory equals a run of its own optimizer."""
    cls = optim.lookup(name)
    takes_lr = "lr" in cls.hyperparameter_defaults()
    f = landscapes.get("rosenbrock")
    result = race(f, [name], lrs=LRS, starts=STARTS, steps=STEPS)
    run = result[name]
    assert run.batched == cls.elementwise
    assert run.axes == ("lr", "start", "seed")
    lrs = LRS if takes_lr else [None]
    assert run.positions.shape == (len(lrs), 2, 1, STEPS + 1, 2)
    for i, lr in enumerate(lrs):
        for j, start in enumerate(STARTS):
            hp = {"lr": lr} if takes_lr else {}
            ref = _manual(f, lambda p, hp=hp: optim.get(name, p, **hp), start, STEPS)
            got = run.positions[i, j, 0]
            torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12, equal_nan=True)


TORCH_PEERS = {
    "sgd": (lambda p, lr: torch.optim.SGD(p, lr=lr)),
    "momentum": (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
    "nesterov": (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True)),
    "adagrad": (lambda p, lr: torch.optim.Adagrad(p, lr=lr, eps=1e-8)),
    "rmsprop": (lambda p, lr: torch.optim.RMSprop(p, lr=lr, alpha=0.9, eps=1e-8)),
    "adadelta": (lambda p, lr: torch.optim.Adadelta(p, lr=lr, rho=0.9, eps=1e-6)),
    "adam": (lambda p, lr: torch.optim.Adam(p, lr=lr)),
    "adamax": (lambda p, lr: torch.optim.Adamax(p, lr=lr)),
}


@pytest.mark.parametrize("name", list(TORCH_PEERS))
def test_batched_equals_one_torch_optimizer_per_trajectory(name):
    f = landscapes.get("beale")
    lrs = [1e-4, 1e-3]
    result = race(f, [name], lrs=lrs, starts=[[1.0, 1.4], [-1.0, -1.0]], steps=STEPS)
    for i, lr in enumerate(lrs):
        for j, start in enumerate([[1.0, 1.4], [-1.0, -1.0]]):
            ref = _manual(f, lambda p, lr=lr: TORCH_PEERS[name](p, lr), start, STEPS)
            got = result[name].positions[i, j, 0]
            torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)


def test_torch_optimizer_class_races_one_per_trajectory():
    f = landscapes.get("booth")
    result = race(f, {"torch-adam": {"optimizer": torch.optim.Adam}}, lrs=[0.1, 0.3], steps=20)
    run = result["torch-adam"]
    assert not run.batched
    for i, lr in enumerate([0.1, 0.3]):
        ref = _manual(f, lambda p, lr=lr: torch.optim.Adam(p, lr=lr), f.default_start, 20)
        torch.testing.assert_close(run.positions[i, 0, 0], ref, rtol=0, atol=0)


def test_hyperparameters_beyond_lr_vary_across_the_batch():
    f = landscapes.get("rosenbrock")
    spec = {
        "momentum": {"momentum": [0.5, 0.9, 0.99]},
        "adam": {"betas": [(0.9, 0.999), (0.5, 0.9)], "eps": 1e-6},
    }
    result = race(f, spec, lrs=[1e-3, 2e-3], steps=STEPS)
    mom = result["momentum"]
    assert mom.axes == ("lr", "momentum", "start", "seed")
    assert mom.coords["momentum"].tolist() == [0.5, 0.9, 0.99]
    for i, lr in enumerate([1e-3, 2e-3]):
        for k, mu in enumerate([0.5, 0.9, 0.99]):
            ref = _manual(
                f,
                lambda p, lr=lr, mu=mu: torch.optim.SGD(p, lr=lr, momentum=mu),
                f.default_start,
                STEPS,
            )
            torch.testing.assert_close(mom.positions[i, k, 0, 0], ref, rtol=1e-10, atol=1e-12)
    adam = result["adam"]
    assert adam.axes == ("lr", "betas", "start", "seed")
    for k, betas in enumerate([(0.9, 0.999), (0.5, 0.9)]):
        ref = _manual(
            f,
            lambda p, b=betas: torch.optim.Adam(p, lr=2e-3, betas=b, eps=1e-6),
            f.default_start,
            STEPS,
        )
        torch.testing.assert_close(adam.positions[1, k, 0, 0], ref, rtol=1e-10, atol=1e-12)


def test_lookahead_nesterov_needs_and_gets_a_closure():
    f = landscapes.get("beale")
    spec = {"nag": {"optimizer": "nesterov", "lookahead": True, "momentum": 0.95}}
    result = race(f, spec, lrs=[1e-3, 1e-2], steps=STEPS)
    # Sutskever et al.'s form written out: v <- mu v - lr grad f(x + mu v); x <- x + v
    for i, lr in enumerate([1e-3, 1e-2]):
        x = torch.tensor(f.default_start, dtype=torch.float64)
        v = torch.zeros(2, dtype=torch.float64)
        for _ in range(STEPS):
            v = 0.95 * v - lr * f.gradient(x + 0.95 * v)
            x = x + v
        torch.testing.assert_close(result["nag"].positions[i, 0, 0, -1], x)


class NormalizedGD(optim.Optimizer):
    """x <- x - lr g / |g| with the norm over the WHOLE parameter: it mixes coordinates, so a
    batched race would be wrong; the engine must run it one trajectory at a time."""

    elementwise = False

    @staticmethod
    def rule(p, g, state, t, *, lr):
        return p - lr * g / g.norm(), {}

    def __init__(self, params, lr=0.1, *, check_finite=True):
        super().__init__(params, lr=lr, weight_decay=0.0, maximize=False, check_finite=check_finite)


def test_non_elementwise_optimizers_run_one_per_trajectory():
    f = landscapes.get("quadratic", condition=5.0)
    result = race(
        f,
        {"ngd": {"optimizer": NormalizedGD}},
        lrs=[0.05, 0.1],
        starts=[[1.0, 1.0], [-1.5, 0.3]],
        steps=10,
    )
    run = result["ngd"]
    assert not run.batched
    for i, lr in enumerate([0.05, 0.1]):
        for j, start in enumerate([[1.0, 1.0], [-1.5, 0.3]]):
            x = torch.tensor(start, dtype=torch.float64)
            for _ in range(10):
                g = f.gradient(x)
                x = x - lr * g / g.norm()
            torch.testing.assert_close(run.positions[i, j, 0, -1], x)


def test_noisy_race_is_reproducible_and_shares_noise_per_seed():
    f = landscapes.get("booth", noise=2.0)
    kw = {"lrs": [0.01, 0.02], "seeds": [0, 5], "steps": 15}
    a = race(f, ["sgd", "adam"], **kw)
    b = race(f, ["adam", "sgd"], **kw)
    torch.testing.assert_close(a["sgd"].positions, b["sgd"].positions, rtol=0, atol=0)
    for i, lr in enumerate([0.01, 0.02]):
        for j, seed in enumerate([0, 5]):
            ref = _manual(
                f,
                lambda p, lr=lr: torch.optim.SGD(p, lr=lr),
                f.default_start,
                15,
                noise_gen=f.generator(seed),
            )
            torch.testing.assert_close(a["sgd"].positions[i, 0, j], ref)
    # different seeds see different noise
    assert not torch.equal(a["sgd"].positions[0, 0, 0], a["sgd"].positions[0, 0, 1])
    # losses recorded are the noise-free surface
    pos = a["adam"].positions[1, 0, 1]
    torch.testing.assert_close(a["adam"].losses[1, 0, 1], f.loss(pos))


def test_moons_minibatch_race_matches_manual_minibatches():
    f = landscapes.get("moons", batch_size=4)
    result = race(f, ["sgd", "adam"], lrs=0.3, seeds=[0, 1], steps=12)
    for j, seed in enumerate([0, 1]):
        ref = _manual(
            f,
            lambda p: torch.optim.SGD(p, lr=0.3),
            f.default_start,
            12,
            noise_gen=f.generator(seed),
        )
        torch.testing.assert_close(result["sgd"].positions[0, 0, j], ref)


def test_schedules_vary_across_the_batch_as_their_formula_says():
    """SGD on f = x^2 / 2 (g = x) with lr_k = lr_0 / (1 + k) (ravine.schedules.inverse_time):
    x_{k+1} = (1 - lr_k) x_k, for two learning rates racing in one batch."""
    from ravine.schedules import inverse_time

    f = landscapes.get("quadratic", dim=1)
    result = race(
        f,
        ["sgd"],
        lrs=[0.5, 0.25],
        starts=[[1.0]],
        steps=4,
        schedules={"sgd": {"lr": inverse_time(1.0)}},
    )
    for i, lr0 in enumerate([0.5, 0.25]):
        expect, x = [1.0], 1.0
        for k in range(4):
            x *= 1 - lr0 / (1 + k)
            expect.append(x)
        assert result["sgd"].positions[i, 0, 0, :, 0].tolist() == pytest.approx(expect, rel=1e-12)
    with pytest.raises(ValueError, match="schedules name unknown optimizers"):
        race(f, ["sgd"], steps=1, schedules={"adam": {}})


# ------------------------------------------------ optimizers that need a model's outputs or layers

LEAST_SQUARES = [
    ("rosenbrock", {}),
    ("rosenbrock", {"dim": 4, "a": 0.5, "b": 20.0}),
    ("quadratic", {"condition": 30.0, "angle": 20.0}),
    ("beale", {}),
    ("booth", {}),
    ("himmelblau", {}),
]


def _random(f, n=200, seed=0):
    lo, hi = f.box()
    u = torch.rand(n, f.dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lo + u * (hi - lo)


@pytest.mark.parametrize(("name", "options"), LEAST_SQUARES, ids=str)
def test_least_squares_model_reproduces_the_loss(name, options):
    f = landscapes.get(name, **options)
    x = _random(f)
    assert f.model.likelihood == "gaussian"
    torch.testing.assert_close(f.model.value(x), f.fn(x), rtol=1e-12, atol=1e-12)
    # and 1/2 |r|^2 written out
    r = f.model.outputs(x, None)
    torch.testing.assert_close(0.5 * (r * r).sum(-1), f.fn(x), rtol=1e-12, atol=1e-12)


def test_moons_model_is_the_logistic_regression_it_draws():
    f = landscapes.get("moons")
    w = _random(f, 50)
    torch.testing.assert_close(f.model.value(w), f.fn(w), rtol=1e-12, atol=1e-12)
    batch = f.draw(f.generator(3), torch.float64)
    torch.testing.assert_close(
        f.model.value(w, batch.expand(50, -1)), f.sample_loss(w, batch.expand(50, -1))
    )
    # a linear model: margins = inputs @ w, margins y_i (w . x_i) from the raw data
    torch.testing.assert_close(f.model.outputs(w[0], batch), f.model.inputs(batch) @ w[0])
    margins = f.labels[batch] * (f.features[batch] @ w[0])
    torch.testing.assert_close(f.model.outputs(w[0], batch), margins)


def test_gauss_newton_solves_a_linear_least_squares_problem_in_one_step():
    # Booth's residuals are linear, so the Gauss-Newton step is the Newton step: it lands on
    # the minimum (1, 3) at once.
    result = race("booth", {"gn": {"optimizer": "gauss_newton", "damping": 0.0}}, steps=1)
    torch.testing.assert_close(
        result["gn"].positions[0, 0, 0, 1], torch.tensor([1.0, 3.0], dtype=torch.float64)
    )


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "moons"])
def test_natural_gradient_with_the_true_fisher_equals_gauss_newton(name):
    # For a negative log-likelihood loss of the outputs (Gaussian for residuals, Bernoulli for
    # logistic regression) the Fisher equals the generalized Gauss-Newton matrix
    # (Martens 2014), so the two optimizers take the same steps on the same mini-batches.
    optimizers = {
        "gn": {"optimizer": "gauss_newton", "damping": 0.5},
        "ng": {"optimizer": "natural_gradient", "damping": 0.5},
    }
    result = race(name, optimizers, lrs=[0.5], steps=15, seeds=[0, 1])
    torch.testing.assert_close(result["ng"].positions, result["gn"].positions, rtol=1e-7, atol=1e-9)
    assert not torch.equal(result["gn"].positions[..., 0, :], result["gn"].positions[..., -1, :])


def test_kfac_race_on_moons_equals_kfac_on_a_linear_layer_by_hand():
    f = landscapes.get("moons")
    steps, lr = 12, 0.3
    result = race(f, {"kfac": {"damping": 1e-2}}, lrs=[lr], steps=steps, seeds=[2])
    # the same K-FAC on a bias-free nn.Linear fed the same mini-batches
    layer = torch.nn.Linear(2, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(f.start()[None])
    opt = KFAC(layer, lr=lr, damping=1e-2)
    gen = f.generator(2)
    path = [layer.weight.detach()[0].clone()]
    for _ in range(steps):
        batch = f.draw(gen, torch.float64)
        opt.zero_grad()
        margins = layer(f.labels[batch, None] * f.features[batch])[:, 0]
        torch.nn.functional.softplus(-margins).mean().backward()
        opt.step()
        path.append(layer.weight.detach()[0].clone())
    torch.testing.assert_close(result["kfac"].positions[0, 0, 0], torch.stack(path))
    losses = result["kfac"].losses[0, 0, 0]
    assert losses[-1] < losses[0]


def test_every_registered_optimizer_races():
    for name in names():
        kind = lookup(name).closure_kind
        where = "moons" if kind == "model" else "rosenbrock"
        result = race(where, [name], steps=3)
        run = result[name]
        assert run.positions.shape[-2:] == (4, 2)
        assert torch.isfinite(run.positions).all(), name
        # moved within the 3 steps (SOAP's first step only builds its eigenbasis)
        assert not torch.equal(run.positions[..., 0, :], run.positions[..., -1, :]), name
