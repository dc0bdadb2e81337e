"""Lumen: search your own photos and documents by meaning, locally."""

__version__ = "0.1.0"
