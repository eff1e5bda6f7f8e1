"""The newswatch error tree. Every error is classified where it is raised.

    NewswatchError                  base; str(e) is one line that names the thing and the next step
    ├── UserError                   fatal for the command, shown as one line, exit code 2
    │   ├── ConfigError             bad or missing config file, unknown key, bad value
    │   ├── SourceError             a path given on the command line does not exist / cannot be read
    │   ├── OutputError             a file or folder the command must write cannot be created
    │   └── UnknownWatchError       --watch names no watch in the config
    ├── WarehouseError              the DuckDB file
    │   └── WarehouseLockedError    another process holds the file; retried with backoff, then fatal
    ├── TransientError              worth retrying later (HTTP 5xx/429/408, timeouts, SMTP 4xx, lock held)
    └── TerminalError               record and skip this item (404, too large, not HTML, SSRF refusal)
        └── BlockedError            refused by the SSRF guard or robots.txt

    Interrupted (KeyboardInterrupt) SIGINT/SIGTERM: the run stops, is recorded `interrupted`, exit 128 + signal

One bad feed or page never fails a run: Transient/Terminal errors become `Skip` records and statuses.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Base class. The message is a single line meant for users."""

    exit_code = 1


class UserError(NewswatchError):
    exit_code = 2


class ConfigError(UserError):
    pass


class SourceError(UserError):
    pass


class UnknownWatchError(UserError):
    pass


class OutputError(UserError):
    """A digest folder or snapshot destination that cannot be written (read-only, not a folder, no space)."""


def describe_os_error(e: OSError) -> str:
    """'PATH: reason' for an OSError, one line (no errno noise)."""
    where = e.filename if e.filename is not None else "file"
    return f"{where}: {e.strerror or e}"


class WarehouseError(NewswatchError):
    exit_code = 3


class WarehouseLockedError(WarehouseError):
    exit_code = 75  # EX_TEMPFAIL: try again later


class TransientError(NewswatchError):
    pass


class TerminalError(NewswatchError):
    pass


class BlockedError(TerminalError):
    pass


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: raised in the main thread by flows.pipeline.interruptible's handler. A
    KeyboardInterrupt, so that no `except Exception` swallows it; exit code 128 + the signal (130, 143)."""

    def __init__(self, signum: int, run_id: str | None = None) -> None:
        super().__init__(signum)
        self.signum = signum
        self.run_id = run_id
