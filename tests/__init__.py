"""Lumen test suite."""
