"""Matching a request path against the route table: literal segments beat ``{param}`` segments.

Kept apart from ``routes.py`` so the table itself stays a plain, readable list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailctl.sandbox.backend.core import Handler, SandboxError


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    segments: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.pattern.strip("/").split("/")))

    def bind(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters if ``parts`` fits this pattern, else None."""
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for seg, part in zip(self.segments, parts, strict=True):
            if seg.startswith("{"):
                if not part:
                    return None
                params[seg[1:-1]] = part
            elif seg != part:
                return None
        return params

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(0 if s.startswith("{") else 1 for s in self.segments)


def method_not_allowed(allowed: list[str]) -> SandboxError:
    allow = ", ".join(sorted(set(allowed)))
    return SandboxError(
        405, "method_not_allowed", f"Method not allowed; this path accepts {allow}", headers={"Allow": allow}
    )


_PREFIX = 2  # leading segments a route is indexed by, when they are literal ("v0", "pods")


def _key(segments: tuple[str, ...] | list[str]) -> tuple[str | int, ...]:
    return (len(segments), *segments[:_PREFIX])


class Router:
    """Routes indexed by their length and literal leading segments, so a request is compared
    with the few routes that could fit it (trying each of the 136 routes there were then, on every
    request, was 18% of the app's CPU)."""

    def __init__(self, routes: list[Route]):
        seen = {(r.method, r.pattern) for r in routes}
        if len(seen) != len(routes):
            raise ValueError("duplicate route in the route table")
        # most specific first, so the first hit for a method is the right one
        self.routes = sorted(routes, key=lambda r: r.specificity, reverse=True)
        wild: dict[int, list[Route]] = {}  # a {param} among the leading segments: fits any of them
        for route in self.routes:
            if any(s.startswith("{") for s in route.segments[:_PREFIX]):
                wild.setdefault(len(route.segments), []).append(route)
        self._wild = wild
        self._index: dict[tuple[str | int, ...], list[Route]] = {}
        for route in self.routes:
            if route not in wild.get(len(route.segments), ()):
                self._index.setdefault(_key(route.segments), []).append(route)
        for key, bucket in self._index.items():
            merged = bucket + wild.get(int(key[0]), [])
            self._index[key] = sorted(merged, key=lambda r: r.specificity, reverse=True)

    def match(self, method: str, parts: list[str]) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters. HEAD is served by the GET route (RFC 9110 §9.3.2:
        wherever GET is; the caller leaves the body out), and listed beside GET in ``Allow``."""
        allowed: list[str] = []
        wanted = "GET" if method == "HEAD" else method
        candidates = self._index.get(_key(parts)) or self._wild.get(len(parts), [])
        for route in candidates:
            params = route.bind(parts)
            if params is None:
                continue
            if route.method == wanted:
                return route, params
            allowed += [route.method, "HEAD"] if route.method == "GET" else [route.method]
        if allowed:
            raise method_not_allowed(allowed)
        raise SandboxError(
            404, "not_found", "No such route: /" + "/".join(parts), fix="Check the path against the API reference."
        )
