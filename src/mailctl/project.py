"""The Python API: plan and apply a mailctl config from application code (a signup handler).

    from mailctl import Project

    project = Project(config={"version": 1, "pods": {...}}, sandbox="sandbox.db")
    plan = project.plan(target=["pod/tenant-acme"])
    for change in plan.changes:
        print(change.action, change.address)
    result = project.apply(plan, secrets=lambda record: vault.put(record.address, record.secret))
    assert result.ok

It runs the same workflows as the CLI (``mailctl.ops``): the same lock, safety rails, two-phase
keys and data-loss gate. ``apply`` executes exactly the plan it is given (the state is re-read
under the lock and anything that moved is refused), and never asks: the plan object is the
approval, so rails that need a person (data loss) refuse unless ``allow_data_loss``. Errors are
mailctl's exception classes (``mailctl.errors``); a bad config raises ``ConfigError`` whose
``problems`` carry file, line and field path.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailctl import project_args as arguments
from mailctl.api.budget import FASTEST, SLOWEST, Budget
from mailctl.api.client import AgentMailClient
from mailctl.api.connect import open_sandbox
from mailctl.api.timeouts import DEFAULT_TIMEOUT
from mailctl.apply import DONE, FAILED, ApplyResult, StepResult
from mailctl.errors import MailctlError, UnsafePlan, UsageError
from mailctl.ops import planning
from mailctl.ops.apply import ApplyHooks, ApplyOptions, open_sink, run_apply
from mailctl.plan.changes import Change, Refusal
from mailctl.plan.changes import Plan as PlanData
from mailctl.plan.drift import DriftReport
from mailctl.plan.planfile import RecordedPlan, plan_differences
from mailctl.plan.render import plan_to_json
from mailctl.plan.shards import Shard
from mailctl.plan.targeting import matching_nothing
from mailctl.resources import DesiredState

if TYPE_CHECKING:
    from mailctl.config.files import Skipped

CONFIG_LABEL = "<config>"  # what problems in a ``config=`` dict are located in


@dataclass(frozen=True)
class SecretRecord:
    """A new API key's secret, handed to the ``secrets`` callback once, before the key is named."""

    address: str
    api_key_id: str
    prefix: str | None
    secret: str
    created_at: str

    def __repr__(self) -> str:  # never print the secret by accident
        return f"SecretRecord(address={self.address!r}, api_key_id={self.api_key_id!r}, secret=<hidden>)"


class _CallbackSink:
    """The secrets callback as the writer's secret store: the key is named only once the callback
    returned; if it raises or returns an awaitable, the key is deleted and the change fails.

    Apply runs changes in worker threads; the callback is called from them, one call at a time
    (never two at once), so a store that is not thread-safe needs no lock of its own. What a call
    raised is kept (``errors``, the report's ``callback_errors``) but never put in a message: its
    text may hold the secret. A KeyboardInterrupt or SystemExit it raises stops the apply (no new
    change starts) and is raised again once the changes in flight have finished."""

    path = "the secrets callback"

    def __init__(self, callback: Callable[[SecretRecord], object], stop: threading.Event):
        self._callback = callback
        self._calling = threading.Lock()
        self._stop = stop
        self.written: list[str] = []
        self.errors: dict[str, Exception] = {}
        self.interrupt: BaseException | None = None

    def store(self, address: str, response: dict[str, Any]) -> None:
        record = SecretRecord(
            address=address,
            api_key_id=str(response.get("api_key_id")),
            prefix=response.get("prefix"),
            secret=str(response.get("api_key")),
            created_at=str(response.get("created_at") or datetime.now(UTC).isoformat()),
        )
        with self._calling:
            if self.interrupt is not None:
                raise MailctlError(f"the secrets callback stopped the apply before {address}; the key was not kept")
            try:
                returned = self._callback(record)
            except Exception as exc:  # the caller's code: any failure means "not recorded"
                self.errors[address] = exc
                raise MailctlError(
                    f"the secrets callback failed for {address} ({_type_name(exc)}; the exception is "
                    f"ApplyReport.callback_errors[{address!r}]); the key was not kept"
                ) from None
            except BaseException as exc:  # KeyboardInterrupt, SystemExit: delete the key, then stop
                self.interrupt = exc
                self._stop.set()
                raise MailctlError(
                    f"the secrets callback raised {_type_name(exc)} for {address}; the key was not kept"
                ) from None
            if inspect.isawaitable(returned) or inspect.isgenerator(returned):
                close = getattr(returned, "close", None)
                if callable(close):
                    close()  # never run, never "was never awaited"
                what = "an awaitable" if inspect.isawaitable(returned) else "a generator"
                raise MailctlError(
                    f"the secrets callback returned {what} ({_type_name(returned)}) for {address}, whose "
                    "code has not run: it must store the secret before it returns; the key was not kept"
                )
            self.written.append(address)


