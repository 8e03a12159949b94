"""Fixtures for the report tests: the tiny finished study of the study tests."""

from support.browser import browser
from support.study import tiny_store, user_module

__all__ = ["browser", "tiny_store", "user_module"]
