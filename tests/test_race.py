"""The race engine: batched trajectories equal per-trajectory runs; outcomes worked by hand."""

from __future__ import annotations

import math
import sys

import pytest
import torch

import ravine
from ravine import landscapes, optim
from ravine.race import OUTCOMES, race

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
MODEL_ONLY = [n for n in optim.names() if n not in RACEABLE]


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


@pytest.mark.parametrize("name", MODEL_ONLY)
def test_optimizers_that_need_a_model_say_which_landscapes_have_one(name):
    # the saddle x^2 - y^2 is no model's loss (tests/test_race_models.py races them on those)
    with pytest.raises(ValueError, match=r"saddle .* race it on one of .*moons"):
        race(landscapes.get("saddle"), [name], steps=2)


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


# ------------------------------------------------------------------------- outcomes by hand


def test_sgd_on_a_quadratic_diverges_above_2_over_L_and_converges_below():
    L = 4.0
    f = landscapes.get("quadratic", dim=1, curvature=L)  # f = L/2 x^2
    lrs = [1.9 / L, 2.1 / L, 0.5 / L]
    result = race(f, ["sgd"], lrs=lrs, starts=[[1.0]], steps=300, bound=10.0)
    run = result["sgd"]
    names = [OUTCOMES[int(c)] for c in run.outcome.flatten()]
    assert names == ["converged", "diverged", "converged"]
    # x_k = (1 - lr L)^k x_0, written out
    for i, lr in enumerate(lrs):
        xs = run.positions[i, 0, 0, :, 0]
        k = torch.arange(301, dtype=torch.float64)
        expect = (1 - lr * L) ** k
        if i == 1:
            # leaves the box [-20, 20] (domain [-2, 2] enlarged 10x) at the first k with
            # |1.1^k| > 20, i.e. k = 32; NaN afterwards
            first = next(j for j in range(301) if abs((1 - lr * L) ** j) > 20)
            assert int(run.diverged_step[i, 0, 0]) == first
            torch.testing.assert_close(xs[: first + 1], expect[: first + 1])
            assert torch.isnan(xs[first + 1 :]).all()
            assert math.isinf(float(run.final_losses()[i, 0, 0]))
        else:
            torch.testing.assert_close(xs, expect)
            assert int(run.minimum[i, 0, 0]) == 0
            # arrival: first k with |x_k| <= tol and staying there
            tol = result.tol
            arrival = next(j for j in range(301) if abs(expect[j]) <= tol)
            assert int(run.arrival_step[i, 0, 0]) == arrival
    # losses and gradient norms are recorded along the way: L/2 x^2 and L |x|
    ok = run.positions[0, 0, 0, :, 0]
    torch.testing.assert_close(run.losses[0, 0, 0], L / 2 * ok**2)
    torch.testing.assert_close(run.grad_norms[0, 0, 0], L * ok.abs())


def test_divergent_rows_do_not_disturb_the_others():
    f = landscapes.get("rosenbrock")
    both = race(f, ["adam", "sgd"], lrs=[1e-3, 0.05], steps=60)
    alone = race(f, ["sgd"], lrs=[1e-3], steps=60)
    assert OUTCOMES[int(both["sgd"].outcome[1, 0, 0])] == "diverged"
    torch.testing.assert_close(both["sgd"].positions[0], alone["sgd"].positions[0])


def test_saddle_from_y0_zero_stays_on_the_line_and_is_caught_by_the_saddle():
    f = landscapes.get("saddle")
    result = race(
        f, ["sgd", "momentum", "adam"], lrs=0.05, starts=[[1.0, 0.0], [1.0, 1e-3]], steps=400
    )
    for label in ("sgd", "momentum", "adam"):
        run = result[label]
        assert torch.equal(run.positions[0, 0, 0, :, 1], torch.zeros(401, dtype=torch.float64))
        assert OUTCOMES[int(run.outcome[0, 0, 0])] == "saddle"
        assert OUTCOMES[int(run.outcome[0, 1, 0])] == "diverged"  # escapes along y
    # SGD on the saddle, written out: x_k = (1 - 2 lr)^k, y_k = (1 + 2 lr)^k y0
    xs = result["sgd"].positions[0, 1, 0]
    k = int(result["sgd"].diverged_step[0, 1, 0])
    steps = torch.arange(k + 1, dtype=torch.float64)
    torch.testing.assert_close(xs[: k + 1, 0], 0.9**steps)
    torch.testing.assert_close(xs[: k + 1, 1], 1e-3 * 1.1**steps)


