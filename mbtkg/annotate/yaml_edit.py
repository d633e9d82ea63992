"""Edits of a session file's annotations that lose nothing, written atomically.

The file is parsed with ruamel.yaml's round-trip loader, which keeps comments, key order, flow
or block style and quoting; one annotation is added, changed or removed; the file is dumped
again. Before any edit the writer checks that dumping the unedited file gives back exactly its
bytes: a file the writer would reformat is refused rather than rewritten, so everything the
edit does not touch stays byte for byte what it was.

A write happens only when the file on disk is still the version (SHA-256) the page loaded, and
goes to a temporary file in the same folder that then replaces the original in one rename.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..sessions.yaml_reader import ANNOTATION_KEYS
from .workspace import Workspace, check_text, version_of

#: The fields of an annotation the page may set: every field the format has.
FIELDS = ANNOTATION_KEYS
_MAX_TEXT = 10_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class EditConflict(InputError):
    """The file changed on disk since the page loaded it; nothing was written."""


class EditRefused(InputError):
    """An edit that would lose or break something; nothing was written."""


def _yaml() -> Any:
    try:
        from ruamel.yaml import YAML
    except ImportError as exc:  # pragma: no cover - the annotate extra is missing
        raise InputError(
            "mbtkg annotate writes with ruamel.yaml: pip install 'mbtkg[annotate]'"
        ) from exc
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1_000_000  # never wrap a long line the file wrote on one line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _load(text: str, name: str) -> Any:
    from ruamel.yaml.error import YAMLError

    try:
        doc = _yaml().load(text)
    except YAMLError as exc:
        raise EditRefused(
            f"{name}: the YAML does not parse ({exc.__class__.__name__}); fix it in an editor first"
        ) from None
    if _dump(doc) != text:
        raise EditRefused(
            f"{name}: the writer would change parts of this file you did not edit (its layout is "
            "one ruamel.yaml does not reproduce); edit it in a text editor instead"
        )
    if not hasattr(doc, "get"):
        raise EditRefused(f"{name}: the file is not a mapping of session, turns, annotations")
    return doc


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise EditRefused(f"'{field}' must be non-empty text of at most {_MAX_TEXT} characters")
    return value


def _clean(fields: Mapping[str, object]) -> dict[str, Any]:
    """Check the types of the fields the page sent; the reader and shapes check the rest."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in FIELDS:
            raise EditRefused(
                f"unknown annotation field {key!r} (expected one of {', '.join(FIELDS)})"
            )
        if value is None:
            out[key] = None
        elif key in ("id", "annotator", "suggested"):
            if not isinstance(value, str) or not _ID.match(value) or len(value) > 100:
                raise EditRefused(
                    f"'{key}' must be an id like a12 (letters, digits, . _ -), found {value!r}"
                )
            out[key] = value
        elif key == "concept":
            out[key] = _text(value, key)
        elif key in ("quote", "note"):
            out[key] = DoubleQuotedScalarString(_text(value, key))
        elif key == "turns":
            span = value if isinstance(value, list) else [value]
            if not 1 <= len(span) <= 2 or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 < v < 10**7 for v in span
            ):
                raise EditRefused(f"'turns' must be a turn id or [first, last], found {value!r}")
            if len(span) == 1 or span[0] == span[1]:
                out[key] = span[0]
            else:
                seq = CommentedSeq(span)
                seq.fa.set_flow_style()
                out[key] = seq
        elif key == "confidence":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise EditRefused(f"'confidence' must be a number from 0 to 1, found {value!r}")
            out[key] = float(value)
        elif key == "relations":
            if not isinstance(value, dict) or len(value) > 50:
                raise EditRefused("'relations' must map a relation name to annotation ids")
            rel = CommentedMap()
            for name, targets in value.items():
                ids = targets if isinstance(targets, list) else [targets]
                if (
                    not isinstance(name, str)
                    or not _ID.match(name)
                    or not ids
                    or not all(isinstance(t, str) and _ID.match(t) for t in ids)
                ):
                    raise EditRefused(f"relation {name!r} must name annotation ids")
                if len(ids) == 1:
                    rel[name] = ids[0]
                else:
                    seq = CommentedSeq(ids)
                    seq.fa.set_flow_style()
                    rel[name] = seq
            rel.fa.set_flow_style()
            out[key] = rel if rel else None
    return out


def _annotations(doc: Any) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    items = doc.get("annotations")
    if items is None:
        items = CommentedSeq()
        doc["annotations"] = items
    if not isinstance(items, list):
        raise EditRefused("'annotations' is not a list; fix it in an editor first")
    return items


