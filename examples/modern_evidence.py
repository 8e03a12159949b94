"""The optimizers practitioners reach for today against Adam and SGD with momentum, measured.

A study on two small problems that ship offline: scikit-learn's digits with the small CNN
(two 3x3 convolutions, 1437 training images) and MNIST-1D with its MLP (3200 signals). The
two-stage protocol: each optimizer's learning rate is tuned on seed 0 over a small log grid
taken from its usual range (below), then the best setting (best final validation accuracy)
runs on seeds 0, 1 and 2. Every trial takes 1000 steps of mini-batches of 64 (14 epochs of
digits, 20 of MNIST-1D), evaluated every 10 steps; the other hyperparameters keep their
defaults. Trials run one at a time on one thread (no batching), so their wall times
compare; the clock counts the evaluations too, which every optimizer pays alike.

The budgets are small on purpose (the whole run takes minutes on a 2-core CPU): this is
evidence about small models early in training, not about the large models the papers
report on. Optimizers not registered in this build are skipped with a note, so the study
runs as it is and picks them up once they exist; rerun into the same store and only the
new optimizers' trials run.

Writes docs/modern_optimizers.md (tables, verdict) and its performance-profile figures.
Run: python examples/modern_evidence.py           (store: out/modern_evidence.db)
     python examples/modern_evidence.py --page-only   (the page from the stored results)
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import FIGURES, parser
from _evidence import Claim, write_page

import ravine.optim as ro
from ravine.study import Results, Store, run_study

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "modern_optimizers.md"
STORE = ROOT / "out" / "modern_evidence.db"
PROBLEMS = [{"name": "digits_cnn", "target": 0.95}, {"name": "mnist1d", "target": 0.55}]


def _log(lo: float, hi: float, n: int = 5) -> dict:
    return {"log": [lo, hi, n]}


# The one list of the study: registry name, shown name, the spec's values, the claim.
OPTIMIZERS = [
    ("momentum", "SGD momentum", {"lr": _log(1e-2, 1.0), "momentum": 0.9}, None),
    (
        "adam",
        "Adam",
        {"lr": _log(3e-4, 0.1, 6)},
        Claim(
            "adam",
            "Adam (Kingma and Ba 2015)",
            "to train faster than SGD with momentum on MLPs and CNNs.",
            "beats",
            ("momentum",),
        ),
    ),
    (
        "adamw",
        "AdamW",
        {"lr": _log(3e-4, 0.1, 6)},
        Claim(
            "adamw",
            "AdamW (Loshchilov and Hutter 2019)",
            "that decoupled weight decay (0.01 here) trains at least as well as Adam.",
            "matches",
            ("adam",),
        ),
    ),
    (
        "lion",
        "Lion",
        {"lr": _log(3e-5, 1e-2, 6), "weight_decay": 0.1},
        Claim(
            "lion",
            "Lion (Chen et al. 2023)",
            "to match or beat AdamW at a 3-10x smaller learning rate (and 10x its decay).",
            "matches",
            ("adamw",),
        ),
    ),
    (
        "radam",
        "RAdam",
        {"lr": _log(3e-4, 0.1, 6)},
        Claim(
            "radam",
            "RAdam (Liu et al. 2020)",
            "that rectifying the early adaptive rate makes Adam without warmup at least as "
            "fast and more robust.",
            "matches",
            ("adam",),
        ),
    ),
    (
        "schedule_free_adamw",
        "Schedule-Free AdamW",
        {"lr": _log(1e-3, 1e-1)},
        Claim(
            "schedule_free_adamw",
            "Schedule-Free AdamW (Defazio et al. 2024)",
            "to match AdamW with a tuned schedule without one; against AdamW at a constant "
            "rate, as here, it should be ahead.",
            "beats",
            ("adamw",),
        ),
    ),
    (
        "prodigy",
        "Prodigy",
        {"lr": _log(0.0625, 4.0, 7)},
        Claim(
            "prodigy",
            "Prodigy (Mishchenko and Defazio 2024)",
            "to estimate the learning rate itself and match hand-tuned Adam.",
            "matches",
            ("adam",),
        ),
    ),
    (
        "muon",
        "Muon",
        {"lr": _log(3e-3, 3e-1)},
        Claim(
            "muon",
            "Muon (Jordan et al. 2024)",
            "to reach a target in fewer steps than AdamW (the NanoGPT and CIFAR-10 speedruns).",
            "beats",
            ("adamw",),
        ),
    ),
    (
        "soap",
        "SOAP",
        {"lr": _log(3e-4, 0.1, 6)},
        Claim(
            "soap",
            "SOAP (Vyas et al. 2024)",
            "to need fewer steps than AdamW (about 40% fewer) and than Shampoo.",
            "beats",
            ("adamw", "shampoo"),
        ),
    ),
    (
        "shampoo",
        "Shampoo",
        {"lr": _log(1e-4, 1.0, 9)},
        Claim(
            "shampoo",
            "Shampoo (Gupta et al. 2018)",
            "to converge in fewer steps than Adam and AdaGrad.",
            "beats",
            ("adam",),
        ),
    ),
]
NAMES = {name: shown for name, shown, _, _ in OPTIMIZERS}
CLAIMS = [claim for *_, claim in OPTIMIZERS if claim is not None]


def available() -> list[str]:
    """The study's optimizers registered in this build; prints a note for each missing."""
    known = set(ro.names())
    for name, shown, _, _ in OPTIMIZERS:
        if name not in known:
            print(f"skipped {shown}: `{name}` is not registered in this build")
    return [name for name, *_ in OPTIMIZERS if name in known]


