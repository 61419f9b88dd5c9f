"""A yes/no answer to "is this instance valid against the schema?", 10-20x faster than jsonschema.

``jsonschema`` finds and locates every error, which is what a problem report needs, but it pays
for that on every valid document too (a validator object per subschema and per value). Most
documents are valid, so ``schema.validate`` first asks this compiled predicate, and only runs
``jsonschema`` (whose errors are worded and located as before) when the answer is no.

The schema is compiled once into nested closures, for the keywords mailctl's schema uses, with
Draft 2020-12's meaning: each keyword constrains only the instances of its type (``minLength``
ignores numbers), ``integer`` accepts ``1.0``, ``true`` is neither ``1`` in ``const``/``enum``
nor in ``uniqueItems``, ``pattern`` is ``re.search``. A keyword it does not know makes
:func:`compile_schema` raise ``Unsupported`` (then every document takes the jsonschema path), so
a new keyword in the generated schema can cost speed, never correctness.
``tests/unit/config/test_fastcheck.py`` compares its answers with jsonschema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
# extra keyword -> (keyword value, instance) -> valid?
Extra = Callable[[Any, Any], bool]

# Keywords that never make an instance invalid (annotations, and ``format``, which 2020-12 does
# not assert by default).
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "patternErrorMessage",
        "notErrorMessage",
        "markdownDescription",
    }
)
_OBJECT_KEYWORDS = ("properties", "patternProperties", "additionalProperties", "propertyNames", "required")


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this module does not evaluate."""


def _yes(instance: Any) -> bool:
    return True


def _no(instance: Any) -> bool:
    return False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_PLAIN_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "null": type(None)}
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "number": _is_number,
    "null": lambda v: v is None,
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema sees it: ``true`` is not ``1``, ``1.0`` is ``1``."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def compile_schema(root: dict[str, Any], extra: dict[str, Extra] | None = None) -> Check:
    """The predicate ``instance -> valid?`` of ``root``. Raises Unsupported for unknown keywords."""
    return _Compiler(root, extra or {}).compile(root)


