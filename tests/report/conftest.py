"""Fixtures for the report tests: the tiny finished study of the study tests."""

from support.study import tiny_store, user_module

__all__ = ["tiny_store", "user_module"]
