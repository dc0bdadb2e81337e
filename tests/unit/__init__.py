"""Unit tests for the desktop_app package."""
