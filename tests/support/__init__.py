"""Helpers shared by Lumen tests: synthetic data and fakes."""
