"""Optimizers written from scratch, each a drop-in ``torch.optim.Optimizer``.

Each algorithm is one rule (a short function reading like its formula) plus the shared
machinery of :class:`ravine.optim.base.Optimizer`. Build one by class or by name::

    opt = ravine.optim.Adam(model.parameters(), lr=1e-3)
    opt = ravine.optim.get("rmsprop", model.parameters(), lr=1e-3, decay=0.9)

Two families of names: the papers' (``RMSProp``, ``AdaGrad``, ``AdaDelta``, ``Nadam``,
``Momentum``, ``Nesterov``: their conventions and defaults) and torch.optim's (``SGD``,
``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam``, ``AdamW``, ``Adamax``, ``NAdam``, ``LBFGS``:
torch's arguments, order, defaults and numbers), over the same rules (``docs/algorithms.md``).
"""

from .adafactor import Adafactor, adafactor
from .adam import AdaBelief, Adam, AdaMax, AdamW, Nadam, adabelief, adam, adamax, nadam
from .adaptive import AdaDelta, AdaGrad, RMSProp, adadelta, adagrad, rmsprop
from .base import Optimizer
from .curvature_approx import BlockDiagonalNewton, DiagonalNewton
from .hessian_free import GaussNewton, HessianFree, NaturalGradient
from .kfac import KFAC
from .layerwise import LAMB, LARS, lamb, lars
from .learning_rate_free import MADGRAD, AdEMAMix, ademamix, madgrad
from .lookahead import Lookahead
from .modern import Adan, Lion, NAdamW, RAdam, adan, lion, radam
from .muon import Muon, muon
from .newton import LevenbergMarquardt, Newton
from .prodigy import Prodigy
from .quasi_newton import BFGS, LBFGS
from .registry import REGISTRY, get, lookup, names, register
from .schedule_free import AdamWScheduleFree, SGDScheduleFree
from .sgd import SGD, Momentum, Nesterov, momentum, nesterov, sgd
from .shampoo import Shampoo, shampoo
from .soap import SOAP, soap
from .sophia import Sophia, SophiaH, sophia
from .torch_named import Adadelta, Adagrad, Adamax, NAdam, RMSprop

__all__ = [
    "BFGS",
    "KFAC",
    "LAMB",
    "LARS",
    "LBFGS",
    "MADGRAD",
    "REGISTRY",
    "SGD",
    "SOAP",
    "AdEMAMix",
    "AdaBelief",
    "AdaDelta",
    "AdaGrad",
    "AdaMax",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "AdamWScheduleFree",
    "Adamax",
    "Adan",
    "BlockDiagonalNewton",
    "DiagonalNewton",
    "GaussNewton",
    "HessianFree",
    "LevenbergMarquardt",
    "Lion",
    "Lookahead",
    "Momentum",
    "Muon",
    "NAdam",
    "NAdamW",
    "Nadam",
    "NaturalGradient",
    "Nesterov",
    "Newton",
    "Optimizer",
    "Prodigy",
    "RAdam",
    "RMSProp",
    "RMSprop",
    "SGDScheduleFree",
    "Shampoo",
    "Sophia",
    "SophiaH",
    "adabelief",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adan",
    "ademamix",
    "get",
    "lamb",
    "lars",
    "lion",
    "lookup",
    "madgrad",
    "momentum",
    "muon",
    "nadam",
    "names",
    "nesterov",
    "radam",
    "register",
    "rmsprop",
    "sgd",
    "shampoo",
    "soap",
    "sophia",
]
