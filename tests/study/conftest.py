"""Fixtures for study tests: a tiny user problem (a ``module:function`` reference written to a
temporary folder, pure torch so subprocesses start fast) and one tiny finished study."""

from support.study import tiny_store, user_module

__all__ = ["tiny_store", "user_module"]