def test_outcome_names_the_minimum_reached():
    f = landscapes.get("himmelblau")
    starts = [[p.location[0] + 0.2, p.location[1] - 0.2] for p in f.minima]
    result = race(f, ["sgd"], lrs=0.005, starts=starts, steps=500)
    run = result["sgd"]
    assert run.outcome_names() == ["converged"] * 4
    assert run.minimum[0, :, 0].tolist() == [0, 1, 2, 3]


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


def test_race_errors_are_clear():
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'"):
        race("beale", ["adamz"])
    with pytest.raises(ValueError, match="unknown landscape"):
        race("bael", ["adam"])
    with pytest.raises(ValueError, match="invalid lr=-1"):
        race("beale", ["adam"], lrs=[-1.0])
    with pytest.raises(ValueError, match="2 coordinates"):
        race("beale", ["adam"], starts=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="steps must be"):
        race("beale", ["adam"], steps=-3)
    with pytest.raises(ValueError, match="seeds must be"):
        race("beale", ["adam"], seeds=[-1])
    with pytest.raises(ValueError, match="invalid momentum"):
        race("beale", {"momentum": {"momentum": [0.5, 1.5]}})
    with pytest.raises(ValueError, match="switch and cannot vary"):
        race("beale", {"nesterov": {"lookahead": [True, False]}})
    with pytest.raises(ValueError, match="hyperparameters are"):
        race("beale", {"adam": {"nope": 1.0}}, steps=1)


def test_float32_race_and_summary():
    result = race("rosenbrock", ["adam", "sgd"], lrs=[1e-3, 1e-2], steps=20, dtype=torch.float32)
    assert result["adam"].positions.dtype == torch.float32
    rows = result.summary()
    assert rows[0][:2] == ("optimizer", "lr") and len(rows) == 5
    assert "rosenbrock" in result.settings() and "20 steps" in result.settings()


def test_ravine_race_is_callable_and_import_stays_light():
    import subprocess

    assert ravine.race("booth", ["sgd"], steps=3)["sgd"].positions.shape == (1, 1, 1, 4, 2)
    from ravine import race as module

    assert callable(module) and module.race is race
    code = "import sys, ravine; print('matplotlib' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(__import__("pathlib").Path(ravine.__file__).parent.parent)},
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("written", [True, False], ids=["written-gradient", "autograd"])
def test_recorded_losses_and_gradient_norms_are_those_of_the_recorded_positions(written):
    # Losses and gradient norms are taken from the step's own closure where it is evaluated
    # at the current point, and computed afterwards where it is not (look-ahead, line
    # search): either way they must be f and |grad f| at the recorded positions.
    import dataclasses

    f = landscapes.get("himmelblau")
    if not written:
        f = dataclasses.replace(f, value_and_grad=None)
    optimizers = {
        "sgd": {},
        "adam": {},
        "nag": {"optimizer": "nesterov", "lookahead": True},
        "nag-pytorch": {"optimizer": "nesterov", "lookahead": False},
        "lbfgs": {"lr": 1.0},
    }
    result = race(f, optimizers, lrs=[1e-3, 0.02, 0.2], steps=40)
    for run in result.runs.values():
        pos = run.positions
        finite = torch.isfinite(pos).all(-1)
        x = pos[finite].clone().requires_grad_(True)
        value = f.fn(x)
        (g,) = torch.autograd.grad(value.sum(), x)
        torch.testing.assert_close(run.losses[finite], value.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(run.grad_norms[finite], g.norm(dim=-1), rtol=1e-12, atol=1e-12)
        assert torch.isnan(run.losses[~finite]).all() and torch.isnan(run.grad_norms[~finite]).all()
    assert (result["sgd"].outcome == 2).any()  # lr 0.2 diverges: NaN rows are checked too