def spec(names: list[str], budget: int = 1000, every: int = 10, problems=None) -> dict:
    """The study's spec over the optimizers ``names`` (``budget`` steps, evaluated every
    ``every``; ``problems`` default to digits CNN and MNIST-1D)."""
    values = {name: v for name, _, v, _ in OPTIMIZERS}
    return {
        "name": "modern_evidence",
        "seeds": [0, 1, 2],
        "budget": {"steps": budget},
        "batch_size": 64,
        "eval_every": {"steps": every},
        "protocol": {"kind": "two_stage", "tune_seed": 0},
        "threads": 1,
        "problems": problems or PROBLEMS,
        "optimizers": [{"name": name, **values[name]} for name in names],
    }


def _shown(values) -> str:
    """A spec value as the page shows it: ``3e-04 to 0.03 (5 log-spaced)`` or the value."""
    if isinstance(values, dict) and "log" in values:
        lo, hi, n = values["log"]
        return f"{lo:g} to {hi:g} ({n} log-spaced)"
    return f"{values:g}" if isinstance(values, float) else str(values)


def intro(names: list[str], seconds: float) -> str:
    """The page's head: what ran, how, and what is missing."""
    missing = [shown for name, shown, _, _ in OPTIMIZERS if name not in names]
    grids = "; ".join(
        f"{shown}: " + ", ".join(f"{k} {_shown(v)}" for k, v in values.items())
        for name, shown, values, _ in OPTIMIZERS
        if name in names
    )
    took = f" Its trials took {seconds / 60:.1f} minutes together."
    lines = [
        "# Modern optimizers, measured",
        "",
        (__doc__ or "").split("\n\n", 2)[1].replace("\n", " "),
        "",
        f"Command: `python examples/modern_evidence.py`.{took} Grids: {grids}.",
        "",
        "Each table gives, for the best setting, the median over the three seeds and in "
        "brackets the smallest and largest: the first evaluated step at which the validation "
        "accuracy reaches the target (`missed`: never within the budget), the wall-clock "
        "seconds to that step, and the final validation accuracy. The ranking orders by "
        "problems missed (median seed), then the geometric mean over problems of median steps "
        "to target divided by the best optimizer's, then the final accuracy. A best setting "
        "marked `(edge: lr largest)` is the end of its grid: a wider grid might find a better "
        "one. The machine is a 2-core CPU shared with other work, so the seconds are rough; "
        "the steps do not depend on it.",
    ]
    if missing:
        lines += ["", "Not in this run (not registered in this build): " + ", ".join(missing) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = parser(__doc__, FIGURES)
    ap.add_argument("--store", type=Path, default=STORE, help=f"results store ({STORE})")
    ap.add_argument("--page", type=Path, default=PAGE, help=f"the page to write ({PAGE})")
    ap.add_argument("--page-only", action="store_true", help="only write the page")
    args = ap.parse_args()
    names = available()
    if not args.page_only:
        args.store.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        run_study(spec(names), args.store, batch=False)
        print(f"study: {time.perf_counter() - start:.0f} s")
    results = Results.from_store(Store(args.store))
    ran = [n for n in names if n in {t.optimizer for t in results.trials}]
    seconds = sum(t.wall_time or 0.0 for t in results.trials)
    page = write_page(results, CLAIMS, NAMES, args.page, args.out, intro(ran, seconds))
    print("wrote", page)


if __name__ == "__main__":
    main()
