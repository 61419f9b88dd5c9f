"""News of the other shards of a config, for a shard told the rate limit (``apply --shard K/N
--rate-limit R``): when one has ended, its part of the budget is the running shards' to spend.

Each shard spends its part of the budget, its part being its share of the config's resources
(``Pacer.share``). That is right while the others run, and wrong once they have ended: a shard
whose siblings had nothing to change (their tenants already up to date) would keep a quarter of
the budget to itself for the whole run. The shards share no channel but the API. Each holds its
lock pod (``mailctl.api.lock``) while it runs and deletes it as it ends, so a sibling's lock pod
missing from a listing of the pods, or answering ``GET /v0/pods/{id}`` with 404, says that
sibling has ended. A round lists the pods where that costs no more than a request per sibling
still running (an organisation of up to 100 pods per such sibling), else asks for each.

The ids come from the pod listing the plan made (``StateReader.lock_rows``). A sibling whose lock
was not there (not started yet, or already done) is looked for once more in a listing of the pods
at the first round; absent from it too, it counts as ended (a shard that starts later still spends
its own part: the 429s that may cost are paced like any other).

Rounds cost requests from the same budget, so they are spaced to spend at most
:data:`POLL_SHARE` of this shard's part of it, and never closer than :data:`MIN_INTERVAL`; the
first comes :data:`FIRST_ROUND` s after the changes start, when a sibling with nothing to change
has ended. Their requests claim their turns in the pace ahead of the apply's waiting requests
(``AgentMailClient.first_in_line``): behind them, at a quarter of the budget, the first round's
news came 9-33 s late in ``bench/shards.py --layout 30,30,30,30@3``.

A round that fails (the API down, the client closed) ends the watch: the shard keeps the part it
has, as it did before there was news.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.listing import PAGE
from mailctl.api.lock import list_pods, lock_pods, shard_lock_id
from mailctl.api.pacing import Pacer
from mailctl.errors import MailctlError, NotFound

FIRST_ROUND = 1.0  # seconds after the changes start
MIN_INTERVAL = 2.0  # seconds between two rounds at least
POLL_SHARE = 0.03  # of this shard's part of the budget, at most, spent on rounds
JOIN_WAIT = 1.0  # seconds the end of the watch waits for a round in flight


class SiblingWatch:
    """While entered, a thread that tells ``pacer`` (``Pacer.sibling_ended``) which of the other
    shards of ``shard`` (K, N) have ended. ``seen``: the lock pods the plan's listing held;
    ``pods``: how many pods it listed (what listing them again costs)."""

    def __init__(
        self,
        client: AgentMailClient,
        pacer: Pacer,
        shard: tuple[int, int],
        seen: list[dict[str, str]],
        pods: int = 0,
    ):
        self.client = client.first_in_line()  # its news may free budget for the requests waiting
        self.pacer = pacer
        own, count = shard
        by_client_id = {row["client_id"]: row["pod_id"] for row in seen}
        self.running: dict[int, str | None] = {
            k: by_client_id.get(shard_lock_id(k, count)) for k in range(1, count + 1) if k != own
        }  # sibling K -> its lock pod's id (None: not seen yet)
        self.count = count
        self.pages = max(1, math.ceil(pods / PAGE))  # requests a listing of the pods costs
        self.ended: list[int] = []  # siblings found ended, in the order found
        self._listed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SiblingWatch:
        if self.running:
            self._thread = threading.Thread(target=self._run, name="mailctl-sibling-watch", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            # A round in flight against a slow API would hold the end of the apply for up to a
            # request's timeout: it is left to fail, unheard, once the client is closed.
            self._thread.join(JOIN_WAIT)

    def round(self) -> None:
        """Look once at every sibling still thought to run (raises what the API raises): in one
        listing of the pods where that costs no more than a request per sibling, and always the
        first time one was not seen. Its requests claim their turns ahead of the apply's."""
        unseen = any(pod_id is None for pod_id in self.running.values())
        if (unseen and not self._listed) or self.pages <= len(self.running):
            self._listed = True
            found = {row["client_id"]: row["pod_id"] for row in lock_pods(list_pods(self.client))}
            self.running = {k: found.get(shard_lock_id(k, self.count)) for k in self.running}
            gone = [k for k, pod_id in self.running.items() if pod_id is None]
        else:
            known = {k: pod_id for k, pod_id in self.running.items() if pod_id is not None}
            with ThreadPoolExecutor(max_workers=len(known) or 1, thread_name_prefix="mailctl-sibling") as pool:
                answers = dict(zip(known, pool.map(self._gone, known.values()), strict=True))
            gone = [k for k in self.running if answers.get(k, True)]  # never seen: see the module docstring
        if self._stop.is_set():
            return  # the apply has ended: its pacer no longer listens
        for k in gone:
            del self.running[k]
            self.ended.append(k)
            self.pacer.sibling_ended(k - 1)

    def interval(self) -> float:
        """Seconds until the next round: its requests at POLL_SHARE of this shard's pace."""
        rate = self.pacer.rate
        cost = min(self.pages, len(self.running))
        return MIN_INTERVAL if rate is None else max(MIN_INTERVAL, cost / (POLL_SHARE * rate))

    def _gone(self, pod_id: str) -> bool:
        try:
            pod: Any = self.client.get(f"/v0/pods/{quote_segment(pod_id)}")
        except NotFound:
            return True
        return not isinstance(pod, dict) or pod.get("pod_id") != pod_id

    def _run(self) -> None:
        wait = FIRST_ROUND
        while self.running and not self._stop.wait(wait):
            try:
                self.round()
            except MailctlError:
                return  # no news: this shard keeps the part it has
            except Exception:
                if self._stop.is_set():
                    return  # the client was closed under a round in flight (see __exit__)
                raise
            wait = self.interval()
