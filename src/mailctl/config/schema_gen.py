"""The JSON Schema of config files, generated from the kind descriptions and a few top-level sections.

``mailctl schema`` prints :func:`text`; ``mailctl validate`` checks with :func:`generate`;
``schemas/mailctl.schema.json`` (shipped as ``mailctl/config/mailctl.schema.json``) is a copy
for editors that tests/unit/config/test_schema_generated.py keeps equal. Regenerate it with
``mailctl schema > schemas/mailctl.schema.json``.

Where to make a change (each is a one-place edit):

- an attribute of a kind (its schema, description, enum, whether it is required, where it may be
  declared): its ``Attribute`` in ``kinds/<kind>.py``; it appears here with no other edit;
- a key every resource body takes (``prevent_destroy``, ``ignore_changes``): ``RESOURCE_KEYS``;
- a top-level section of config files (``manage``, ``settings``, ``moved``): ``TOP_LEVEL``;
- a kind's section (how its declarations are named, its title): ``SECTIONS``, one row per kind;
- a name or address format several places share: ``VOCABULARY``;
- a length or range the API enforces: ``mailctl.limits`` (the sandbox reads the same table).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mailctl import kinds, limits
from mailctl.kinds import KindSpec
from mailctl.resources import LIST_DIRECTIONS, LIST_TYPES, Kind

Schema = dict[str, Any]
SUPPORTED_VERSION = 1


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


# -- shared names and formats ---------------------------------------------------------------------

_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = f"(?=.{{1,{limits.DOMAIN_NAME.max}}}$)(?:{_LABEL}\\.)+{_TOP_LABEL}"
_LOCAL = f"(?=[^@]{{1,{limits.USERNAME.max}}}@)[A-Za-z0-9_+-]+(?:\\.[A-Za-z0-9_+-]+)*@"
_NAME, _KEY, _POD = limits.DECLARED_NAME, limits.DECLARED_KEY_NAME, limits.CLIENT_ID

VOCABULARY: dict[str, Schema] = {
    "name": {
        "title": "Name",
        "type": "string",
        "pattern": f"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{_NAME.max - 1}}}$",
        "patternErrorMessage": f"is not a valid name: use {_NAME.min}-{_NAME.max} characters: letters, digits, '.', "
        "'_' or '-', starting with a letter or digit",
        "description": "A name for an API key, webhook, template or tenant.",
    },
    "keyName": {
        "title": "API key name",
        "type": "string",
        "pattern": f"^(?:{limits.DECLARABLE_KEY_NAME})$",
        "patternErrorMessage": f"is not a valid API key name: {_KEY.min}-{_KEY.max} characters, no '/', '#' or "
        "control characters, no leading or trailing space",
        "description": "An API key's name: its identity within its scope. Keys made by hand may carry spaces; "
        "mailctl only reserves '/' and '#' (used in addresses).",
    },
    "podClientId": {
        "title": "Pod client_id",
        "type": "string",
        "pattern": f"^[{limits.CLIENT_ID_CHARACTERS}]{{{_POD.min},{_POD.max}}}$",
        "patternErrorMessage": f"is not a valid pod client_id: use {_POD.min}-{_POD.max} characters from "
        "A-Z a-z 0-9 - . _ ~",
        "not": {"pattern": "^" + limits.RESERVED_POD_PREFIX.replace(".", "\\.")},
        "notErrorMessage": f"is reserved: a client_id starting with `{limits.RESERVED_POD_PREFIX}` is mailctl's "
        "apply lock",
        "description": "The pod's client_id: its identity in mailctl and in the API.",
    },
    "domainName": {
        "title": "Domain name",
        "type": "string",
        "pattern": f"^{_DOMAIN}$",
        "patternErrorMessage": "is not a valid domain name (e.g. mail.example.com)",
        "description": "A DNS name; mailctl lower-cases it.",
    },
    "emailAddress": {
        "title": "Email address",
        "type": "string",
        "pattern": f"^{_LOCAL}{_DOMAIN}$",
        "patternErrorMessage": "is not a valid email address (local@domain; letters, digits, '.', '_', '+', '-' "
        "before the @)",
        "description": "An inbox address; identity is case-insensitive (mailctl lower-cases it).",
    },
    "listEntry": {
        "title": "List entry",
        "type": "string",
        "pattern": f"^(?:{_LOCAL})?{_DOMAIN}$",
        "patternErrorMessage": "is not an email address or a domain name",
        "description": "An email address or a whole domain.",
    },
    "addressGlob": {
        "type": "string",
        "minLength": 1,
        "pattern": "^[^/].*$",
        "description": "An address or glob, as for --target: `pod/tenant-*/inbox/conv-*`.",
    },
    "parameterName": {
        "type": "string",
        "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        "patternErrorMessage": "is not a valid parameter name: use letters, digits and '_', not starting with a digit",
    },
}

# -- keys every resource body takes, beside its attributes ---------------------------------------

RESOURCE_KEYS: dict[str, Schema] = {
    "prevent_destroy": {
        "type": "boolean",
        "default": False,
        "description": "Refuse any plan that would delete or replace this resource.",
    },
    "ignore_changes": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "description": "Attributes never diffed after creation (set at create, then left alone), e.g. [name] on a pod.",
    },
}

# -- top-level sections of a config file, beside the kinds' sections -----------------------------

_VERSION: Schema = {"const": SUPPORTED_VERSION, "description": "Config format version. This mailctl reads version 1."}
_TEMPLATE_KIND = "template"

TOP_LEVEL: dict[str, Schema] = {
    "version": _VERSION,
    "kind": {"const": "config"},
    "manage": {
        "title": "Manage",
        "description": "Which undeclared resources mailctl may delete. Without it, mailctl deletes no undeclared pods.",
        "type": "object",
        "properties": {
            "pods": {
                "description": "Which undeclared pods mailctl may delete.",
                "type": "object",
                "properties": {
                    "client_id_prefix": {
                        "type": ["string", "array"],
                        "minLength": 1,
                        "minItems": 1,
                        "items": {"type": "string", "minLength": 1},
                        "description": "Undeclared pods whose client_id starts with this prefix (or one of these "
                        "prefixes) are deleted.",
                    }
                },
                "additionalProperties": False,
            },
            "ignore": {
                "type": "array",
                "items": ref("addressGlob"),
                "description": "Existing resources matching these globs are never created, updated or deleted: "
                "created at runtime by your application. Listed as unmanaged; declaring one is an error.",
            },
            "protect": {
                "type": "array",
                "items": ref("addressGlob"),
                "description": "A plan that would delete or replace a matching resource is refused, declared or "
                "not. Neither --force nor --allow-data-loss lifts it.",
            },
        },
        "additionalProperties": False,
    },
    "settings": {
        "title": "Settings",
        "type": "object",
        "properties": {
            "safety": {
                "description": "Safety rails for apply.",
                "type": "object",
                "properties": {
                    "max_change_fraction": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "Refuse to apply when updates, or deletes, exceed this fraction of "
                        "existing managed resources (default 0.3; a replacement counts as both).",
                    },
                    "max_update_fraction": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "The fraction for updates alone (default: max_change_fraction).",
                    },
                    "max_delete_fraction": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "The fraction for deletes alone, replacements included (default: "
                        "max_change_fraction).",
                    },
                    "min_existing": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Apply the fraction check only when at least this many resources exist "
                        "(default 10).",
                    },
                },
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    },
    # the kinds' organisation-level sections (domains, api_keys, ...) are added here, in CONFIG_ORDER
    "moved": {
        "type": "array",
        "description": "Renames recorded in config (as Terraform's moved blocks): the resource at `from` now lives "
        "at `to`. Harmless once applied.",
        "items": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {
                "from": {"type": "string", "minLength": 1, "description": "The old address."},
                "to": {"type": "string", "minLength": 1, "description": "The new address (declared in the config)."},
            },
            "additionalProperties": False,
        },
    },
}
_AFTER_KINDS = ("moved",)  # top-level sections written after the kinds' ones

# -- template and tenants files --------------------------------------------------------------------

_PARAMETER: Schema = {
    "title": "Template parameter",
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["string", "integer", "number", "boolean", "list", "map"], "description": "The value's type."},
        "description": {"type": "string"},
        "required": {"type": "boolean", "description": "Every tenant must supply a value (no default)."},
        "default": {
            "description": "Used when a tenant supplies no value. Without a default or `required`, the value is null "
            "(unset)."
        },
        "enum": {"type": "array", "minItems": 1, "description": "The allowed values."},
        "pattern": {"type": "string", "description": "A regular expression string values must match in full."},
    },
    "additionalProperties": False,
}

_TEMPLATE_FILE: Schema = {
    "title": "mailctl template",
    "type": "object",
    "required": ["version", "kind", "name", "pod"],
    "properties": {
        "version": _VERSION,
        "kind": {"const": _TEMPLATE_KIND},
        "name": ref("name"),
        "description": {"type": "string"},
        "parameters": {
            "type": "object",
            "propertyNames": ref("parameterName"),
            "additionalProperties": ref("parameter"),
            "description": "Named parameters each tenant supplies. `${tenant}` (the tenant's key) is always available.",
        },
        "pod": {
            "type": "object",
            "description": "The pod body stamped out per tenant: `client_id` (default `${tenant}`) plus any pod "
            "field. Strings may use `${param}`; entries may carry `when:` and `for_each:`.",
        },
    },
    "additionalProperties": False,
}

_TENANTS_FILE: Schema = {
    "title": "mailctl tenants file",
    "type": "object",
    "required": ["version", "template", "tenants"],
    "properties": {
        "version": _VERSION,
        "template": {**ref("name"), "description": "The `name` of the template to stamp out."},
        "tenants": {
            "type": "object",
            "propertyNames": ref("name"),
            "additionalProperties": {"type": ["object", "null"]},
            "description": "Tenants keyed by their key (`${tenant}`), each mapping parameter names to values.",
        },
    },
    "additionalProperties": False,
}

# -- how each kind's section looks in a scope -------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A kind's YAML section: its declarations' names, and what people call one."""

    title: str  # of one declaration's body
    description: str  # of one declaration's body
    listing: str  # of the section
    names: Schema  # a declaration's name (the section's keys)
    # the section's value, from the body's schema (None: a mapping of name -> body); it may add $defs
    shape: Callable[[Schema, Schema, str, dict[str, Schema]], Schema] | None = None


