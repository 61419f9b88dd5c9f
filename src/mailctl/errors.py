"""The one exception tree of mailctl, and the exit codes the CLI maps it to.

Errors become exit codes and messages in exactly one place: ``mailctl.cli.main``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailctl.text import shown

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan/drift with changes pending (--detailed-exitcode, drift)


class MailctlError(Exception):
    """Base of every error mailctl reports to a user (never shown with a traceback)."""

    exit_code = EXIT_ERROR


@dataclass(frozen=True)
class Problem:
    """One problem in a config file, located precisely."""

    file: str
    line: int
    column: int
    path: str  # dotted field path, e.g. "pods.tenant-acme.inboxes"
    message: str

    def __str__(self) -> str:
        """One line whatever the config holds: hidden characters in keys and quoted values are escaped."""
        where = f"{shown(self.file)}:{self.line}:{self.column}"
        return f"{where}: {shown(self.path)}: {shown(self.message)}" if self.path else f"{where}: {shown(self.message)}"


MAX_SHOWN_PROBLEMS = 100  # a config with more problems shows these and a count of the rest


class ConfigError(MailctlError):
    """The configuration is invalid; carries every problem found (up to MAX_SHOWN_PROBLEMS shown,
    ``more`` counts those found beyond what the loader kept), not just the first."""

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path))
        count = len(self.problems) + more
        hidden = count - min(len(self.problems), MAX_SHOWN_PROBLEMS)
        header = f"{count} problem{'' if count == 1 else 's'} in the configuration:"
        tail = [f"... and {hidden} more problem{'' if hidden == 1 else 's'}"] if hidden else []
        super().__init__("\n".join([header, *(str(p) for p in self.problems[:MAX_SHOWN_PROBLEMS]), *tail]))


class UsageError(MailctlError):
    """The command line asks for something impossible (missing endpoint, no secret sink...)."""


class ApiError(MailctlError):
    """The AgentMail API answered with an error. Mapped from HTTP in ``mailctl.api.client`` only."""

    def __init__(self, status: int, code: str, message: str, method: str = "", path: str = ""):
        self.status = status
        self.code = code
        self.api_message = message
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method else ""
        status_text = f"{status} " if status else ""  # 0: no HTTP response (connection failure)
        super().__init__(f"{status_text}{code}: {message}{where}")


class NotFound(ApiError):
    """404: absent, or outside the key's scope (the API does not distinguish)."""


class Forbidden(ApiError):
    """403: scope/permission denial, or a rule such as cannot_delete / resource_taken."""


class InvalidRequest(ApiError):
    """400/422: the API rejected the request body."""


class Unauthorized(ApiError):
    """401: missing, unknown or expired key."""


class UnexpectedResponse(ApiError):
    """A success status whose body is not what the API sends (HTML, empty, wrong shape, no id).

    Usually the endpoint is not the AgentMail API (a proxy page, a wrong URL); never a traceback.
    """

    def __init__(self, status: int, detail: str, method: str = "", path: str = ""):
        super().__init__(status, "invalid_response", detail, method, path)
        where = f" ({method} {path})" if method else ""
        self.args = (f"unexpected response from the API: {detail}{where}",)


class TransientError(ApiError):
    """429/5xx or a connection failure that survived every retry.

    ``ambiguous`` is True when a non-idempotent write failed after it was sent: it may have
    happened, so the caller must look before re-creating.
    """

    def __init__(
        self, status: int, code: str, message: str, method: str = "", path: str = "", *, ambiguous: bool = False
    ):
        self.ambiguous = ambiguous
        super().__init__(status, code, message, method, path)


class PlanError(MailctlError):
    """The desired state cannot be planned (e.g. an inbox would have to move out of an unmanaged pod)."""


class UnsafePlan(MailctlError):
    """A safety rail stopped the apply (thresholds, prevent_destroy, stale plan, lock held)."""


class LockNotReleased(MailctlError):
    """An apply lock may still be held: a request that took or released it got no answer, so the
    server may have made (or kept) the lock pod. The message names the lock and how to remove it."""


class ApplyFailed(MailctlError):
    """Some changes failed; the report of what was done, failed and skipped was already printed."""


class NotStarted(MailctlError):
    """A request not sent, nor anything before it of its step: the run is stopping (its first
    Ctrl-C or SIGTERM) and starts no new change (``mailctl.api.client.first_request_unless``)."""

    def __init__(self) -> None:
        super().__init__("interrupted before it started")


class Cancelled(MailctlError):
    """A signal stopped the command cleanly (lock released, report printed): exit 128 + signal."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class Deferred(MailctlError):
    """One step cannot happen yet (an inbox on a domain still being verified, or what another
    shard creates is not there yet: ``shard`` names it); not a failure."""

    def __init__(self, message: str, shard: str | None = None):
        super().__init__(message)
        self.shard = shard


class MissingParent(MailctlError, LookupError):
    """The pod or inbox a resource lives in has no remote id (it was never created)."""


class DeferredWork(MailctlError):
    """Apply finished but left work waiting (inboxes on unverified domains); see --allow-deferred."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (Ctrl-C arrives as KeyboardInterrupt).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it: it
    unwinds the command (``with`` blocks release the lock) up to the CLI, which exits 128 + signal.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
