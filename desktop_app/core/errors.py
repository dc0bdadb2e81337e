"""Errors the core raises for the CLI and GUI to show to the user.

Environment failures (a model that cannot be loaded, a data dir that cannot be written) are
``LumenError`` subclasses carrying a message meant for a person; anything else is a bug.
"""


class LumenError(Exception):
    """A failure caused by the environment, with a message a user can act on."""


class ModelUnavailableError(LumenError):
    """The embedding model's weights could not be found, downloaded or loaded."""


class ExtractionError(LumenError):
    """A file could not be read as the kind it claims to be (corrupt, truncated, unreadable)."""


class IndexMismatchError(LumenError):
    """The catalog was built with another embedding model than the one asked for."""


class DataDirError(LumenError):
    """The data directory cannot be used (not writable, newer format, locked)."""