class _Compiler:
    def __init__(self, root: dict[str, Any], extra: dict[str, Extra]):
        self.root = root
        self.extra = extra
        self.refs: dict[str, Check] = {}

    def compile(self, node: Any) -> Check:
        if node is True or node == {}:
            return _yes
        if node is False:
            return _no
        if not isinstance(node, dict):
            raise Unsupported(f"schema node {node!r}")
        fused = _text_check(node)
        if fused is not None:
            return fused
        checks: list[Check] = []
        is_mapping = any(keyword in node for keyword in _OBJECT_KEYWORDS)
        object_only = is_mapping and node.get("type") == "object"  # the mapping check tests the type
        for keyword, value in node.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS or keyword in ("if", "then", "else"):
                continue
            if not (object_only and keyword == "type"):
                checks.append(self.keyword(keyword, value))
        if is_mapping:
            checks.append(self.mapping(node, object_only))
        if "if" in node:
            checks.append(self.condition(node))
        return _all(checks)

    def keyword(self, keyword: str, value: Any) -> Check:
        if keyword in self.extra:
            rule = self.extra[keyword]
            return lambda instance: rule(value, instance)
        method = getattr(self, "k_" + keyword.lstrip("$"), None)
        if method is None:
            raise Unsupported(f"keyword {keyword}")
        check: Check = method(value)
        return check

    # -- keywords -------------------------------------------------------------------------------

    def k_ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/") :]:
            raise Unsupported(f"$ref {ref!r}")
        name = ref[len("#/$defs/") :]
        definitions = self.root.get("$defs", {})
        if name not in definitions:
            raise Unsupported(f"$ref {ref!r} names no definition")
        if ref not in self.refs:
            cell: list[Check] = []
            self.refs[ref] = lambda instance: cell[0](instance)  # recursion: resolved once compiled
            cell.append(self.compile(definitions[name]))
            self.refs[ref] = cell[0]
        return self.refs[ref]

    def k_type(self, expected: Any) -> Check:
        kinds = [expected] if isinstance(expected, str) else list(expected)
        if any(kind not in _TYPES for kind in kinds):
            raise Unsupported(f"type {expected!r}")
        if len(kinds) == 1:
            return _TYPES[kinds[0]]
        if all(kind in _PLAIN_TYPES for kind in kinds):  # one isinstance: no int/bool subtleties
            plain = tuple(_PLAIN_TYPES[kind] for kind in kinds)
            return lambda instance: isinstance(instance, plain)
        tests = [_TYPES[kind] for kind in kinds]
        return lambda instance: any(test(instance) for test in tests)

    def k_items(self, items: Any) -> Check:
        check = self.compile(items)
        return lambda v: not isinstance(v, list) or all(check(item) for item in v)

    def k_pattern(self, pattern: str) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None

    def k_minLength(self, limit: int) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= limit

    def k_maxLength(self, limit: int) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= limit

    def k_minItems(self, limit: int) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= limit

    def k_maxItems(self, limit: int) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= limit

    def k_minProperties(self, limit: int) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) >= limit

    def k_maxProperties(self, limit: int) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) <= limit

    def k_minimum(self, limit: Any) -> Check:
        return lambda v: not _is_number(v) or v >= limit

    def k_maximum(self, limit: Any) -> Check:
        return lambda v: not _is_number(v) or v <= limit

    def k_uniqueItems(self, unique: Any) -> Check:
        if not unique:
            return _yes
        return lambda v: (
            not isinstance(v, list) or not any(equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
        )

    def k_const(self, value: Any) -> Check:
        return lambda v: equal(v, value)

    def k_enum(self, values: list[Any]) -> Check:
        return lambda v: any(equal(v, value) for value in values)

    def k_not(self, schema: Any) -> Check:
        check = self.compile(schema)
        return lambda v: not check(v)

    def k_allOf(self, schemas: list[Any]) -> Check:
        return _all([self.compile(s) for s in schemas])

    def k_anyOf(self, schemas: list[Any]) -> Check:
        checks = [self.compile(s) for s in schemas]
        return lambda v: any(check(v) for check in checks)

    def k_oneOf(self, schemas: list[Any]) -> Check:
        checks = [self.compile(s) for s in schemas]
        return lambda v: sum(1 for check in checks if check(v)) == 1

    # -- keywords that work together ------------------------------------------------------------

    def condition(self, node: dict[str, Any]) -> Check:
        test = self.compile(node["if"])
        then = self.compile(node.get("then", True))
        otherwise = self.compile(node.get("else", True))
        return lambda v: then(v) if test(v) else otherwise(v)

    def mapping(self, node: dict[str, Any], object_only: bool = False) -> Check:
        """properties, patternProperties, additionalProperties, propertyNames and required, in one
        pass over the mapping's keys (``object_only``: anything but a mapping is invalid)."""
        properties = {name: self.compile(sub) for name, sub in node.get("properties", {}).items()}
        patterns = [(re.compile(p).search, self.compile(sub)) for p, sub in node.get("patternProperties", {}).items()]
        additional = self.compile(node["additionalProperties"]) if "additionalProperties" in node else None
        names = self.compile(node["propertyNames"]) if "propertyNames" in node else None
        required = frozenset(node.get("required", ()))

        def each_key(key: str, value: Any) -> bool:
            if names is not None and not names(key):
                return False
            known = properties.get(key)
            if known is not None and not known(value):
                return False
            matched = False
            for search, sub in patterns:
                if search(key) is not None:
                    matched = True
                    if not sub(value):
                        return False
            return known is not None or matched or additional is None or additional(value)

        if not patterns and names is None:  # the usual case, in one loop

            def plain(v: Any) -> bool:
                if not isinstance(v, dict):
                    return not object_only
                for key, value in v.items():
                    known = properties.get(key, additional)
                    if known is not None and not known(value):
                        return False
                return not required or required <= v.keys()

            return plain

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return not object_only
            for key, value in v.items():
                if not each_key(key, value):
                    return False
            return not required or required <= v.keys()

        return check


def _all(checks: list[Check]) -> Check:
    checks = [check for check in checks if check is not _yes]
    if not checks:
        return _yes
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def every(v: Any) -> bool:
        for check in checks:  # a loop: a generator under all() costs twice as much per call
            if not check(v):
                return False
        return True

    return every


_TEXT_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern"})


def _text_check(node: dict[str, Any]) -> Check | None:
    """``type: string`` with length limits and a pattern, as one check (most of a config's
    values are such texts); None for any other node."""
    if node.get("type") != "string" or not _TEXT_KEYWORDS.issuperset(k for k in node if k not in _ANNOTATIONS):
        return None
    shortest, longest = node.get("minLength", 0), node.get("maxLength")
    search = re.compile(node["pattern"]).search if "pattern" in node else None

    def check(v: Any) -> bool:
        if not isinstance(v, str) or len(v) < shortest or (longest is not None and len(v) > longest):
            return False
        return search is None or search(v) is not None

    return check
