"""Studies: compare optimizers on training problems with sweeps, seeds and a results store.

    spec = ravine.study.load_spec("study.toml")       # or a dict, validated
    path = ravine.study.run_study(spec, "runs/digits.db", executor="pool", workers=2)
    results = ravine.study.Results.from_store(ravine.study.Store(path))
    rows = ravine.study.summarize(results)

See :mod:`ravine.study.spec` for the spec, :mod:`ravine.study.records` for the records it
becomes (problem and optimizer specs, trial configs, metric rows, trial results),
:mod:`ravine.study.store` for how results are kept safe, and :mod:`ravine.study.summary` for
what the summary numbers mean.
"""

from .examples import EXAMPLES, example
from .records import MetricRow, TrialConfig, TrialResult
from .runner import Progress, run_study
from .spec import Spec, SpecError, load_spec
from .store import Store, StoredTrial
from .summary import Results, best_settings, performance_profile, sensitivity, summarize
from .trial import run_trial

__all__ = [
    "EXAMPLES",
    "MetricRow",
    "Progress",
    "Results",
    "Spec",
    "SpecError",
    "Store",
    "StoredTrial",
    "TrialConfig",
    "TrialResult",
    "best_settings",
    "example",
    "load_spec",
    "performance_profile",
    "run_study",
    "run_trial",
    "sensitivity",
    "summarize",
]