def _type_name(value: object) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _unrun_by_a_call(callback: object) -> str | None:
    """What ``callback`` is when calling it runs none of its body (an ``async def`` or a generator
    function, or an object whose ``__call__`` is one), else None: apply cannot use it."""
    for f in (callback, type(callback).__call__):
        if inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
            return "an async function"
        if inspect.isgeneratorfunction(f):
            return "a generator function"
    return None


@dataclass(frozen=True)
class Plan:
    """A plan, typed: ``changes`` (each with ``address``, ``action``, ``reason``, ``diff``...),
    ``refusals`` (what apply would refuse, and why) and ``to_dict()`` (the ``plan --format json``
    document). It is the approval: ``changes`` and ``refusals`` are tuples, and apply refuses a
    plan whose ``data`` was edited after ``Project.plan`` made it."""

    data: PlanData
    _recorded: RecordedPlan = field(repr=False)
    _shard: Shard | None = field(default=None, repr=False)  # apply re-plans the same shard, under its lock

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(self.data.changes)

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        return tuple(self.data.refusals)

    @property
    def has_changes(self) -> bool:
        return self.data.has_changes

    def summary(self) -> str:
        return self.data.summary()

    def to_dict(self) -> dict[str, Any]:
        return plan_to_json(self.data)


@dataclass
class ApplyReport:
    """What apply did: ``done``, ``failed``, ``skipped``, ``deferred`` and ``not_started`` steps
    (another shard's creates it waited for apart: ``found``, ``waited_for``),
    the addresses whose secrets went to the callback or file, and what the secrets callback raised
    for the keys it failed (address -> the exception; never in a message or the repr, since its
    text may hold the secret)."""

    results: list[StepResult]
    secrets_recorded: list[str]
    callback_errors: dict[str, Exception] = field(default_factory=dict, repr=False)
    # The changes went through, but releasing the apply lock failed: it may still be held (the
    # message says which and how to remove it); until it is, every apply is refused.
    lock_left: str | None = None

    def _having(self, outcome: str) -> list[StepResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def done(self) -> list[StepResult]:
        return self._having(DONE)

    @property
    def failed(self) -> list[StepResult]:
        return self._having(FAILED)

    @property
    def skipped(self) -> list[StepResult]:
        """Changes of this apply skipped (what they depend on failed)."""
        return ApplyResult(self.results).skipped

    @property
    def deferred(self) -> list[StepResult]:
        """Changes of this apply left for later (a domain to verify, another shard's work)."""
        return ApplyResult(self.results).deferred

    @property
    def waited_for(self) -> list[StepResult]:
        """What other shards create, waited for in vain (``StepResult.shard`` names the shard)."""
        return ApplyResult(self.results).waited_for

    @property
    def found(self) -> list[StepResult]:
        """What other shards create, waited for and found (not in ``done``: no change of this apply)."""
        return ApplyResult(self.results).found

    @property
    def not_started(self) -> list[StepResult]:
        """Changes of this apply an interrupt left unstarted."""
        return ApplyResult(self.results).not_started

    @property
    def ok(self) -> bool:
        """Everything done: nothing failed, skipped, deferred or left (the lock included)."""
        return ApplyResult(self.results).ok and not self.deferred and self.lock_left is None


class SkippedFile(UserWarning):
    """A file a config directory holds that mailctl leaves alone (the CLI names it on stderr)."""


class TargetMatchesNothing(UserWarning):
    """A ``drift(target=...)`` pattern that matches nothing declared or existing (the CLI warns on stderr)."""


def _warn_skipped(skipped: Skipped) -> None:
    warnings.warn(str(skipped).removeprefix("warning: "), SkippedFile, stacklevel=_callers_level())


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside mailctl, seen from the function calling this:
    a warning is the caller's line, as filters by module expect, not the loader's."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


# The workflows' hints, in the Python API's words (its arguments, not the CLI's flags).
_HOOKS = ApplyHooks(secrets_hint="pass secrets= (a callback, or a file path)")


class Project:
    """A config (a dict, or files) and where to apply it (an embedded sandbox, or an endpoint).
    ``rate_limit``: the organisation's requests per second, if known (the CLI's ``--rate-limit``)."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        files: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
        sandbox: str | os.PathLike[str] | None = None,
        endpoint: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        rate_limit: float | None = None,
    ):
        if (config is None) == (files is None):
            raise UsageError("Project needs exactly one of config= (a dict) or files= (paths)")
        if sandbox is not None and endpoint is not None:
            raise UsageError("Project takes sandbox= or endpoint=, not both")
        self._config: object = config
        self._files = arguments.files(files) if files is not None else None
        self._sandbox = str(sandbox) if sandbox is not None else None
        self._memory: Any = None  # sandbox=":memory:": the in-process sandbox every call uses
        self._memory_lock = threading.Lock()
        for name, text in (("endpoint", endpoint), ("api_key", api_key)):
            if text is not None and not isinstance(text, str):
                raise UsageError(f"{name} must be text, not a {type(text).__name__}")
        self._endpoint = endpoint
        self._api_key = api_key if api_key is not None else os.environ.get("AGENTMAIL_API_KEY")
        self._timeout = arguments.seconds("timeout", timeout, positive=True, maximum=arguments.MAX_TIMEOUT)
        try:  # one budget for every client of this project: an apply does not find it unspent after a plan
            if isinstance(rate_limit, bool):  # True is no rate
                raise TypeError
            self._budget = Budget(rate_limit) if rate_limit is not None else None
        except (ValueError, TypeError, OverflowError):
            wanted = f"{SLOWEST:g} to {FASTEST:,.0f} requests per second"
            raise UsageError(f"rate_limit must be {wanted}, not {arguments.shown(rate_limit)}") from None

    # -- the workflows ---------------------------------------------------------------------------

    def load(self) -> DesiredState:
        """The desired state, validated (raises ``ConfigError`` with every located problem)."""
        from mailctl.config import load_config, load_texts
        from mailctl.config.python_data import config_text

        if self._config is not None:
            return load_texts({CONFIG_LABEL: config_text(self._config, CONFIG_LABEL)}).state
        assert self._files is not None
        return load_config(self._files, on_skip=_warn_skipped).state

    def plan(
        self,
        target: Sequence[str] | str = (),
        exclude: Sequence[str] | str = (),
        shard: str | None = None,
    ) -> Plan:
        """Read the actual state and plan (read-only). ``target`` / ``exclude``: an address or glob,
        or a list of them; ``shard``: ``"K/N"``."""
        targets, excludes = arguments.patterns("target", target), arguments.patterns("exclude", exclude)
        shard_spec = arguments.shard(shard)
        planned = self._planned(targets, excludes, shard_spec)
        recorded = RecordedPlan.of(planned.plan, planned.desired, planned.actual, targets, excludes, shard=shard_spec)
        return Plan(planned.plan, recorded, shard_spec)

    def apply(
        self,
        plan: Plan,
        secrets: Callable[[SecretRecord], object] | str | os.PathLike[str] | None = None,
        force: bool = False,
        allow_data_loss: bool = False,
        wait_for_domains: float = 0.0,
        lock_timeout: float = 0.0,
        parallelism: int = 10,
    ) -> ApplyReport:
        """Apply exactly ``plan``, under the apply lock, with the CLI's rails. ``secrets``: a
        callback called once per new key (before the key is named), or a secrets file path."""
        if not isinstance(plan, Plan):
            raise UsageError("Project.apply takes the Plan that Project.plan returned")
        edited = plan_differences(plan._recorded.changes, plan.data)
        if edited:
            raise UnsafePlan(
                "the plan was edited after Project.plan() made it, and apply executes only the plan as made:\n"
                + "\n".join(edited[:50])
                + "\nNothing was changed. Run `Project.plan()` again."
            )
        for name, value in (("force", force), ("allow_data_loss", allow_data_loss)):
            arguments.flag(name, value)
        wait_for_domains = arguments.seconds("wait_for_domains", wait_for_domains)
        lock_timeout = arguments.seconds("lock_timeout", lock_timeout)
        parallelism = arguments.whole("parallelism", parallelism, 1, arguments.MAX_PARALLELISM)
        if secrets is not None and not callable(secrets) and not isinstance(secrets, str | os.PathLike):
            raise UsageError(
                f"secrets must be a callback or a file path, not a {type(secrets).__name__} (nothing was changed)"
            )
        unrun = _unrun_by_a_call(secrets)
        if unrun is not None:
            raise UsageError(
                f"secrets= is {unrun}, whose body a call does not run (apply calls it from worker threads "
                "and awaits nothing): pass a plain function that stores the secret before it returns "
                "(nothing was changed)"
            )
        stop = threading.Event()
        callback = _CallbackSink(secrets, stop) if callable(secrets) else None
        sink: Any = callback
        if secrets is not None and not callable(secrets):
            sink = open_sink(str(Path(secrets)))
        options = ApplyOptions(
            auto_approve=True,
            force=force,
            allow_data_loss=allow_data_loss,
            wait_for_domains=wait_for_domains,
            lock_timeout=lock_timeout,
            workers=parallelism,
            shard=plan._shard,
        )
        recorded = plan._recorded
        with self._client() as client:
            outcome = run_apply(client, recorded.desired, options, _HOOKS, sink, saved=recorded, stop=stop)
        if callback is not None and callback.interrupt is not None:
            raise callback.interrupt  # the key it was given is deleted; the changes in flight finished
        results = outcome.result.results if outcome.result is not None else []
        errors = dict(callback.errors) if callback is not None else {}
        lock_left = None if outcome.lock_left is None else str(outcome.lock_left)
        return ApplyReport(results, list(sink.written) if sink is not None else [], errors, lock_left)

    def drift(
        self, target: Sequence[str] | str = (), exclude: Sequence[str] | str = (), shard: str | None = None
    ) -> DriftReport:
        """How reality differs from the config (read-only): ``changed``, ``missing``,
        ``undeclared``, ``unmanaged``, ``has_drift`` and ``summary()`` as ``drift --format json``.
        ``target``, ``exclude`` and ``shard`` narrow it (and what it reads) as they narrow a plan;
        a ``target`` that matches nothing declared or existing is a ``TargetMatchesNothing``
        warning (a mistyped tenant would otherwise read as "no drift")."""
        targets, excludes = arguments.patterns("target", target), arguments.patterns("exclude", exclude)
        planned = self._planned(targets, excludes, arguments.shard(shard))
        for pattern in matching_nothing(targets, {*planned.desired.resources, *planned.actual.resources}):
            warnings.warn(
                f"target {pattern!r} matches nothing declared or existing: this report checked nothing there",
                TargetMatchesNothing,
                stacklevel=2,
            )
        return DriftReport.from_plan(planned.plan)

    def _planned(self, targets: list[str], excludes: list[str], shard: Shard | None) -> planning.Planned:
        desired = self.load()
        with self._client() as client:
            planning.share_pace(client, desired, shard)
            return planning.make_plan(client, desired, targets, excludes, shard)

    # -------------------------------------------------------------------------------------------

    def _client(self) -> AgentMailClient:
        with self._memory_lock:  # one for the project's lifetime, whichever thread asks first
            if self._sandbox == ":memory:" and self._memory is None:
                self._memory = open_sandbox(self._sandbox)
        return planning.open_client(
            self._endpoint, self._sandbox, self._api_key, self._timeout, self._budget, sandbox_app=self._memory
        )


__all__ = ["ApplyReport", "Plan", "Project", "SecretRecord", "SkippedFile", "TargetMatchesNothing"]
