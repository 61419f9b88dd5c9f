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


class Router:
    def __init__(self, routes: list[Route]):
        seen = {(r.method, r.pattern) for r in routes}
        if len(seen) != len(routes):
            raise ValueError("duplicate route in the route table")
        # most specific first, so the first hit for a method is the right one
        self.routes = sorted(routes, key=lambda r: r.specificity, reverse=True)

    def match(self, method: str, parts: list[str]) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            params = route.bind(parts)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise method_not_allowed(allowed)
        raise SandboxError(
            404, "not_found", "No such route: /" + "/".join(parts), fix="Check the path against the API reference."
        )
