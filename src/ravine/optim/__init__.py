"""Optimizers written from scratch, each a drop-in ``torch.optim.Optimizer``.

Each algorithm is one rule (a short function reading like its formula) plus the shared
machinery of :class:`ravine.optim.base.Optimizer`. Build one by class or by name::

    opt = ravine.optim.Adam(model.parameters(), lr=1e-3)
    opt = ravine.optim.get("rmsprop", model.parameters(), lr=1e-3, decay=0.9)
"""

from .adam import AdaBelief, Adam, AdaMax, AdamW, Nadam, adabelief, adam, adamax, nadam
from .adaptive import AdaDelta, AdaGrad, RMSProp, adadelta, adagrad, rmsprop
from .base import Optimizer
from .registry import REGISTRY, get, lookup, names, register
from .sgd import SGD, Momentum, Nesterov, momentum, nesterov, sgd

__all__ = [
    "REGISTRY",
    "SGD",
    "AdaBelief",
    "AdaDelta",
    "AdaGrad",
    "AdaMax",
    "Adam",
    "AdamW",
    "Momentum",
    "Nadam",
    "Nesterov",
    "Optimizer",
    "RMSProp",
    "adabelief",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "get",
    "lookup",
    "momentum",
    "nadam",
    "names",
    "nesterov",
    "register",
    "rmsprop",
    "sgd",
]
