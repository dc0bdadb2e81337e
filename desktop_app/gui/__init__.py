"""The Lumen desktop window (PySide6): a thin layer over the core's ``Library`` facade."""
