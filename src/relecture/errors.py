"""Every error a user can meet, each with the exit code the CLI returns for it.

One wrapper, `_run` in `cli/commands/common.py`, turns these into a one-line message on
stderr and `exit_code`.
Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or input, 3 some files failed,
4 integrity broken (audit chain, package), 5 access refused (scope, requisition),
6 a required model or weights file is missing.
"""


class RelectureError(Exception):
    """Base of every error relecture reports to a user."""

    exit_code = 1


class UsageError(RelectureError):
    """The user asked for something malformed (bad flag value, bad time range...)."""

    exit_code = 2


class FootageError(RelectureError):
    """A footage file cannot be used: unreadable, corrupt, no start time, unknown codec."""

    exit_code = 2


class QueryError(UsageError):
    """A search query (or one of its words) could not be understood."""


class NotFound(UsageError):
    """A named thing (camera, sighting, requisition) does not exist."""


class PartialFailure(RelectureError):
    """A batch finished, but some of its items failed (each was reported)."""

    exit_code = 3


class IntegrityError(RelectureError):
    """An audit chain, manifest or package does not verify."""

    exit_code = 4


class AccessDenied(RelectureError):
    """The acting user or requisition does not allow this action."""

    exit_code = 5


class ModelUnavailable(RelectureError):
    """A model's weights are not installed; the message says how to provide them."""

    exit_code = 6


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a command after it recorded what it had done; the message says what
    was kept (a KeyboardInterrupt still, so it stops the program like one)."""
