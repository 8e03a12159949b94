"""ravine: the optimization algorithms that train neural networks, from scratch on PyTorch."""

from . import optim

__version__ = "0.1.0"
__all__ = ["__version__", "optim"]
