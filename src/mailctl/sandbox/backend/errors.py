"""Error responses in AgentMail's wire format (spec §2).

Handlers never build error bodies by hand: they ``raise`` one of the helpers below, and the app
turns the ``SandboxError`` into the JSON body. 400 uses ``ValidationErrorResponse`` (with an
``errors`` list of ``{path, message}``); every other status uses ``ErrorResponse``.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.agentmail.to/errors#"

_NAMES = {
    400: "ValidationError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
    422: "UnprocessableError",
    429: "RateLimitError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


class SandboxError(Exception):
    """An API error: ``status``, ``code`` and a human ``message`` (plus optional ``fix``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fix: str | None = None,
        name: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fix = fix
        self.name = name or _NAMES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "message": self.message, "code": self.code}
        if self.status == 400:
            body["errors"] = self.errors if self.errors is not None else [{"path": "", "message": self.message}]
        if self.fix:
            body["fix"] = self.fix
        body["docs"] = DOCS + self.code
        return body


def bad_request(message: str, path: str = "", *, fix: str | None = None) -> SandboxError:
    """400 validation_error about one field (``path`` is a dotted field path, "" for the body)."""
    return SandboxError(400, "validation_error", message, fix=fix, errors=[{"path": path, "message": message}])


def unauthorized(code: str, message: str) -> SandboxError:
    return SandboxError(401, code, message, fix="Send 'Authorization: Bearer am_...' with a valid, unexpired key.")


def forbidden(code: str, message: str, *, fix: str | None = None, name: str | None = None) -> SandboxError:
    return SandboxError(403, code, message, fix=fix, name=name)


def not_found(what: str) -> SandboxError:
    return SandboxError(404, "not_found", f"{what} not found", fix="Check the ID and that your key's scope covers it.")


def unprocessable(message: str, *, fix: str | None = None) -> SandboxError:
    return SandboxError(422, "unprocessable", message, fix=fix)


def conflict(code: str, message: str) -> SandboxError:
    return SandboxError(409, code, message)


def missing_permission(permission: str) -> SandboxError:
    return forbidden(
        "missing_permission",
        f"Forbidden: this API key lacks the '{permission}' permission",
        fix=f"Use a key whose permissions include {permission}.",
    )


_SCOPED = {"organization": "organization-level", "pod": "pod-scoped", "inbox": "inbox-scoped"}


def scoped(*scopes: str, noun: str = "key") -> str:
    """A key (or ``noun``) of any of ``scopes`` as errors name it, with its article: "an
    inbox-scoped key", "a pod-scoped or organization-level key"."""
    words = " or ".join(_SCOPED[scope] for scope in scopes)
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words} {noun}"


def scope_denies(scope: str, permission: str, able: list[str]) -> SandboxError:
    """403 missing_permission where the key's scope, not its permissions, withholds ``permission``
    (§3.1: scope ∩ permissions), so telling it to hold the flag would be advice it cannot follow;
    ``able``: the scopes that can hold it."""
    return forbidden(
        "missing_permission",
        f"Forbidden: {scoped(scope)} cannot use the '{permission}' permission: its scope denies it, "
        "whatever its permissions say",
        fix=f"Use {scoped(*able)} whose permissions allow {permission}.",
    )


def scope_forbidden(message: str) -> SandboxError:
    """403 forbidden: an action that is structurally impossible for the key's scope (§3.1, §11 Q12)."""
    return forbidden("forbidden", f"Forbidden: {message}", fix="Use a key with a broader scope.")