def _find(items: Any, annotation_id: str) -> int:
    for i, item in enumerate(items):
        if hasattr(item, "get") and str(item.get("id")) == annotation_id:
            return i
    raise EditRefused(f"no annotation with id {annotation_id!r} in this file")


def _new_id(items: Any, annotator: object) -> str:
    taken = {str(i.get("id")) for i in items if hasattr(i, "get")}
    prefix = "n"
    for item in items:
        if hasattr(item, "get") and item.get("annotator") == annotator:
            m = re.match(r"^([A-Za-z]+)\d+$", str(item.get("id")))
            if m:
                prefix = m.group(1)
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def apply_edit(text: str, name: str, edit: Mapping[str, object]) -> tuple[str, str]:
    """The file's new text after one edit, and the id of the annotation edited.

    ``edit`` is ``{"op": "add", "fields": {...}}``, ``{"op": "update", "id": ..., "fields":
    {...}}`` (a field set to None is removed) or ``{"op": "remove", "id": ...}``.
    """
    from ruamel.yaml.comments import CommentedMap

    doc = _load(text, name)
    items = _annotations(doc)
    op = edit.get("op")
    raw = edit.get("fields") or {}
    if not isinstance(raw, dict):
        raise EditRefused("'fields' must be a mapping of annotation fields")
    fields = _clean(raw)
    if op == "add":
        item = CommentedMap()
        fields.setdefault("id", None)
        if fields["id"] is None:
            fields["id"] = _new_id(items, fields.get("annotator"))
        elif any(hasattr(i, "get") and str(i.get("id")) == fields["id"] for i in items):
            raise EditRefused(f"an annotation with id {fields['id']!r} exists already")
        for key in FIELDS:
            if fields.get(key) is not None:
                item[key] = fields[key]
        previous = next((i for i in reversed(items) if hasattr(i, "fa")), None)
        if previous is None or previous.fa.flow_style():
            item.fa.set_flow_style()
        items.append(item)
        edited = str(item["id"])
    elif op in ("update", "remove"):
        target = edit.get("id")
        if not isinstance(target, str):
            raise EditRefused(f"'{op}' needs the id of the annotation")
        position = _find(items, target)
        if op == "remove":
            _remove(items, position)
        else:
            item = items[position]
            for key, value in fields.items():
                if value is None:
                    item.pop(key, None)
                elif not _same(item.get(key), value):  # an unchanged value keeps its quoting
                    item[key] = value
        edited = target
    else:
        raise EditRefused(f"unknown edit {op!r} (expected add, update or remove)")
    return _dump(doc), edited


def _same(old: object, new: object) -> bool:
    if isinstance(old, dict) and isinstance(new, dict):
        return set(old) == set(new) and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list) or isinstance(new, list):
        old_list = old if isinstance(old, list) else [old]
        new_list = new if isinstance(new, list) else [new]
        return old_list == new_list
    return (
        type(old) is type(new)
        and old == new
        or (isinstance(old, str) and isinstance(new, str) and str(old) == str(new))
    )


def _remove(items: Any, position: int) -> None:
    """Remove an item; comments written above it stay, above the item that takes its place.

    ruamel.yaml's delete shifts the comments of later items itself but drops the removed
    item's own.
    """
    above = items.ca.items.get(position)
    if above is not None and position + 1 >= len(items):
        raise EditRefused(
            "the last annotation has a comment above it; removing it would drop the comment: "
            "edit the file in a text editor instead"
        )
    if above is not None and position + 1 in items.ca.items:
        raise EditRefused("comments above two neighbouring annotations cannot be merged")
    del items[position]
    if above is not None:
        items.ca.items[position] = above


class FileWriter:
    """Writes edits to the files of a workspace, one at a time, only over the version seen."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()

    def edit(self, name: str, version: str, edit: Mapping[str, object]) -> tuple[str, str]:
        """Apply an edit if the file is still at ``version``; return (new version, id edited).

        Raises EditConflict when the file changed on disk, EditRefused when the edit would
        lose formatting or leave a file the reader cannot read.
        """
        with self._lock:
            path = self.workspace.path(name)
            data = self.workspace.read_bytes(name)
            if version_of(data) != version:
                raise EditConflict(
                    f"{name} changed on disk since the page loaded it; reload to see the new "
                    "version (your edit was not saved)"
                )
            new_text, edited = apply_edit(data.decode("utf-8"), name, edit)
            checked = check_text(name, new_text, "")
            if checked.session is None:
                first = checked.problems[0].message if checked.problems else "unreadable"
                raise EditRefused(f"the edit would leave {name} unreadable: {first}")
            encoded = new_text.encode("utf-8")
            _atomic_write(path, encoded)
            return version_of(encoded), edited


def _atomic_write(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
