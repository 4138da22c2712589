"""The only module that touches the CRDT engine (pycrdt): apply, merge, diff, render.

Workspace shape (see docs/collab.md, version 1): a Y.Map `fields`, a Y.Text `notes`,
a Y.Array `checklist`, a Y.Array `conditions` and a Y.Text `decision`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pycrdt import Array, Doc, Map, Text, TransactionEvent, get_update, merge_updates

from eakte.collab import ydecode

WORKSPACE_VERSION = 1
EMPTY_UPDATE = b"\x00\x00"
FIELD_KEYS = (
    "title",
    "description",
    "site_address",
    "site_gemarkung",
    "site_flurstueck",
    "applicant_name",
    "applicant_email",
)
ROOTS: dict[str, type[Any]] = {
    "fields": Map,
    "notes": Text,
    "checklist": Array,
    "conditions": Array,
    "decision": Text,
}


class InvalidUpdate(ValueError):
    """The CRDT engine rejected bytes as an update or state vector."""

    def __init__(self, message: str, *, decode: bool) -> None:
        super().__init__(message)
        self.decode = decode  # True: nothing was applied (the bytes did not decode)


MERGE_FAN_IN = 32  # updates per call of the engine's merge


def merge(updates: list[bytes]) -> bytes:
    """One update equivalent to all of `updates`.

    In rounds of MERGE_FAN_IN: yrs' merge of n updates costs more than n times one of a few
    (500 group-commit rows, as a compaction folds them: 9.5 ms in one call, 2.6 ms in rounds
    of 32; the same bytes).
    """
    if not updates:
        return EMPTY_UPDATE
    while len(updates) > MERGE_FAN_IN:
        updates = [
            chunk[0] if len(chunk) == 1 else bytes(merge_updates(*chunk))
            for chunk in (
                updates[i : i + MERGE_FAN_IN] for i in range(0, len(updates), MERGE_FAN_IN)
            )
        ]
    if len(updates) == 1:
        return updates[0]
    return bytes(merge_updates(*updates))


class Workspace:
    """A case's shared document; `apply` returns what an update actually changed."""

    def __init__(self, *updates: bytes) -> None:
        # 32-bit client ids like Yjs: y-py (and older yrs) mangle pycrdt's 53-bit default ids
        self.doc: Doc = Doc(client_id=secrets.randbits(32))
        self._delta: list[bytes] = []
        self.changes = 0  # counts transactions that changed the document (cache key)
        self._sv: tuple[int, dict[int, int]] = (-1, {})
        self._deleted: tuple[int, dict[int, list[tuple[int, int]]]] = (-1, {})
        self.fields_changed = False  # set when `fields` changes; the projection clears it
        self.fields_version = 0  # counts changes of `fields`
        self._fields_subscription = self.doc.get("fields", type=Map).observe(self._on_fields)
        for update in updates:
            if update:
                self.doc.apply_update(update)
        self._delta.clear()
        self.fields_changed = False

    def _on_fields(self, _event: Any) -> None:
        self.fields_changed = True
        self.fields_version += 1

    def _on_change(self, event: TransactionEvent) -> None:
        self.changes += 1
        self._delta.append(event.update)

    @contextmanager
    def _recording(self) -> Iterator[None]:
        """Collect the updates of the transactions inside (`_delta`).

        The document is observed only while the server edits it itself or applies an update
        it has not decoded (another instance's commit): for every checked client update the
        room already knows what is new (`apply` with runs), and an observer would have yrs
        encode every transaction's update again for nothing.
        """
        self._delta.clear()
        subscription = self.doc.observe(self._on_change)
        try:
            yield
        finally:
            self.doc.unobserve(subscription)

    def _recorded(self) -> bytes | None:
        delta = merge(self._delta) if self._delta else None
        self._delta.clear()
        return delta

    @property
    def client_id(self) -> int:
        """The client id under which the server's own edits are made."""
        return int(self.doc.client_id)

    def clocks(self) -> dict[int, int]:
        """The state vector as {client: next clock} (kept current by every change)."""
        if self._sv[0] != self.changes:
            self._sv = (self.changes, ydecode.decode_state_vector(self.state_vector()))
        return self._sv[1]

    def deleted(self) -> dict[int, list[tuple[int, int]]]:
        """Every deleted clock range of the document (cached until the next change)."""
        if self._deleted[0] != self.changes:
            own = bytes(self.doc.get_update(self.doc.get_state()))  # no structs: the delete set
            self._deleted = (self.changes, ydecode.merged_ranges(ydecode.shape(own).deletes))
        return self._deleted[1]

    def missing(self, update: bytes) -> bytes:
        """The part of `update` this document does not have yet (structs sliced, deletes kept)."""
        return diff_update(update, self.state_vector())

    def apply(self, update: bytes, runs: list[ydecode.ClientRun] | None = None) -> bytes | None:
        """Apply `update`; the effective change, or None if it added nothing new.

        `runs`: `ydecode.shape(update).runs` of an update the room has checked to be new and
        complete (`Room._check`: every run starts at the document's clock, nothing missing):
        then the update itself is the change, and the clocks advance by its runs. Without
        them the change is what yrs integrated (observed).
        """
        if runs is None:
            with self._recording():
                self._apply(update)
            return self._recorded()
        try:
            self._apply(update)
        except InvalidUpdate:
            self.changes += 1  # whatever part of it was applied: the caches are stale
            raise
        self.changes += 1
        if self._sv[0] == self.changes - 1:  # keep the cached state vector current
            clocks = self._sv[1]
            for run in runs:
                if run.end > clocks.get(run.client, 0):
                    clocks[run.client] = run.end
            self._sv = (self.changes, clocks)
        return update

    def _apply(self, update: bytes) -> None:
        try:
            self.doc.apply_update(update)
        except Exception as exc:  # pycrdt raises ValueError and friends, never panics
            message = str(exc) or exc.__class__.__name__
            raise InvalidUpdate(message, decode="decode" in message.lower()) from exc

    def state_vector(self) -> bytes:
        """The encoded state vector (what sync step 1 sends)."""
        return bytes(self.doc.get_state())

    def diff(self, state_vector: bytes | None = None) -> bytes:
        """Everything the holder of `state_vector` is missing (all of it for None)."""
        try:
            return bytes(self.doc.get_update(state_vector))
        except Exception as exc:
            raise InvalidUpdate(str(exc) or "invalid state vector", decode=True) from exc

    def set_fields(self, values: dict[str, str]) -> bytes | None:
        """Write `values` into the `fields` map; the resulting update."""
        fields = self.doc.get("fields", type=Map)
        with self._recording(), self.doc.transaction():
            for key, value in values.items():
                fields[key] = value
        return self._recorded()

    def restore_fields(self, values: dict[str, Any]) -> bytes | None:
        """Set `fields` keys back to `values` (None: remove the key); the resulting update."""
        fields = self.doc.get("fields", type=Map)
        with self._recording(), self.doc.transaction():
            for key, value in values.items():
                if value is None:
                    if key in fields:
                        del fields[key]
                else:
                    fields[key] = value
        return self._recorded()

    def replace_content(self, target: dict[str, Any], *, with_fields: bool) -> bytes | None:
        """Make the content equal `target` (a `to_json()` result) as one new edit."""
        with self._recording(), self.doc.transaction():
            for name in ("notes", "decision"):
                root = self._root(name)
                if root is not None:
                    _replace_text(root, str(target.get(name) or ""))
            for name in ("checklist", "conditions"):
                root = self._root(name)
                wanted = list(target.get(name) or [])
                if root is not None and root.to_py() != wanted:
                    del root[0 : len(root)]
                    for item in wanted:
                        root.append(Map(item) if isinstance(item, dict) else item)
            fields = self._root("fields")
            if with_fields and fields is not None:
                old = target.get("fields") or {}
                for key in FIELD_KEYS:
                    value = old.get(key)
                    if value is None and key in fields:
                        del fields[key]
                    elif value is not None and fields.get(key) != value:
                        fields[key] = value
        return self._recorded()

    def _root(self, name: str) -> Any:
        try:
            return self.doc.get(name, type=ROOTS[name])
        except Exception:  # a client used the name for another type: render nothing
            return None

    def fields(self) -> dict[str, Any]:
        """The `fields` map as plain JSON values."""
        root = self._root("fields")
        return dict(root.to_py() or {}) if root is not None else {}

    def to_json(self) -> dict[str, Any]:
        """The workspace as JSON (the HTTP view)."""
        out: dict[str, Any] = {"version": WORKSPACE_VERSION}
        for name, kind in ROOTS.items():
            root = self._root(name)
            if root is None:
                out[name] = {} if kind is Map else [] if kind is Array else ""
            elif kind is Text:
                out[name] = str(root)
            else:
                value = root.to_py()
                out[name] = value if value is not None else ({} if kind is Map else [])
        return out


