"""Sandboxed, runtime-aware auto-grading for nbgrader assignments."""

__version__ = "0.1.0"
