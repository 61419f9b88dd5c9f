"""Pagination for every list family (spec §4, §11 Q6, Q7): `limit`, opaque `page_token`,
`next_page_token` absent on the last page, `count` = items on the page, default order,
`ascending`, limit > 100 and bad tokens -> 400, configurable default page size."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from agentmail import AgentMail, CreateBearerApiKeyRequest
from contract_harness import Sandbox, raises_api_error

N = 5  # items created per family; pages of 2 give 2 + 2 + 1
SCRAMBLE = [3, 0, 4, 1, 2]  # list entries are created out of entry order


@dataclass(frozen=True)
class Family:
    """How to fill one list family and how to page it. `make` returns (scope, keys in creation
    order); `page` lists one page; `key` identifies an item; `order` is the default order."""

    name: str
    make: Callable[[AgentMail, int], tuple[Any, list[str]]]
    page: Callable[[AgentMail, Any], Callable[..., Any]]
    items: str
    key: Callable[[Any], str]
    order: str = "newest"  # or "entry" (list entries: by entry, ascending)
    ascending: bool = True


def _pod(c: AgentMail) -> str:
    return c.pods.create(name="paged").pod_id


def _inbox(c: AgentMail) -> Any:
    return c.inboxes.create()


def _n(n: int, make: Callable[[int], str]) -> list[str]:
    out = []
    for i in range(n):
        out.append(make(i))
        time.sleep(0.003)  # distinct created_at milliseconds, so the expected order is unambiguous
    return out


def _make_pods(c: AgentMail, n: int) -> tuple[Any, list[str]]:
    return None, _n(n, lambda i: c.pods.create(name=f"pod-{i}").pod_id)


def _make_pod_children(kind: str) -> Callable[[AgentMail, int], tuple[Any, list[str]]]:
    def make(c: AgentMail, n: int) -> tuple[Any, list[str]]:
        pod = _pod(c)
        create = {
            "inboxes": lambda i: c.pods.inboxes.create(pod, username=f"pi{i}").inbox_id,
            "domains": lambda i: c.pods.domains.create(pod, domain=f"pd{i}.example").domain_id,
            "webhooks": lambda i: (
                c.pods.webhooks.create(pod, url=f"https://h.example/{i}", event_types=["message.received"]).webhook_id
            ),
            "api_keys": lambda i: (
                c.pods.api_keys.create(pod, request=CreateBearerApiKeyRequest(name=f"k{i}")).api_key_id
            ),
            "lists": lambda i: c.pods.lists.create(pod, "receive", "block", entry=f"e{SCRAMBLE[i]}@x.example").entry,
        }[kind]
        return pod, _n(n, create)

    return make


def _make_inbox_children(kind: str) -> Callable[[AgentMail, int], tuple[Any, list[str]]]:
    def make(c: AgentMail, n: int) -> tuple[Any, list[str]]:
        inbox = _inbox(c).inbox_id
        create = {
            "webhooks": lambda i: (
                c.inboxes.webhooks.create(
                    inbox, url=f"https://h.example/{i}", event_types=["message.received"]
                ).webhook_id
            ),
            "api_keys": lambda i: (
                c.inboxes.api_keys.create(inbox, request=CreateBearerApiKeyRequest(name=f"k{i}")).api_key_id
            ),
            "lists": lambda i: c.inboxes.lists.create(inbox, "send", "allow", entry=f"d{SCRAMBLE[i]}.example").entry,
            "drafts": lambda i: (c.inboxes.drafts.create(inbox, subject=f"draft {i}"), f"draft {i}")[1],
        }[kind]
        return inbox, _n(n, create)

    return make


def _make_org(kind: str) -> Callable[[AgentMail, int], tuple[Any, list[str]]]:
    def make(c: AgentMail, n: int) -> tuple[Any, list[str]]:
        create = {
            "inboxes": lambda i: c.inboxes.create().inbox_id,
            "domains": lambda i: c.domains.create(domain=f"od{i}.example").domain_id,
            "webhooks": lambda i: (
                c.webhooks.create(url=f"https://h.example/{i}", event_types=["message.received"]).webhook_id
            ),
            "api_keys": lambda i: c.api_keys.create(request=CreateBearerApiKeyRequest(name=f"k{i}")).api_key_id,
            "lists": lambda i: c.lists.create("reply", "block", entry=f"u{SCRAMBLE[i]}@y.example").entry,
        }[kind]
        return None, _n(n, create)

    return make


def _make_mail(c: AgentMail, n: int) -> tuple[Any, list[str]]:
    sender = c.inboxes.create()
    recipient = c.pods.inboxes.create(_pod(c), username="paged-recipient")
    subjects = _n(
        n,
        lambda i: (
            c.inboxes.messages.send(sender.inbox_id, to=[recipient.inbox_id], subject=f"mail {i}", text="hi"),
            f"mail {i}",
        )[1],
    )
    return recipient, subjects


def _make_pod_drafts(c: AgentMail, n: int) -> tuple[Any, list[str]]:
    inbox = c.pods.inboxes.create(_pod(c), username="drafter")
    return inbox.pod_id, _n(
        n, lambda i: (c.inboxes.drafts.create(inbox.inbox_id, subject=f"draft {i}"), f"draft {i}")[1]
    )


def _id(field: str) -> Callable[[Any], str]:
    return lambda item: getattr(item, field)


FAMILIES = [
    Family("pods", _make_pods, lambda c, s: c.pods.list, "pods", _id("pod_id")),
    Family("org inboxes", _make_org("inboxes"), lambda c, s: c.inboxes.list, "inboxes", _id("inbox_id")),
    Family(
        "pod inboxes",
        _make_pod_children("inboxes"),
        lambda c, s: lambda **kw: c.pods.inboxes.list(s, **kw),
        "inboxes",
        _id("inbox_id"),
    ),
    Family("org domains", _make_org("domains"), lambda c, s: c.domains.list, "domains", _id("domain_id")),
    Family(
        "pod domains",
        _make_pod_children("domains"),
        lambda c, s: lambda **kw: c.pods.domains.list(s, **kw),
        "domains",
        _id("domain_id"),
    ),
    Family("org webhooks", _make_org("webhooks"), lambda c, s: c.webhooks.list, "webhooks", _id("webhook_id")),
    Family(
        "pod webhooks",
        _make_pod_children("webhooks"),
        lambda c, s: lambda **kw: c.pods.webhooks.list(s, **kw),
        "webhooks",
        _id("webhook_id"),
    ),
    Family(
        "inbox webhooks",
        _make_inbox_children("webhooks"),
        lambda c, s: lambda **kw: c.inboxes.webhooks.list(s, **kw),
        "webhooks",
        _id("webhook_id"),
    ),
    Family("org api keys", _make_org("api_keys"), lambda c, s: c.api_keys.list, "api_keys", _id("api_key_id")),
    Family(
        "pod api keys",
        _make_pod_children("api_keys"),
        lambda c, s: lambda **kw: c.pods.api_keys.list(s, **kw),
        "api_keys",
        _id("api_key_id"),
        ascending=False,
    ),
    Family(
        "inbox api keys",
        _make_inbox_children("api_keys"),
        lambda c, s: lambda **kw: c.inboxes.api_keys.list(s, **kw),
        "api_keys",
        _id("api_key_id"),
        ascending=False,
    ),
    Family(
        "org list entries",
        _make_org("lists"),
        lambda c, s: lambda **kw: c.lists.list("reply", "block", **kw),
        "entries",
        _id("entry"),
        "entry",
        False,
    ),
    Family(
        "pod list entries",
        _make_pod_children("lists"),
        lambda c, s: lambda **kw: c.pods.lists.list(s, "receive", "block", **kw),
        "entries",
        _id("entry"),
        "entry",
        False,
    ),
    Family(
        "inbox list entries",
        _make_inbox_children("lists"),
        lambda c, s: lambda **kw: c.inboxes.lists.list(s, "send", "allow", **kw),
        "entries",
        _id("entry"),
        "entry",
        False,
    ),
    Family(
        "inbox messages",
        _make_mail,
        lambda c, s: lambda **kw: c.inboxes.messages.list(s.inbox_id, **kw),
        "messages",
        _id("subject"),
    ),
    Family(
        "inbox threads",
        _make_mail,
        lambda c, s: lambda **kw: c.inboxes.threads.list(s.inbox_id, **kw),
        "threads",
        _id("subject"),
    ),
    Family(
        "pod threads",
        _make_mail,
        lambda c, s: lambda **kw: c.pods.threads.list(s.pod_id, **kw),
        "threads",
        _id("subject"),
    ),
    Family(
        "inbox drafts",
        _make_inbox_children("drafts"),
        lambda c, s: lambda **kw: c.inboxes.drafts.list(s, **kw),
        "drafts",
        _id("subject"),
    ),
    Family(
        "pod drafts", _make_pod_drafts, lambda c, s: lambda **kw: c.pods.drafts.list(s, **kw), "drafts", _id("subject")
    ),
]
ASCENDING = [f for f in FAMILIES if f.ascending]


def _ids(family: Family) -> str:
    return family.name.replace(" ", "-")


def collect(list_page: Callable[..., Any], family: Family, **kwargs: Any) -> list[list[str]]:
    """Follow next_page_token to the end; return the keys on each page."""
    pages: list[list[str]] = []
    token = None
    while True:
        page = list_page(**kwargs, **({"page_token": token} if token else {}))
        items = getattr(page, family.items)
        assert page.count == len(items), f"count {page.count} != {len(items)} items on the page"
        pages.append([family.key(item) for item in items])
        token = page.next_page_token
        if token is None:
            return pages
        assert len(pages) <= 50, "pagination does not terminate"


def expected(family: Family, created: list[str], ascending: bool = False) -> list[str]:
    if family.order == "entry":
        return sorted(created)
    return list(created) if ascending else list(reversed(created))


@pytest.mark.parametrize("family", FAMILIES, ids=_ids)
def test_pages_cover_every_item_once_in_default_order(sandbox: Sandbox, family: Family) -> None:
    scope, created = family.make(sandbox.client, N)
    list_page = family.page(sandbox.client, scope)
    pages = collect(list_page, family, limit=2)
    everything = [key for page in pages for key in page]
    assert all(len(page) <= 2 for page in pages) and len(everything) == len(set(everything))
    assert [k for k in everything if k in created] == expected(family, created)
    assert everything == [key for page in collect(list_page, family, limit=100) for key in page]


@pytest.mark.parametrize("family", ASCENDING, ids=_ids)
def test_ascending_lists_oldest_first(sandbox: Sandbox, family: Family) -> None:
    scope, created = family.make(sandbox.client, N)
    pages = collect(family.page(sandbox.client, scope), family, limit=2, ascending=True)
    assert [k for page in pages for k in page if k in created] == expected(family, created, ascending=True)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids)
def test_limit_over_100_and_bad_page_tokens_are_400(sandbox: Sandbox, family: Family) -> None:
    scope, _ = family.make(sandbox.client, 1)
    list_page = family.page(sandbox.client, scope)
    with raises_api_error(400, "validation_error"):
        list_page(limit=101)
    for token in ("not-a-token", "eyJvZmZzZXQiOiAxfQ", "%%%"):
        with raises_api_error(400, "validation_error"):
            list_page(page_token=token)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids)
def test_default_page_size_is_configurable(sandbox: Sandbox, family: Family) -> None:
    scope, _ = family.make(sandbox.client, 3)
    sandbox.configure(page_size=2)
    first = family.page(sandbox.client, scope)()
    assert first.count == 2 and first.next_page_token is not None
