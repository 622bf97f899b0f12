"""Errors shared across the package's parts."""


class CommandError(Exception):
    """An error to show the user as one line on stderr, without a traceback (raised by command handlers)."""


__all__ = ["CommandError"]
