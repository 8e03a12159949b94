"""``ravine race`` end to end, errors before any work."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from PIL import Image

from ravine.cli import main
from ravine.cli import race as race_cli


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_race_png_gif_and_grid(tmp_path):
    out = tmp_path / "race.png"
    res = run(
        "race",
        "beale",
        "--optimizers",
        "sgd,adam",
        "--lr",
        "0.001",
        "--steps",
        "20",
        "--start",
        "1,1.4",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "sgd" in res.output and "adam" in res.output
    with Image.open(out) as img:
        assert img.size[0] > 300
    gif = tmp_path / "race.gif"
    res = run(
        "race",
        "saddle",
        "-o",
        "momentum,rmsprop",
        "--steps",
        "10",
        "--frames",
        "5",
        "--out",
        str(gif),
    )
    assert res.exit_code == 0, res.output
    with Image.open(gif) as img:
        assert img.n_frames == 5
    grid = tmp_path / "grid.svg"
    res = run(
        "race",
        "quadratic",
        "-O",
        "condition=20",
        "-o",
        "sgd",
        "--lr-grid",
        "1e-3:1:5",
        "--steps",
        "10",
        "--out",
        str(grid),
    )
    assert res.exit_code == 0, res.output
    assert grid.read_text().lstrip().startswith("<?xml")
    assert res.output.count("sgd ") >= 5  # one summary row per learning rate


def test_race_noise_and_html(tmp_path):
    page = tmp_path / "race.html"
    res = run(
        "race",
        "booth",
        "-o",
        "sgd",
        "--lr",
        "0.01",
        "--noise",
        "1.0",
        "--seeds",
        "2",
        "--steps",
        "10",
        "--frames",
        "4",
        "--out",
        str(page),
    )
    assert res.exit_code == 0, res.output
    assert "noise=1" in page.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["race", "nowhere", "--out", "x.png"], "unknown landscape 'nowhere'"),
        (["race", "beale", "-o", "sgd,adamz", "--out", "x.png"], "unknown optimizer 'adamz'"),
        (["race", "beale", "--lr-grid", "1e-4:1", "--out", "x.png"], "is not LOW:HIGH:N"),
        (["race", "beale", "--lr-grid", "1e-4:1:x", "--out", "x.png"], "N an integer"),
        (["race", "beale", "--lr-grid", "1:1e-4:32", "--out", "x.png"], "0 < LOW < HIGH"),
        (["race", "beale", "--lr", "0.1", "--lr-grid", "1e-4:1:3", "--out", "x.png"], "not both"),
        (["race", "beale", "--start", "1,2,3", "--out", "x.png"], "dim=2"),
        (["race", "beale", "--start", "a,b", "--out", "x.png"], "comma-separated"),
        (["race", "beale", "--out", "x.jpg"], "must end in one of"),
        (["race", "beale", "--out", "no/such/dir/x.png"], "does not exist"),
        (["race", "quadratic", "-O", "colour=3", "--out", "x.png"], "unknown option"),
        (["race", "quadratic", "-O", "condition", "--out", "x.png"], "is not KEY=VALUE"),
        (["race", "rosenbrock", "-O", "dim=3", "--out", "x.gif"], "needs a 2-D landscape"),
        (["race", "beale", "--figure", "loss", "--out", "x.gif"], "still figure"),
        (["race", "beale", "--steps", "0", "--out", "x.png"], "--steps"),
        (["race", "beale", "--lr-schedule", "cosine:ten", "--out", "x.png"], "--lr-schedule"),
        (
            [
                "race",
                "beale",
                "-o",
                "adagrad,adam",
                "--momentum-schedule",
                "linear:0.5:0.9:10",
                "--out",
                "x.png",
            ],
            "none of adagrad, adam has a hyperparameter 'momentum'",
        ),
        (["race", "beale", "--schedule", "betas", "--out", "x.png"], "is not HP=SPEC"),
        # a schedule the optimizer cannot take, or one leaving the range at some step
        (["race", "beale", "--schedule", "betas=linear:0.5:0.9:100", "--out", "x.png"], "betas[0]"),
        (
            ["race", "beale", "--momentum-schedule", "linear:0.5:2:100", "--out", "x.png"],
            "invalid momentum=1.01",
        ),
        (["race", "beale", "--lr", "adamz=0.1", "--out", "x.png"], "'adamz' is not raced"),
        (["race", "beale", "--lr", "adam=x", "--out", "x.png"], "'x' is not a number"),
        (["race", "beale", "--lr", "sgd=-1", "--out", "x.png"], "finite number >= 0"),
        (["race", "beale", "--lr", "0.1,0.2", "--out", "x.png"], "two bare numbers"),
        (["race", "beale", "--hp", "momentum=0.9", "--out", "x.png"], "is not NAME.HP=VALUE"),
        (["race", "beale", "--hp", "foo.lr=0.9", "--out", "x.png"], "'foo' is not raced"),
        (["race", "beale", "--hp", "adam.momentum=0.9", "--out", "x.png"], "no hyperparameter"),
        (["race", "beale", "--hp", "momentum.momentum=1.5", "--out", "x.png"], "invalid momentum"),
        (["race", "saddle", "-o", "sgd,gauss_newton", "--out", "x.png"], "race it on one of"),
        (["race", "beale", "-o", "kfac", "--out", "x.png"], "not a linear model"),
    ],
)
def test_errors_before_any_work(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    called = []
    monkeypatch.setattr("ravine.race.run", lambda *a, **k: called.append(1))
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "racing on" not in res.output and "Traceback" not in res.output
    flag = next((a for a in args if a.startswith("--") and a != "--out"), None)
    if flag is not None and "not both" not in message:
        assert f"'{flag}'" in res.output  # the refusal names the flag at fault
    assert not called
    assert not any(tmp_path.iterdir())  # nothing written


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = CliRunner().invoke(main, ["race", "beale", "--out", str(blocker / "x.png")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = CliRunner().invoke(main, ["race", "beale", "--out", str(tmp_path) + "/"])
    assert res.exit_code == 2


def test_schedule_flags_reach_the_race(tmp_path, monkeypatch):
    """--lr-schedule and --momentum-schedule become ravine.schedules objects for exactly the
    optimizers that have the hyperparameter."""
    seen = {}
    import ravine.race as race_module

    real = race_module.run

    def spy(plan, **kwargs):
        seen.update(plan.schedules)
        return real(plan, **kwargs)

    monkeypatch.setattr("ravine.race.run", spy)
    res = run(
        "race", "quadratic", "-o", "adagrad,momentum", "--steps", "20",
        "--lr-schedule", "step:5:0.5", "--momentum-schedule", "linear:0.5:0.99:10",
        "--schedule", "lr=cosine:20", "--out", str(tmp_path / "q.png"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert set(seen) == {"adagrad", "momentum"}
    assert set(seen["momentum"]) == {"lr", "momentum"} and set(seen["adagrad"]) == {"lr"}
    assert seen["momentum"]["momentum"](10) == pytest.approx(0.99)
    assert seen["adagrad"]["lr"](20, 0.1) == pytest.approx(0.0)  # --schedule overrides lr


def test_lr_per_optimizer_and_hyperparameters_reach_the_plan(tmp_path, monkeypatch):
    seen = {}
    import ravine.race as race_module

    real = race_module.run

    def spy(plan, **kwargs):
        seen.update({e.label: (e.lrs, e.fixed) for e in plan.entries})
        return real(plan, **kwargs)

    monkeypatch.setattr("ravine.race.run", spy)
    res = run(
        "race", "rosenbrock", "-o", "sgd,momentum,adam", "--steps", "5",
        "--lr", "0.002,adam=0.05", "--hp", "momentum.momentum=0.95",
        "--hp", "adam.betas=0.8,0.99", "--hp", "adam.amsgrad=true",
        "--out", str(tmp_path / "r.png"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert seen == {
        "sgd": ([0.002], {}),
        "momentum": ([0.002], {"momentum": 0.95}),
        "adam": ([0.05], {"betas": (0.8, 0.99), "amsgrad": True}),
    }


def test_a_race_with_no_options_diverges_nowhere(tmp_path):
    # rosenbrock was the worst case: SGD, momentum and Nesterov diverged with their defaults
    res = run("race", "rosenbrock", "--out", str(tmp_path / "r.png"))
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.output.splitlines()]
    header = next(r for r in rows if r[:2] == ["optimizer", "lr"])
    diverged = header.index("diverged") - 2  # "final loss (median)" is three words
    table = [r for r in rows if r and r[0] in ("sgd", "momentum", "nesterov", "adam")]
    assert len(table) == 4 and all(r[diverged] == "0" for r in table), res.output


def test_parse_lr_grid_is_log_spaced():
    grid = race_cli.parse_lr_grid("1e-4:1:5")
    assert grid == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def test_second_order_optimizers_race_from_the_command_line(tmp_path):
    out = tmp_path / "newton.png"
    res = run(
        "race", "booth", "-o", "newton,gauss_newton,bfgs", "--lr", "1", "--steps", "5",
        "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    for name in ("newton", "gauss_newton", "bfgs"):
        assert name in res.output
    assert res.output.count("converged") == 1  # the header; then one row per optimizer
    rows = [line.split() for line in res.output.splitlines() if line.split()[:1] in (
        ["newton"], ["gauss_newton"], ["bfgs"])]  # fmt: skip
    assert [row[3:5] for row in rows] == [["0", "1"]] * 3  # Booth is quadratic: all converge
    gif = tmp_path / "moons.gif"
    res = run(
        "race", "moons", "-o", "kfac,hessian_free", "--lr", "0.3", "--steps", "6",
        "--frames", "3", "--out", str(gif),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    with Image.open(gif) as img:
        assert img.n_frames == 3


def test_the_command_builds_one_plan_and_looks_each_name_up_once(tmp_path, monkeypatch):
    import ravine.optim.registry as registry
    import ravine.race.plan as plan_module

    looked_up = []
    real_lookup = registry.lookup
    monkeypatch.setattr(registry, "lookup", lambda n: looked_up.append(n) or real_lookup(n))
    plans = []
    real_build = plan_module.RacePlan.build.__func__

    def build(cls, *args, **kwargs):
        plans.append(1)
        return real_build(cls, *args, **kwargs)

    monkeypatch.setattr(plan_module.RacePlan, "build", classmethod(build))
    res = run(
        "race", "booth", "-o", "sgd,momentum,lbfgs", "--steps", "3",
        "--momentum-schedule", "linear:0.5:0.9:3", "--out", str(tmp_path / "b.png"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert plans == [1]
    assert looked_up == ["sgd", "momentum", "lbfgs"]


def test_the_race_bar_s_eta_is_right_within_two_after_five_percent(monkeypatch):
    """A stubbed race on a fake clock: a first step that pays 30 s of warm-up, then a batched
    entry (1.5 ms a step, whatever its trajectories) and one run a trajectory at a time
    (1 ms a trajectory-step). From 5% of the work on, the ETA is within a factor of two of
    the time truly left (counting trajectory-steps and the warm-up said hours)."""
    import io
    import math

    import ravine.race
    from ravine.race import RacePlan
    from support.clock import Clock

    optimizers = {"sgd": {}, "torch-sgd": {"optimizer": "torch.optim.SGD"}}
    plan = RacePlan.build("booth", optimizers, lrs=[0.01, 0.02, 0.03, 0.04], steps=1000)
    clock, bars, seen = Clock(), [], []
    calls = [(4, 1.5e-3)] * 1000 + [(1, 1e-3)] * 4000  # (trajectory-steps, seconds)
    total_time = sum(dt for _, dt in calls)

    class Recorded(race_cli.Progress):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            bars.append(self)

    def fake_run(plan, progress):
        spent = 0.0
        for k, (n, dt) in enumerate(calls):
            clock.tick(dt + (30.0 if k == 0 else 0.0))
            spent += dt
            progress(n)
            bar = bars[0]
            if bar.completed >= 0.05 * bar.total and bar.completed < bar.total:
                seen.append((bar.eta(), total_time - spent))
        return "result"

    monkeypatch.setattr(race_cli, "Progress", Recorded)
    monkeypatch.setattr(ravine.race, "run", fake_run)
    out = io.StringIO()
    assert race_cli.run_with_progress(plan, "racing", stream=out, clock=clock) == "result"
    assert bars[0].completed == pytest.approx(bars[0].total)
    assert len(seen) > 4000 and all(math.isfinite(eta) for eta, _ in seen)
    assert all(0.5 <= eta / left <= 2.0 for eta, left in seen), max(e / t for e, t in seen)


def test_loss_panel_animates_and_is_refused_for_a_still(tmp_path):
    base = ("race", "beale", "-o", "sgd,adam", "--steps", "10", "--frames", "3", "--loss-panel")
    res = run(*base, "--out", str(tmp_path / "r.gif"))
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "r.gif") as img:
        assert img.n_frames == 3 and img.size[1] > img.size[0]  # the panel makes it tall
    res = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "r.png")])
    assert res.exit_code == 2 and "--loss-panel is for animations" in res.output