def _lists(body: Schema, names: Schema, listing: str, defs: dict[str, Schema]) -> Schema:
    """``lists``: direction -> allow/block -> entries (a mapping of entry -> body, or a list)."""
    defs["listEntries"] = {
        "type": ["object", "array"],
        "description": "Entries (email addresses or domains): a mapping `entry: {reason: ...}` (or `entry:` with "
        "no body), or a plain list.",
        "propertyNames": names,
        "additionalProperties": body,
        "items": names,
    }
    pair = {
        "type": "object",
        "properties": dict.fromkeys(LIST_TYPES, ref("listEntries")),
        "additionalProperties": False,
    }
    return {
        "title": "Allow and block lists",
        "description": listing,
        "type": "object",
        "properties": {direction: {**pair, "description": _DIRECTIONS[direction]} for direction in LIST_DIRECTIONS},
        "additionalProperties": False,
    }


_DIRECTIONS = {
    "send": "Checked for recipients of outbound mail.",
    "receive": "Checked for inbound mail that is not a reply.",
    "reply": "Checked for inbound replies to earlier outbound mail.",
}

SECTIONS: dict[Kind, Section] = {
    Kind.POD: Section(
        "Pod", "A pod: an isolated tenant with its own inboxes, domains and keys.", "Pods, keyed by client_id.",
        ref("podClientId"),
    ),
    Kind.DOMAIN: Section(
        "Domain", "A custom email domain. Attributes left out are not managed.",
        "Custom domains, keyed by domain name (organisation-wide ones are usable by every pod).", ref("domainName"),
    ),
    Kind.INBOX: Section(
        "Inbox", "An inbox. Its address is its identity; the domain must be agentmail.to or declared in scope.",
        "Inboxes, keyed by address.", ref("emailAddress"),
    ),
    Kind.API_KEY: Section(
        "API key",
        "A bearer API key scoped to where it is declared. Its secret is written to the secret sink, never to the "
        "config.",
        "API keys, keyed by name.", ref("keyName"),
    ),
    Kind.WEBHOOK: Section("Webhook", "A webhook.", "Webhooks, keyed by name.", ref("name")),
    Kind.LIST_ENTRY: Section(
        "List entry", "A list entry.",
        "Allow/block lists per direction. The most specific scope wins (inbox, then pod, then organisation).",
        ref("listEntry"), shape=_lists,
    ),
}  # fmt: skip
_GENERIC = Section("", "", "", {"type": "string", "minLength": 1})  # a kind with no row yet

