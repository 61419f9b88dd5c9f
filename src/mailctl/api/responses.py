"""What an answer body means: error details from error responses, and the shape checks of successes.

A success is only trusted when it looks like the API: a JSON object, with the fields the caller
needs. Anything else (an HTML page, an empty body, a JSON array, an object without its id) is an
:class:`~mailctl.errors.UnexpectedResponse` naming the method and path, never a ``KeyError`` or
``AttributeError`` deep in the caller.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from mailctl import strict_json
from mailctl.api.reply import Reply
from mailctl.errors import UnexpectedResponse

MESSAGE_LIMIT = 200
CODE_LIMIT = 80  # an error code is a word ("validation_error"): anything longer is not one

_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_NOISE = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")

_DEFAULT_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiObject(dict[str, Any]):
    """A JSON object from the API that remembers where it came from.

    Subscripting means "required": ``obj["pod_id"]`` on an answer without ``pod_id`` (or with
    ``"pod_id": null``) raises :class:`UnexpectedResponse` naming the request, instead of a bare
    ``KeyError`` or a ``None`` that fails later. Use ``.get`` for optional fields.
    """

    def __init__(self, data: dict[str, Any], method: str, path: str, what: str = "the answer") -> None:
        super().__init__(data)
        self.method = method
        self.path = path
        self.what = what

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if value is None:
            raise UnexpectedResponse(200, f"{self.what} has a null {key!r}", self.method, self.path)
        return value

    def __missing__(self, key: str) -> Any:
        raise UnexpectedResponse(200, f"{self.what} has no {key!r}", self.method, self.path)


def expect_fields(body: Any, fields: Iterable[str], method: str, path: str) -> ApiObject:
    """``body`` as an object holding every one of ``fields`` (present and not null), else an error."""
    obj = expect_object(body, method, path)
    for name in fields:
        if obj.get(name) in (None, ""):
            raise UnexpectedResponse(200, f"{obj.what} has no {name!r}", method, path)
    return obj


def expect_object(body: Any, method: str, path: str, what: str = "the answer") -> ApiObject:
    if isinstance(body, ApiObject):
        return body
    if not isinstance(body, dict):
        raise UnexpectedResponse(200, f"{what} is {describe_json(body)}, not a JSON object", method, path)
    return ApiObject(body, method, path, what)


def describe_json(value: Any) -> str:
    if isinstance(value, list):
        return f"a JSON array of {len(value)} item(s)"
    if value is None:
        return "null"
    names = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return f"a JSON {names.get(type(value), type(value).__name__)}"


def parse_json_object(response: Reply, method: str, path: str, scrub: Scrub = str) -> ApiObject:
    """The body of a 2xx answer that must be a JSON object."""
    if not response.content:
        raise UnexpectedResponse(
            response.status_code,
            f"HTTP {response.status_code} with an empty body where a JSON object was expected",
            method,
            path,
        )
    return expect_object(parse_json(response, method, path, scrub), method, path)


def parse_json(response: Reply, method: str, path: str, scrub: Scrub = str) -> Any:
    """The JSON value of a non-empty 2xx body. NaN, Infinity and numbers beyond a float, which
    Python's json reads, are refused: taken in, they would reach plan JSON and plan files as no
    JSON at all, and NaN never compares equal (a change on every plan)."""
    try:
        return strict_json.loads(response.content)
    except strict_json.NotFinite as exc:
        raise UnexpectedResponse(
            response.status_code,
            f"HTTP {response.status_code} with a number that is not finite ({clip(str(exc), 40)})",
            method,
            path,
        ) from None
    except strict_json.TooDeep as exc:
        raise UnexpectedResponse(
            response.status_code, f"HTTP {response.status_code} with JSON {exc}", method, path
        ) from None
    except ValueError:  # also UnicodeDecodeError
        raise UnexpectedResponse(
            response.status_code,
            f"HTTP {response.status_code} with {_describe_text(response, scrub)} where JSON was expected",
            method,
            path,
        ) from None


def _describe_text(response: Reply, scrub: Scrub = str) -> str:
    """What the body is, without echoing it: a success body may hold a secret. Only an HTML
    page's title is quoted (it says what answered, e.g. a proxy's default page)."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    size = f"{len(response.content)} bytes"
    if "html" in content_type or response.content.lstrip()[:1] == b"<":
        title = _HTML_TITLE.search(response.text)
        return f"an HTML page ({clip(scrub(title.group(1)), 80)!r}, {size})" if title else f"an HTML page ({size})"
    return f"a {content_type or 'non-JSON'} body ({size})"


# -- error bodies ---------------------------------------------------------------------------------


Scrub = Callable[[str], str]  # takes secrets out of a text (the client's redaction)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summarise_text(text: str, scrub: Scrub = str) -> str:
    """A short, readable line from a non-JSON body: an HTML page's title, else its text."""
    title = _HTML_TITLE.search(text)
    if title:
        text = title.group(1)
    elif "<" in text:
        text = _HTML_TAG.sub(" ", _HTML_NOISE.sub(" ", text))
    return clip(scrub(text))


def _format_validation_errors(errors: Any, limit: int = 5, scrub: Scrub = str) -> str:
    """``[{path, message}, ...]`` (or pydantic's ``loc``/``msg``) as ``path: message; ...``."""
    if isinstance(errors, dict):
        errors = [{"path": k, "message": v} for k, v in errors.items()]
    if not isinstance(errors, list):
        return clip(scrub(jsonlib.dumps(errors, separators=(",", ":"), default=str)))
    parts = []
    for item in errors[:limit]:
        if isinstance(item, dict):
            where = item.get("path", item.get("loc", ""))
            if isinstance(where, list | tuple):
                where = ".".join(str(p) for p in where)
            what = item.get("message", item.get("msg", ""))
            if isinstance(what, list | tuple):
                what = ", ".join(str(m) for m in what)
            parts.append(f"{where}: {what}" if where not in ("", None) else str(what))
        else:
            parts.append(str(item))
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return clip(scrub("; ".join(parts)), 4 * MESSAGE_LIMIT)


_NOT_FOLLOWED = "(mailctl does not follow redirects)"


def error_code_and_message(response: Reply, scrub: Scrub = str) -> tuple[str, str]:
    """``code`` and a human message from an ``ErrorResponse`` / ``ValidationErrorResponse`` body;
    ``scrub`` takes secrets out of the server's text before it is clipped (clipped first, a
    secret cut short would match neither itself nor a secret's shape)."""
    status = response.status_code
    default_code = _DEFAULT_CODES.get(status, f"http_{status}")
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
        body = None
    if 300 <= status < 400 and response.headers.get("Location"):
        # mailctl never follows a redirect (it could carry the key elsewhere): name the target
        target = clip(scrub(response.headers["Location"]))
        return default_code, f"the endpoint answered with a redirect to {target} {_NOT_FOLLOWED}"
    if not isinstance(body, dict):
        text = _summarise_text(response.text, scrub) if response.content else ""
        return default_code, text or response.reason_phrase or "no error details"
    code = body.get("code")
    message = body.get("message") or body.get("name") or response.reason_phrase
    message = clip(scrub(str(message)))
    if body.get("errors") not in (None, [], {}):
        message = f"{message}: {_format_validation_errors(body['errors'], scrub=scrub)}"
    return (clip(scrub(str(code)), CODE_LIMIT) if code else default_code), message
