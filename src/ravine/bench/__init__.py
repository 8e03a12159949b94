"""Speed measurements of ravine against its peers, run by ``ravine bench`` and the scripts in
``benchmarks/``: each figure is a ratio taken inside one process, candidates interleaved in
rounds (see ``docs/performance.md``). Benchmarks, not tests: nothing here asserts a time."""

from .steps import ALGORITHMS, PARAMETER_SETS, measure_steps
from .timing import Candidate, interleaved, machine

__all__ = ["ALGORITHMS", "PARAMETER_SETS", "Candidate", "interleaved", "machine", "measure_steps"]
