"""The runner end to end: determinism, divergence, kill and resume, concurrent runners,
protocols, and the process-pool and Ray executors against in-process."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import pytest
import torch

from ravine.study import Results, Store, best_settings, run_study, summarize
from ravine.study.protocols import first_stage
from ravine.study.spec import Spec
from support.study import child_env, tiny_spec


def metric_table(path) -> dict:
    """{(optimizer, lr, seed): [(step, train_loss, val_metric), ...]} of a store."""
    with Store(path) as s:
        trials = s.trials()
        m = s.metrics()
        return {
            (t.optimizer, t.hyperparameters["lr"], t.seed): [
                (r.step, r.train_loss, r.val_metric) for r in m.get(t.id, [])
            ]
            for t in trials
        }


def test_end_to_end_tiny_study(tiny_store):
    with Store(tiny_store) as s:
        counts = s.counts()
        assert counts["done"] == 2 * 4 * 2 and counts["pending"] == counts["running"] == 0
        trials = s.trials()
        metrics = s.metrics()
        env = trials[0].environment
        assert env["versions"]["torch"] == torch.__version__ and env["device"].startswith("cpu")
        blobs = [t for t in trials if t.problem == "blobs"]
        for t in blobs:
            rows = metrics[t.id]
            # 180 training examples in batches of 30: 6 steps per epoch, 2 epochs, eval per epoch
            assert [r.step for r in rows] == [0, 6, 12]
            assert [r.epoch for r in rows] == [0.0, 1.0, 2.0]
            assert rows[-1].lr == pytest.approx(t.hyperparameters["lr"])
            assert all(r.wall_time >= 0 for r in rows)
        summary = {(r["problem"], r["optimizer"]): r for r in summarize(Results.from_store(s))}
        assert summary["blobs", "sgd"]["seeds"] == 2


def test_divergence_is_recorded_and_the_study_goes_on(user_module, tmp_path):
    spec = tiny_spec(
        seeds=[0],
        optimizers=[{"name": "sgd", "lr": [0.1, 1e3]}],
        problems=[{"name": "ravine_test_blobs:blobs", "options": {"mse": True}}],
    )
    path = run_study(spec, tmp_path / "d.db", progress=False)
    with Store(path) as s:
        status = {t.hyperparameters["lr"]: t for t in s.trials()}
        assert status[0.1].status == "done"
        assert status[1e3].status == "diverged"
        assert "non-finite" in status[1e3].error or "diverge_factor" in status[1e3].error
        assert s.model(status[1e3].id) is None
        rows = summarize(Results.from_store(s))
        assert rows[0]["divergence_rate"] == 0.5 and rows[0]["best"] == "lr=0.1"


KILL_SCRIPT = """
import sys
from ravine.study import run_study
spec = {spec!r}
run_study(spec, sys.argv[1], progress=False, batch={batch})
"""


def slow_spec(log: str) -> dict:
    return tiny_spec(
        name="slow",
        seeds=[0, 1, 2],
        budget={"epochs": 8},
        batch_size=8,
        problems=[{"name": "ravine_test_blobs:blobs", "options": {"log": log}}],
        optimizers=[{"name": "sgd", "lr": [0.01, 0.03]}, {"name": "momentum", "lr": [0.01]}],
    )


def wait_for(path, predicate, timeout=120.0):
    end = time.time() + timeout
    while time.time() < end:
        if path.exists():
            try:
                with Store(path) as s:
                    if predicate(s):
                        return True
            except Exception:
                pass
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("batch", [False, True], ids=["one-at-a-time", "batched"])
def test_killed_study_resumes_without_repeating(user_module, tmp_path, batch):
    """Killed mid-run, a study resumes: finished trials are kept, the trials cut off (one
    trial, or a batch of them: the momentum batch of 3 seeds, the SGD one of 6 having
    finished) are taken back from the dead runner and rerun, nothing else runs twice."""
    log = tmp_path / "built.log"
    spec = slow_spec(str(log))
    epochs = 60 if batch else 8  # a batch runs fast: give the kill a window to land in
    spec["budget"] = {"epochs": epochs}
    n = 9
    path = tmp_path / "k.db"
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT.format(spec=spec, batch=batch))
    child = subprocess.Popen([sys.executable, str(script), str(path)], env=child_env(user_module))
    try:
        # with batches, wait until the running batch has built its models (then it runs)
        built = 9 if batch else 0
        assert wait_for(
            path,
            lambda s: (
                s.counts()["done"] >= 2
                and s.counts()["running"] >= 1
                and log.read_text().count("built") >= built
            ),
        )
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    with Store(path) as s:
        before = {t.id: t for t in s.trials()}
    finished = {i: t for i, t in before.items() if t.status == "done"}
    running = [i for i, t in before.items() if t.status == "running"]
    # almost always one task is cut off mid-run; in the instant between two tasks none is
    assert 2 <= len(finished) < n and len(running) <= (3 if batch else 1)
    assert log.read_text().count("built") == len(finished) + len(running)
    if batch:  # the SGD batch was committed as its 6 trials, the momentum one cut off as 3
        assert len(finished) == 6 and len(running) == 3

    run_study(spec, path, progress=False, batch=batch)  # resume in this process
    with Store(path) as s:
        after = {t.id: t for t in s.trials()}
        metrics = s.metrics()
    assert all(t.status == "done" for t in after.values()) and len(after) == n
    for i, t in finished.items():  # nothing repeated: same finish time, one attempt
        assert after[i].finished == t.finished and after[i].attempts == 1
    for i in running:  # the trial cut off was taken back from the dead runner and rerun
        assert after[i].attempts == 2
    assert log.read_text().count("built") == n + len(running)  # no other trial ran twice
    assert all(len(metrics[i]) == epochs + 1 for i in after)  # step 0 and each epoch, once


def test_two_concurrent_runners_run_each_trial_once(user_module, tmp_path):
    log = tmp_path / "built.log"
    spec = slow_spec(str(log))
    spec["budget"] = {"epochs": 2}
    path = tmp_path / "c.db"
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT.format(spec=spec, batch=True))
    env = child_env(user_module)
    children = [
        subprocess.Popen([sys.executable, str(script), str(path)], env=env) for _ in range(2)
    ]
    for c in children:
        assert c.wait(timeout=300) == 0
    with Store(path) as s:
        trials = s.trials()
    assert len(trials) == 9 and all(t.status == "done" for t in trials)
    assert all(t.attempts == 1 for t in trials)
    assert log.read_text().count("built") == 9


def test_two_stage_protocol_reruns_the_best_setting_on_every_seed(user_module, tmp_path):
    spec = tiny_spec(
        seeds=[0, 1, 2],
        protocol={"kind": "two_stage", "tune_seed": 1},
        optimizers=[{"name": "sgd", "lr": {"log": [1e-3, 1.0, 4]}}],
    )
    path = run_study(spec, tmp_path / "t.db", progress=False)
    with Store(path) as s:
        trials = s.trials()
        results = Results.from_store(s)
    tune = [t for t in trials if t.stage == "tune"]
    final = [t for t in trials if t.stage == "final"]
    assert len(tune) == 4 and {t.seed for t in tune} == {1}
    # the best tuning setting by hand: highest final val metric on seed 1
    scores = {t.hyperparameters["lr"]: results.score(t) for t in tune}
    best_lr = max(scores, key=scores.get)
    assert {t.seed for t in final} == {0, 2}  # seed 1 of the best setting is reused
    assert {t.hyperparameters["lr"] for t in final} == {best_lr}
    best = best_settings(results, "ravine_test_blobs:blobs", "sgd")
    assert best["hyperparameters"]["lr"] == best_lr and len(best["trials"]) == 3


def test_pool_executor_matches_in_process(user_module, tmp_path):
    spec = tiny_spec(seeds=[0, 1], optimizers=[{"name": "sgd", "lr": [0.05, 0.5]}])
    a = run_study(spec, tmp_path / "a.db", progress=False)
    b = run_study(spec, tmp_path / "b.db", executor="pool", workers=2, progress=False)
    ta, tb = metric_table(a), metric_table(b)
    assert ta.keys() == tb.keys() and len(ta) == 4
    for k in ta:
        assert tb[k] == ta[k]
    with Store(b) as s:  # the four trials went to a worker as one batch
        assert all(t.environment["batch"]["trials"] == 4 for t in s.trials())


def test_ray_executor_matches_in_process(tmp_path):
    ray = pytest.importorskip("ray")
    spec = tiny_spec(
        seeds=[0, 1],
        problems=[{"name": "moons", "options": {"n": 120, "hidden": 4}}],
        optimizers=[{"name": "adam", "lr": [0.01, 0.1]}],
    )
    a = run_study(spec, tmp_path / "a.db", progress=False)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as err:  # an overloaded machine can miss Ray's fixed 30 s start-up wait
        ray.shutdown()
        pytest.skip(f"a local Ray instance did not start here: {err}")
    try:
        b = run_study(spec, tmp_path / "b.db", executor="ray", progress=False)
    finally:
        ray.shutdown()
    ta, tb = metric_table(a), metric_table(b)
    assert ta.keys() == tb.keys() and len(ta) == 4
    for k in ta:
        assert tb[k] == ta[k]
    with Store(b) as s:  # one Ray task ran the batch of four trials
        assert all(t.status == "done" and t.attempts == 1 for t in s.trials())
        assert all(t.environment["batch"]["trials"] == 4 for t in s.trials())


def test_store_with_another_study_is_refused(user_module, tmp_path):
    path = tmp_path / "x.db"
    run_study(tiny_spec(seeds=[0], optimizers=[{"name": "sgd", "lr": 0.1}]), path, progress=False)
    with pytest.raises(ValueError, match="different study"):
        run_study(
            tiny_spec(seeds=[0], budget={"epochs": 3}, optimizers=[{"name": "sgd", "lr": 0.1}]),
            path,
            progress=False,
        )


def test_a_study_is_extended_by_running_only_its_new_trials(user_module, tmp_path):
    """Adding an optimizer, a grid value, a seed and a problem to a spec and running it into
    the same store runs exactly the new trials; the finished ones are not repeated."""
    path = tmp_path / "x.db"
    first = tiny_spec(seeds=[0], optimizers=[{"name": "sgd", "lr": [0.1]}], budget={"steps": 3})
    run_study(first, path, progress=False)
    more = dict(
        first,
        seeds=[0, 1],
        optimizers=[{"name": "sgd", "lr": [0.1, 0.3]}, {"name": "adam", "lr": [0.01]}],
        problems=[*first["problems"], {"name": "moons", "options": {"n": 100}, "label": "m"}],
    )
    ran = []
    run_study(more, path, progress=False, on_result=lambda tid, r: ran.append(tid))
    with Store(path) as s:
        trials = s.trials()
        assert len(trials) == 2 * 3 * 2 and all(t.status == "done" for t in trials)
        assert all(t.attempts == 1 for t in trials)
        assert sorted(ran) == [t.id for t in trials][1:]  # all but the first run's trial
        assert s.get_meta("spec")["seeds"] == [0, 1] and "m" in s.problem_info()


def test_first_stage_grid_size():
    spec = Spec.from_dict(tiny_spec(), check_problems=False)
    _, configs = first_stage(spec)
    assert len(configs) == (3 + 1) * 2
    assert not any(math.isnan(c.hyperparameters["lr"]) for c in configs)


def test_a_two_stage_study_counts_its_final_stage_from_the_start(user_module, tmp_path):
    """2 lrs x 1 tuning seed, then the best on 3 seeds (the tuning seed's rerun is the tuning
    trial itself): 4 trials, and the first line already says so."""
    import io

    from ravine.study import Progress

    out = io.StringIO()
    spec = tiny_spec(
        seeds=[0, 1, 2],
        budget={"epochs": 1},
        protocol="two_stage",
        optimizers=[{"name": "sgd", "lr": [0.1, 0.3]}],
    )
    run_study(spec, tmp_path / "t.db", progress=Progress(stream=out, terminal=False))
    text = out.getvalue()
    assert "2 trials (+2 final-stage trials to come)" in text
    assert "[1/4 trials]" in text and "[4/4 trials]" in text