# -- assembly ---------------------------------------------------------------------------------------


def generate(specs: Iterable[KindSpec] | None = None) -> Schema:
    """The whole schema, from ``specs`` (default: every kind, ``mailctl.kinds.CONFIG_ORDER``)."""
    order = tuple(kinds.CONFIG_ORDER if specs is None else specs)
    defs: dict[str, Schema] = dict(VOCABULARY)
    defs["parameter"] = _PARAMETER
    bodies = _Bodies(order, defs)
    config_file = {
        "title": "mailctl config file",
        "type": "object",
        "required": ["version"],
        "properties": {
            **{k: v for k, v in TOP_LEVEL.items() if k not in _AFTER_KINDS},
            **bodies.sections(None),
            **{k: TOP_LEVEL[k] for k in _AFTER_KINDS},
        },
        "additionalProperties": False,
    }
    defs.update(configFile=config_file, templateFile=_TEMPLATE_FILE, tenantsFile=_TENANTS_FILE)
    whole: Schema = _ending_at_the_end(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:mailctl:schema:config:1",
            "title": "mailctl configuration",
            "description": "Declarative AgentMail configuration for mailctl: pods, domains, inboxes, API keys, "
            "webhooks, allow/block lists, and templates stamped out per tenant.",
            "type": "object",
            "if": {"properties": {"kind": {"const": _TEMPLATE_KIND}}, "required": ["kind"]},
            "then": ref("templateFile"),
            "else": {"if": {"required": ["template"]}, "then": ref("tenantsFile"), "else": ref("configFile")},
            "$defs": defs,
        }
    )
    return whole


