"""Turn one planned step (create / update / delete of one resource) into API calls.

Every create is safe to retry: what each kind sends is its description's (``mailctl.kinds``),
and kinds with a deterministic ``client_id`` get the original object back from a repeated
create. API keys have none, and their secret is in the create response only, so a key is made
in two phases: it is created under its pending name, its secret is recorded durably in the
sink, and only then is it renamed to its declared name. A key under a declared name therefore
always has its secret recorded; a pending key left by a lost response or a killed run is
deleted before creating again, and the next plan replaces it ("secret never recorded").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from mailctl.api.change import PlannedUpdate as Change  # a Protocol: api never imports plan
from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.newest import Looks
from mailctl.api.paths import collection_path, item_path
from mailctl.api.responses import clip
from mailctl.errors import (
    ApiError,
    Deferred,
    InvalidRequest,
    MailctlError,
    NotFound,
    TransientError,
    UnexpectedResponse,
)
from mailctl.kinds import spec_of
from mailctl.kinds.base import replaced_name
from mailctl.resources import (
    DOMAIN,
    Kind,
    Resource,
    ancestors,
    kind_of,
    parent_of,
    split_address,
)
from mailctl.secrets import pending_name
from mailctl.text import shown

VERIFIED = "VERIFIED"


class SecretStore(Protocol):
    """Where a new key's secret is recorded durably before the key takes its name: the
    ``--secrets-out`` file (``mailctl.secrets.SecretSink``) or a Python API callback."""

    @property
    def path(self) -> Any: ...  # what messages call it

    @property
    def written(self) -> list[str]: ...  # addresses whose secret was recorded (never the secrets)

    def store(self, address: str, response: dict[str, Any]) -> None: ...


FOUND = "found"  # the status ``on_shard_wait`` is last called with, once the wait is over


class IdRegistry:
    """address -> remote id, seeded from the actual state and filled in as creates succeed."""

    def __init__(self, initial: dict[str, str]):
        self._ids = dict(initial)
        self._lock = threading.Lock()

    def get(self, address: str, default: str | None = None, /) -> str | None:
        with self._lock:
            return self._ids.get(address, default)

    def __getitem__(self, address: str) -> str:
        value = self.get(address)
        if value is None:
            raise KeyError(address)
        return value

    def set(self, address: str, remote_id: str) -> None:
        with self._lock:
            self._ids[address] = remote_id

    def forget(self, address: str) -> None:
        with self._lock:
            self._ids.pop(address, None)


class ApiWriter:
    def __init__(
        self,
        client: AgentMailClient,
        ids: IdRegistry,
        secrets: SecretStore | None = None,
        domain_wait: float = 0.0,
        poll_interval: float = 2.0,
        on_wait: Callable[[str, str, float], None] | None = None,
        stop: threading.Event | None = None,
        shard_wait: float = 0.0,
        on_shard_wait: Callable[[str, str, float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.ids = ids
        self.secrets = secrets
        self.domain_wait = domain_wait
        self.poll_interval = poll_interval
        self.on_wait = on_wait  # (domain, status, seconds waited) at every poll: progress for the CLI
        self.stop = stop or threading.Event()  # set: stop waiting for domains (apply was interrupted)
        self.shard_wait = shard_wait  # seconds to wait for what another shard creates
        self._looks = Looks()  # a look for what another shard creates reads what is new since the last
        self.on_shard_wait = on_shard_wait  # (address, status, seconds waited) at every poll
        self._sleep = sleep
        self._clock = clock
        self._verified: dict[str, bool] = {}
        self._waited: dict[str, float] = {}  # seconds each domain was waited for
        self._verify_lock = threading.Lock()

    # -- the three verbs -----------------------------------------------------------------------

    def create(self, resource: Resource, replacing: Resource | None = None) -> None:
        """Create ``resource``; ``replacing``: the existing one a create-first replacement deletes
        after this, renamed first (``replaced_name``) so an apply that stops in between leaves a
        key any machine recognises as the old half (the next plan deletes or replaces it)."""
        spec = spec_of(resource.kind)
        if replacing is not None and spec.rename is not None:
            mark = spec.rename(replaced_name(replacing.name))
            self.client.patch(item_path(replacing, self.ids, replacing.remote_id), mark)
        if spec.shows_secret_once:
            self._create_with_secret(resource)  # two-phase: its secret is recorded before it is named
            return
        _require_values(resource)
        body = spec.create_body(resource, self._remote_id)
        path = collection_path(resource, self.ids)
        if spec.uses(resource):
            created = self._create_on_domain(resource, path, body)
        else:
            created = self.client.post(path, body, idempotent=True)
        _check_is_the_one_sent(resource, body, created, path)
        field = spec.remote_id_field
        self.ids.set(resource.address, created[field] if field is not None else resource.name)
        if spec.verified and created.get("status") != VERIFIED:
            # Start verification now; inboxes on it check (and wait) before they are created.
            self._start_verification(item_path(resource, self.ids))
        late = spec.after_create(resource, created)
        if late:
            self.client.patch(item_path(resource, self.ids), late)

    def await_created(self, resource: Resource, owner: str) -> None:
        """Wait (up to ``shard_wait`` seconds) until another shard (``owner``) has created
        ``resource`` and, for a kind that must be verified, until it is verified; raise Deferred
        when the wait runs out. Its id is then known to this apply's creates. The scopes it lives
        in are that shard's too (this apply never read them): each is found by its identity (a pod
        by its client_id), and one not made yet is waited for like the resource itself."""
        spec = spec_of(resource.kind)
        started = self._clock()
        while True:
            missing = self._locate_scopes(resource)
            found = self._find(resource) if missing is None else None
            status = "not created yet" if missing is None else f"{missing} not created yet"
            waited = self._clock() - started
            if found is not None:
                self._remember(resource.address, found)
                # List rows carry no status; reading the item does (and lets a verification finish).
                if spec.verified:
                    status = str(self.client.get(item_path(resource, self.ids)).get("status") or "created")
                if not spec.verified or status == VERIFIED:
                    if self.on_shard_wait is not None:
                        self.on_shard_wait(resource.address, f"{FOUND}, made by shard {owner}", waited)
                    return
            if self.on_shard_wait is not None:
                self.on_shard_wait(resource.address, f"{status}, made by shard {owner}", waited)
            left = started + self.shard_wait - self._clock()
            if left <= 0 or self.stop.is_set():
                raise Deferred(
                    f"{status}: shard {owner} creates it, and it was not ready "
                    f"after {waited:.0f}s of --wait-for-shards {self.shard_wait:g}; re-run this shard "
                    f"once that shard has applied",
                    shard=owner,
                )
            self._sleep(min(self.poll_interval, left))

    def _locate_scopes(self, resource: Resource) -> str | None:
        """Learn the ids of the scopes ``resource`` lives in that this apply does not know (another
        shard's pod), outermost first; the address of the first that does not exist yet, or None."""
        for scope in reversed(ancestors(resource.parent)):
            kind = kind_of(scope)
            if spec_of(kind).name_is_id or self.ids.get(scope) is not None:
                continue
            row = self._find(Resource(kind, scope, parent=parent_of(scope)))
            if row is None:
                return scope
            self._remember(scope, row)
        return None

    def _remember(self, address: str, row: dict[str, Any]) -> None:
        field = spec_of(kind_of(address)).remote_id_field
        self.ids.set(address, row[field] if field is not None else split_address(address)[-1][1])

    def _find(self, resource: Resource) -> dict[str, Any] | None:
        """The API's row of ``resource`` (by its id, client_id or identity), or None."""
        spec = spec_of(resource.kind)
        wanted = spec.client_id(resource.address) if spec.client_id is not None else None
        identity = spec.identity(resource)
        path = collection_path(resource, self.ids)
        rows = self.client.paginate(path, spec.list_key or spec.route.strip("/").replace("-", "_"))
        for row in self._looks.rows(path, rows) if spec.newest_first else rows:
            if wanted is not None and row.get("client_id") == wanted:
                return row
            if (
                wanted is None
                and identity
                and all(str(row.get(k, "")).lower() == str(v).lower() for k, v in identity.items())
            ):
                return row
        return None

    def update(self, change: Change) -> None:
        assert change.desired is not None and change.actual is not None
        spec = spec_of(change.kind)
        changed = {d.path.split(".", 1)[0] for d in change.diff}
        body: dict[str, Any] = {}
        if change.moved_from is not None and spec.rename is not None:
            changed.discard("name")  # a rename in place (``moved``): same id, same secret
            body = spec.rename(change.desired.name)
        body |= spec.update_body(changed, change.desired.attrs, change.actual.attrs, self._known_remote_id)
        path = item_path(change.desired, self.ids, change.actual.remote_id)
        _require_values(change.desired, change.actual, changed)  # before any request: all or nothing
        if body:
            self.client.patch(path, body)
        for tail, values in spec.sub_updates(changed, change.desired, change.actual):
            self.client.patch(f"{path}/{tail}", values)  # write-only values: never in an error or log
        if change.actual.remote_id is not None:
            self.ids.set(change.desired.address, change.actual.remote_id)

    def delete(self, resource: Resource) -> None:
        try:
            self.client.delete(item_path(resource, self.ids, resource.remote_id))
        except NotFound:
            pass  # already gone: the goal is reached
        if resource.remote_id is None or self.ids.get(resource.address) == resource.remote_id:
            self.ids.forget(resource.address)  # not the id of a new one that replaced it first

    # -- creates -------------------------------------------------------------------------------

    def _remote_id(self, kind: Kind, name: str) -> str:
        """The remote id of the resource a create refers to (created earlier in this apply)."""
        spec = spec_of(kind)
        return name if spec.name_is_id else self.ids[spec.address(name, None)]

    def _known_remote_id(self, kind: Kind, name: str) -> str:
        spec = spec_of(kind)
        return name if spec.name_is_id else self.ids.get(spec.address(name, None)) or name

    def _create_with_secret(self, key: Resource) -> None:
        if self.secrets is None:
            raise MailctlError(f"{key.address}: no secret sink (--secrets-out) for the new key's secret")
        body = {**spec_of(key.kind).create_body(key, self._remote_id), "name": pending_name(key.name)}
        path = collection_path(key, self.ids)
        created = self._post_pending_key(key, path, body)
        _require_secret(created, path, self._discard_key)
        key_path = item_path(key, self.ids, created["api_key_id"])
        try:
            self.secrets.store(key.address, created)
        except MailctlError:
            self._discard_key(key_path)  # nobody can ever use it: never leave it behind
            raise
        try:
            self.client.patch(key_path, _rename_body(key))
        except MailctlError as exc:
            self._discard_key(key_path)
            raise MailctlError(
                f"the new key could not be given its name ({exc}); it was deleted "
                f"(its record in {self.secrets.path} is void)"
            ) from None
        self.ids.set(key.address, created["api_key_id"])

    def _post_pending_key(self, key: Resource, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(3):
            try:
                created: dict[str, Any] = self.client.post(path, body)
                return created
            except TransientError as exc:
                if not exc.ambiguous:
                    raise
                # The lost attempt may have made a key whose secret nobody received: remove it.
                self._delete_pending_keys(key, path)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _delete_pending_keys(self, key: Resource, path: str) -> None:
        name = pending_name(key.name)
        for row in self.client.list_all(path, "api_keys"):
            if row.get("name") == name and _same_scope(row, key, self.ids):
                self._discard_key(f"{path}/{quote_segment(row['api_key_id'])}")

    def _discard_key(self, key_path: str) -> None:
        """Best effort: a pending key that survives this is replaced by the next plan."""
        try:
            self.client.delete(key_path)
        except ApiError:
            pass  # gone already, or the API is unreachable: the next plan shows what is left

    # -- domains verification ------------------------------------------------------------------

    def _create_on_domain(self, inbox: Resource, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """An inbox on a custom domain needs the domain verified. The API refuses the create (422)
        when it is not, so the create is tried first and the domain's status read only then (or
        when this apply already found it unverified): a GET per domain saved when all is well."""
        address = self._domain_of(inbox)
        with self._verify_lock:
            known = self._verified.get(address) if address is not None else True
        if known is False:
            self._require_verified_domain(inbox)  # raises Deferred
        try:
            created: dict[str, Any] = self.client.post(path, body, idempotent=True)
        except InvalidRequest as exc:
            if address is None or known or exc.status != 422:
                raise
            self._require_verified_domain(inbox)  # waits, or raises Deferred
            return self.client.post(path, body, idempotent=True)  # verified: the API's answer stands
        if address is not None:
            with self._verify_lock:
                self._verified[address] = True
        return created

    def _domain_of(self, inbox: Resource) -> str | None:
        """The address of the custom domain mailctl knows that the inbox's address is on."""
        return next((a for a in spec_of(inbox.kind).uses(inbox) if self.ids.get(a) is not None), None)

    def _require_verified_domain(self, inbox: Resource) -> None:
        address = self._domain_of(inbox)
        domain = address.rpartition("/")[2] if address is not None else ""
        if address is None:
            return  # not a domain mailctl knows of; the API will answer if it is unusable
        with self._verify_lock:
            known = self._verified.get(address)
        if known is None:  # not checked yet; a domain already waited for is not waited for again
            known = self._wait_verified(address)
            with self._verify_lock:
                self._verified[address] = known
        if known:
            return
        if self.domain_wait:
            raise Deferred(
                f"domain {domain} is not verified after waiting {self._waited_text(address)}: "
                f"publish its DNS records (`mailctl dns`), then re-run apply"
            )
        raise Deferred(
            f"domain {domain} is not verified yet: publish its DNS records "
            f"(`mailctl dns`), then re-run apply, or use --wait-for-domains SECONDS"
        )

    def _waited_text(self, address: str) -> str:
        """How long the wait for a domain lasted: the limit, or the real time when a signal cut it short."""
        with self._verify_lock:
            waited = self._waited.get(address)
        if waited is None or waited >= self.domain_wait:
            return f"{self.domain_wait:g}s"
        return f"{waited:.1f}s of --wait-for-domains {self.domain_wait:g}s (the wait was interrupted)"

    def _wait_verified(self, address: str) -> bool:
        """Poll until VERIFIED or the wait is over, (re)starting verification when it is idle."""
        path = item_path(Resource(DOMAIN, address, parent=parent_of(address)), self.ids)
        started = self._clock()
        try:
            return self._poll_verified(address, path, started)
        finally:
            with self._verify_lock:
                self._waited[address] = self._clock() - started

    def _poll_verified(self, address: str, path: str, started: float) -> bool:
        while True:
            status = self.client.get(path).get("status")
            if status not in (VERIFIED, "VERIFYING"):
                self._start_verification(path)
                status = self.client.get(path).get("status")
            if self.on_wait is not None:
                self.on_wait(address.rpartition("/")[2], str(status), self._clock() - started)
            if status == VERIFIED:
                return True
            left = started + self.domain_wait - self._clock()
            if left <= 0 or self.stop.is_set():
                return False
            self._sleep(min(self.poll_interval, left))

    def _start_verification(self, domain_path: str) -> None:
        try:
            self.client.post(f"{domain_path}/verify", None, idempotent=True)
        except ApiError as exc:
            if exc.status != 409:  # 409: a verification is already running
                raise


def _require_secret(created: dict[str, Any], path: str, discard: Callable[[str], None]) -> None:
    """A key's create answer must carry its id and its secret as text: anything else is never
    recorded in the sink (a record without a usable secret would read as the current key). The key
    is deleted when its id is known; else it stays under its pending name, which the next plan
    repairs."""
    key_id, secret = created.get("api_key_id"), created.get("api_key")
    if isinstance(key_id, str) and key_id and isinstance(secret, str) and secret:
        return
    if isinstance(key_id, str) and key_id:
        discard(f"{path}/{quote_segment(key_id)}")
    raise UnexpectedResponse(
        200, "the new key's answer has no text 'api_key_id' and 'api_key' (its secret)", "POST", path
    )


def _require_values(desired: Resource, actual: Resource | None = None, changed: set[str] | None = None) -> None:
    """Refuse to send a write-only value that is not known here (a literal of the config, read
    back from a plan file): sending nothing in its place would be worse."""
    sent = spec_of(desired.kind).values_to_send(desired, actual, changed or ())
    unknown = sorted(f"{attr}.{name}" for attr, values in sent.items() for name, v in values.items() if v.value is None)
    if unknown:
        raise MailctlError(f"{desired.address}: the value of {', '.join(unknown)} is not known here; nothing was sent")


def _rename_body(key: Resource) -> dict[str, Any]:
    """The PATCH that gives a two-phase key its declared name (its kind says how it is renamed)."""
    rename = spec_of(key.kind).rename
    assert rename is not None, f"{key.kind} is made in two phases, so it must be renamable"
    return rename(key.name)


def _same_scope(row: dict[str, Any], key: Resource, ids: IdRegistry) -> bool:
    parent = key.parent
    if parent is None:
        return not row.get("pod_id") and not row.get("inbox_id")
    if parent_of(parent) is None:  # a pod
        return row.get("pod_id") == ids.get(parent) and not row.get("inbox_id")
    return (row.get("inbox_id") or "").lower() == parent.rsplit("/", 1)[1]


def _check_is_the_one_sent(resource: Resource, body: dict[str, Any], created: dict[str, Any], path: str) -> None:
    """A create's answer must be the object sent for: the same client_id, and the same name where
    the name is what the create sends (a domain's, a list entry's). Trusted blindly, an answer
    naming another tenant's pod would have this apply build inside it."""
    spec = spec_of(resource.kind)

    def same(got: str, sent: str) -> bool:
        return got.lower() == sent.lower() if spec.lowercase else got == sent

    expected = {"client_id": body.get("client_id")}
    expected.update((k, v) for k, v in spec.identity(resource).items() if v == resource.name)
    for field, sent in expected.items():
        got = created.get(field)
        if isinstance(sent, str) and got is not None and not (isinstance(got, str) and same(got, sent)):
            raise UnexpectedResponse(
                200,
                f"the answer is another object ({field} {shown(clip(str(got)))}, not {shown(sent)}); "
                f"nothing was built on it",
                "POST",
                path,
            )
