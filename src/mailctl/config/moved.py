"""``moved:`` blocks, checked offline: only what the API can do in place is accepted.

A block ``{from: OLD, to: NEW}`` says the resource at OLD now lives at NEW (Terraform's ``moved``).
The planner turns it into an in-place rename; here every block the API could not honour is a
located error saying why: a kind whose name is fixed (``KindSpec.rename`` is None, its
``fixed_name`` says why), a change of scope, a target that is not declared, a source that still
is, and blocks that chain (``a -> b``, ``b -> c``) or collide (two from one address, or into one).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailctl.config.loader import Document, FieldPath
from mailctl.errors import Problem
from mailctl.kinds import SPECS
from mailctl.resources import DesiredState, Kind, Moved, kind_of, parent_of


@dataclass(frozen=True)
class MoveBlock:
    doc: Document
    path: FieldPath  # of the block: ("moved", index)
    source_address: str
    target_address: str


def check_moves(blocks: list[MoveBlock], state: DesiredState) -> list[Problem]:
    """Every problem with the blocks; the good ones are added to ``state.moved``."""
    problems: list[Problem] = []
    first_from: dict[str, MoveBlock] = {}
    for block in blocks:
        first_from.setdefault(block.source_address, block)
    sources: dict[str, MoveBlock] = {}
    targets: dict[str, MoveBlock] = {}
    for block in blocks:
        # A chain first: its middle address is neither declared nor existing, which would
        # otherwise be reported as "not declared" and send the user the wrong way.
        why = _chain(block, first_from) or _refusal(block, state) or _clash(block, sources, targets)
        if why is not None:
            problems.append(block.doc.problem(block.path, why))
            continue
        sources[block.source_address] = block
        targets[block.target_address] = block
    bad = {(p.file, p.line) for p in problems}
    for block in sources.values():
        where = block.doc.mark(block.path)
        if (where.file, where.line) not in bad:
            state.moved.append(Moved(block.source_address, block.target_address, where))
    return problems


def _chain(block: MoveBlock, first_from: dict[str, MoveBlock]) -> str | None:
    """``a -> b`` while another block says ``b -> c``: reported once, at the ``a -> b`` block."""
    onward = first_from.get(block.target_address)
    if onward is None or onward is block:
        return None
    return (
        f"moves chain: {block.source_address} -> {block.target_address} -> {onward.target_address}; "
        f"write one block from the first address to the last"
    )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _refusal(block: MoveBlock, state: DesiredState) -> str | None:
    old, new = block.source_address, block.target_address
    try:
        old_kind, new_kind = Kind(kind_of(old)), Kind(kind_of(new))
    except ValueError:
        return f"`{old}` -> `{new}`: not resource addresses (e.g. pod/tenant-a/api_key/backend)"
    if old == new:
        return f"`{old}` is moved to itself"
    if old_kind != new_kind:
        return f"`{old}` is {_a(old_kind.value)}, `{new}` {_a(new_kind.value)}: a move keeps the kind"
    spec = SPECS[old_kind]
    if spec.rename is None:
        return f"{_a(old_kind.value)} cannot be renamed in place: {spec.fixed_name}"
    if parent_of(old) != parent_of(new):
        return (
            f"`{old}` -> `{new}` changes scope ({parent_of(old) or 'organisation'} -> "
            f"{parent_of(new) or 'organisation'}): the API cannot move {_a(old_kind.value)} to another scope"
        )
    if new not in state.resources:
        return f"`{new}` is not declared: declare it where the moved resource now lives"
    if old in state.resources:
        return f"`{old}` is still declared: a moved resource is declared at its new address only"
    return None


def _clash(block: MoveBlock, sources: dict[str, MoveBlock], targets: dict[str, MoveBlock]) -> str | None:
    for seen, address, what in (
        (sources, block.source_address, "from"),
        (targets, block.target_address, "to"),
    ):
        other = seen.get(address)
        if other is not None:
            return f"two moves {what} `{address}`: also at {other.doc.mark(other.path)}"
    return None