def _replace_text(text: Text, new: str) -> None:
    """Edit `text` into `new` touching only the differing middle (keeps others' cursors)."""
    current = str(text)
    if current == new:
        return
    start = 0
    limit = min(len(current), len(new))
    while start < limit and current[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and current[-1 - end] == new[-1 - end]:
        end += 1
    if len(current) - end > start:
        del text[start : len(current) - end]
    middle = new[start : len(new) - end]
    if middle:
        text.insert(start, middle)


def render_markdown(workspace: dict[str, Any], *, title: str) -> str:
    """A readable Markdown rendering of a workspace JSON (for named versions)."""
    lines = [f"# {title}", ""]
    fields = workspace.get("fields") or {}
    if fields:
        lines += ["## Angaben (fields)", ""]
        lines += [f"- **{key}**: {fields[key]}" for key in sorted(fields)]
        lines.append("")
    lines += ["## Vermerk (notes)", "", workspace.get("notes") or "_(leer)_", ""]
    lines += ["## Checkliste (checklist)", ""]
    for item in workspace.get("checklist") or []:
        if isinstance(item, dict):
            mark = "x" if item.get("done") else " "
            by = f" ({item['by']})" if item.get("by") else ""
            lines.append(f"- [{mark}] {item.get('text', '')}{by}")
        else:
            lines.append(f"- {item}")
    lines += ["", "## Nebenbestimmungen (conditions)", ""]
    for number, item in enumerate(workspace.get("conditions") or [], start=1):
        text = item.get("text", item) if isinstance(item, dict) else item
        lines.append(f"{number}. {text}")
    lines += ["", "## Entscheidungsentwurf (decision)", "", workspace.get("decision") or "_(leer)_"]
    return "\n".join(lines) + "\n"


def diff_update(update: bytes, state_vector: bytes) -> bytes:
    """The part of `update` that the holder of `state_vector` is missing."""
    try:
        return bytes(get_update(update, state_vector))
    except Exception as exc:
        raise InvalidUpdate(str(exc) or "invalid state vector", decode=True) from exc
