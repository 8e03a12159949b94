"""``ravine bench``: runs the step and trial measurements and refuses bad input by name."""

from __future__ import annotations

from click.testing import CliRunner

from ravine.cli import main


def test_bench_steps_prints_every_path() -> None:
    result = CliRunner().invoke(main, ["bench", "steps", "--sets", "mlp", "--algorithms", "sgd",
                                       "--rounds", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [line.split(None, 1) for line in result.output.splitlines()]
    paths = {row[1][:18].strip() for row in rows if len(row) == 2 and row[0] == "sgd"}
    expected = {"ravine", "ravine eager", "ravine compiled", "ravine compiled -c",
                "ravine per-tensor", "torch for-loop", "torch foreach", "torch fused"}  # fmt: skip
    assert expected <= paths
    assert "default/foreach" in result.output  # the summary
    assert "thread(s), load average" in result.output


def test_bench_trials_compares_batched_with_sequential() -> None:
    result = CliRunner().invoke(
        main, ["bench", "trials", "--trials", "2", "--epochs", "1", "--rounds", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "T=2" in result.output and "ratio" in result.output


def test_bench_refuses_unknown_names() -> None:
    runner = CliRunner()
    bad_set = runner.invoke(main, ["bench", "steps", "--sets", "resnet50"])
    assert bad_set.exit_code == 2 and "unknown set 'resnet50'" in bad_set.output
    bad_algo = runner.invoke(main, ["bench", "steps", "--algorithms", "lion"])
    assert bad_algo.exit_code == 2 and "unknown algorithm 'lion'" in bad_algo.output
    bad_trials = runner.invoke(main, ["bench", "trials", "--trials", "0"])
    assert bad_trials.exit_code == 2 and "--trials" in bad_trials.output