_END = re.compile(r"(?<!\\)\$(?=\||$)")  # an anchor closing a pattern or an alternative (not a "$" in a class)


def _ending_at_the_end(node: Any) -> Any:
    """Every pattern's ``$`` as ``$(?!\\n)``: in Python (jsonschema, fastcheck) a bare ``$`` also
    matches before a final newline, so ``"t-a\\n"`` passed as a client_id; in ECMAScript (editors)
    the lookahead changes nothing."""
    if isinstance(node, dict):
        return {
            key: _END.sub(lambda _: "$(?!\\n)", value)
            if key == "pattern" and isinstance(value, str)
            else _ending_at_the_end(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ending_at_the_end(item) for item in node]
    return node


def text(specs: Iterable[KindSpec] | None = None) -> str:
    """The schema as ``mailctl schema`` prints it (and as the repository keeps it)."""
    return json.dumps(generate(specs), indent=2, ensure_ascii=False) + "\n"


class _Bodies:
    """Each kind's body in each scope it may be declared in, as a ``$defs`` entry: one per kind
    (``apiKey``), or one per scope (``orgWebhook``) when its attributes differ by scope; and the
    sections that hold them (a section alike in every scope is a ``$defs`` entry too)."""

    def __init__(self, order: tuple[KindSpec, ...], defs: dict[str, Schema]):
        self.order, self.defs = order, defs
        self.names: dict[tuple[Kind, Kind | None], str] = {}
        self.split: set[Kind] = set()
        for spec in order:
            word = _camel(spec.kind.name.lower())
            word = word + "Body" if word in VOCABULARY else word
            if len({json.dumps(_attributes(spec, scope), sort_keys=True) for scope in spec.parents}) > 1:
                self.split.add(spec.kind)
            for scope in spec.parents:
                split = spec.kind in self.split
                self.names[(spec.kind, scope)] = _SCOPES[scope][0] + word[0].upper() + word[1:] if split else word
        for spec in order:  # once every name is known: a scope's body refers to the bodies it holds
            for scope in sorted(spec.parents, key=list(_SCOPES).index):
                if self.names[(spec.kind, scope)] not in defs:
                    defs[self.names[(spec.kind, scope)]] = self._body(spec, scope)

    def _body(self, spec: KindSpec, scope: Kind | None) -> Schema:
        section = SECTIONS.get(spec.kind, _GENERIC)
        required = [a.name for a in spec.attributes if a.required and _allowed(a.scopes, scope)]
        title = section.title or spec.kind.value
        body: Schema = {"title": f"{_SCOPES[scope][1]} {title.lower()}" if spec.kind in self.split else title}
        if section.description:
            body["description"] = section.description
        body["type"] = "object" if required else ["object", "null"]
        if required:
            body["required"] = required
        body["properties"] = {**_attributes(spec, scope), **self.sections(spec.kind), **RESOURCE_KEYS}
        body["additionalProperties"] = False
        return body

    def sections(self, scope: Kind | None) -> dict[str, Schema]:
        """The sections of the kinds that may be declared in ``scope``, in config order."""
        out: dict[str, Schema] = {}
        for spec in self.order:
            if scope not in spec.parents:
                continue
            section = SECTIONS.get(spec.kind, _GENERIC)
            body = ref(self.names[(spec.kind, scope)])
            if section.shape is not None:
                value = section.shape(body, section.names, section.listing, self.defs)
            else:
                value = {
                    "description": section.listing,
                    "type": "object",
                    "propertyNames": section.names,
                    "additionalProperties": body,
                }
            shared = len(spec.parents) > 1 and spec.kind not in self.split
            if shared:
                self.defs[_camel(spec.section)] = value
            out[spec.section] = ref(_camel(spec.section)) if shared else value
        return out


_SCOPES = {None: ("org", "Organisation"), Kind.POD: ("pod", "Pod"), Kind.INBOX: ("inbox", "Inbox")}


def _attributes(spec: KindSpec, scope: Kind | None) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for attr in spec.attributes:
        if _allowed(attr.scopes, scope):
            out[attr.name] = {**(attr.schema or {}), **({"description": attr.description} if attr.description else {})}
    return out


def _allowed(scopes: frozenset[Kind | None] | None, scope: Kind | None) -> bool:
    return scopes is None or scope in scopes


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.capitalize() for word in rest)
