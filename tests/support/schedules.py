"""Helpers for the schedule tests: a plain SGD and the learning rates a torch scheduler and a
ravine Scheduler give it, step by step."""

from __future__ import annotations

import numpy as np
import torch

from ravine import schedules as S

STEPS = 1000
LR0 = 0.1


def sgd(lr: float = LR0, **kw) -> torch.optim.SGD:
    """SGD on one zero parameter: a holder of param groups for schedules to drive."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr, **kw)


def run_torch(make, steps=STEPS, lr=LR0, metrics=None, keys=("lr",), **kw):
    """``keys`` of the param group at each step under the torch scheduler ``make(opt)``."""
    opt = sgd(lr, **kw)
    sched = make(opt)
    out = [[opt.param_groups[0][k] for k in keys]]
    for t in range(steps):
        opt.step()
        sched.step(*([] if metrics is None else [metrics[t]]))
        out.append([opt.param_groups[0][k] for k in keys])
    return np.array(out, dtype=np.float64)


def run_ravine(schedules, steps=STEPS, lr=LR0, metrics=None, keys=("lr",), **kw):
    """``keys`` of the param group at each step under ``Scheduler(opt, schedules)``."""
    opt = sgd(lr, **kw)
    sched = S.Scheduler(opt, schedules)
    out = [[opt.param_groups[0][k] for k in keys]]
    for t in range(steps):
        opt.step()
        sched.step(None if metrics is None else metrics[t])
        out.append([opt.param_groups[0][k] for k in keys])
    return np.array(out, dtype=np.float64)
