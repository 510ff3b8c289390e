"""Secret values are never printed: one place that knows what a secret value is and hides it.

Two tools, used together by every command that prints fleet content (explain, validate,
diff, error messages; not build/render, which print what kustomize prints):

- ``mask_object``: a Secret with its ``data`` / ``stringData`` replaced (a value, or the whole
  field when it is not a mapping) and its ``last-applied-configuration`` annotation, which
  holds a copy of them, hidden;
- ``redact``: TEXT with every known secret value replaced by ``<masked>``, in plain and
  base64 form. The values come from ``object_values`` (rendered Secrets) and ``tree_values``
  (the Secrets and ``secretGenerator`` literals written in a repository's YAML files).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import marshal
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from time import time_ns
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from gitops_gen.repo.tree import Stamp

MASK = "<masked>"
MASK_CHANGED = "<masked: changed>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SECTIONS = ("data", "stringData")
# Shorter values are too likely to be ordinary words or numbers of the output to replace blindly.
MIN_LENGTH = 6
FLEET_DIRS = ("apps", "clusters", "mapping")
VALUES_MEMO, VALUES_FORMAT = "secret-values.marshal", 1
_SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def is_secret(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("kind") == "Secret" and obj.get("apiVersion", "v1") == "v1"


def mask_object(obj: dict[str, Any], reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """OBJ with its secret content hidden; with REFERENCE (the previous version), values that
    differ read ``<masked: changed>``. Objects other than Secrets come back as they are."""
    if not is_secret(obj):
        return obj
    masked = dict(obj)
    for section in SECTIONS:
        if section not in obj:
            continue
        values = obj[section]
        ref = (reference or {}).get(section)
        if not isinstance(values, Mapping):
            masked[section] = MASK if reference is None or ref == values else MASK_CHANGED
            continue
        ref = ref if isinstance(ref, Mapping) else {}
        masked[section] = {
            k: (MASK if reference is None or ref.get(k) == v or k not in ref else MASK_CHANGED)
            for k, v in values.items()
        }
    meta = obj.get("metadata")
    if (
        isinstance(meta, Mapping)
        and isinstance(meta.get("annotations"), Mapping)
        and LAST_APPLIED in meta["annotations"]
    ):
        masked["metadata"] = {**meta, "annotations": {**meta["annotations"], LAST_APPLIED: MASK}}
    return masked


def _forms(value: Any, encoded: bool) -> set[str]:
    """VALUE as written, and its base64 twin (decoded when ENCODED, encoded otherwise)."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return set()
    text = str(value)
    out = {text}
    if encoded:
        try:
            decoded = base64.b64decode(text, validate=True).decode("utf-8")
            out.add(decoded)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
    else:
        out.add(base64.b64encode(text.encode()).decode())
    return out


def _section_values(values: Any, encoded: bool) -> set[str]:
    if isinstance(values, Mapping):
        return {f for v in values.values() for f in _forms(v, encoded)}
    if isinstance(values, list):
        return {f for v in values for f in _forms(v, encoded)}
    return _forms(values, encoded)


def object_values(obj: Any) -> set[str]:
    """Every secret value OBJ carries (a Secret's data, stringData and last-applied copy of them)."""
    if not is_secret(obj):
        return set()
    out = _section_values(obj.get("data"), True) | _section_values(obj.get("stringData"), False)
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if isinstance(annotations, Mapping) and isinstance(annotations.get(LAST_APPLIED), str):
        text = annotations[LAST_APPLIED]
        out.add(text)
        with contextlib.suppress(ValueError, TypeError):
            out |= object_values({"kind": "Secret", **json.loads(text)})
    return {v for v in out if len(v) >= MIN_LENGTH}


def generator_values(kustomization: Any) -> set[str]:
    """The literal values of a kustomization's secretGenerator entries, plain and base64."""
    out: set[str] = set()
    generators = kustomization.get("secretGenerator") if isinstance(kustomization, Mapping) else None
    for gen in generators if isinstance(generators, list) else []:
        literals = gen.get("literals") if isinstance(gen, Mapping) else None
        for literal in literals if isinstance(literals, list) else []:
            if isinstance(literal, str) and "=" in literal:
                out |= _forms(literal.split("=", 1)[1].strip("'\""), False)
    return {v for v in out if len(v) >= MIN_LENGTH}


def values_of(objects: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for obj in objects:
        out |= object_values(obj) | generator_values(obj)
    return out


@cache
def tree_values(root: Path) -> frozenset[str]:
    """Secret values written in the YAML files of ROOT's fleet directories (Secrets, secretGenerator literals).

    Every file is read on a first run; later runs take each file that had settled (``tree.settled``)
    and still has its stamp from the memo (the values it held), and read only the others.
    """
    from gitops_gen.repo import memo

    where = memo.memo_path(root, VALUES_MEMO)
    data = memo.load(where, VALUES_FORMAT) if where is not None else None
    known: dict[str, Any] = data["files"] if data is not None and isinstance(data.get("files"), dict) else {}
    started = time_ns()
    found: set[str] = set()
    kept: dict[str, tuple[Stamp, tuple[str, ...]]] = {}
    top = str(root)
    for directory, dirs, files in (w for sub in FLEET_DIRS for w in os.walk(os.path.join(top, sub))):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            if not name.endswith((".yaml", ".yml")):
                continue
            full = os.path.join(directory, name)
            values, entry = memo.by_stamp(known, full, full, started, _file_values)
            if entry is not None:
                kept[full] = entry
            found.update(values)
    if where is not None and kept != known:
        memo.store(where, VALUES_FORMAT, {"files": kept})
    return frozenset(found)


def _file_values(path: str) -> tuple[str, ...]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return ()
    if b"Secret" not in raw and b"secretGenerator" not in raw:
        return ()
    try:
        return tuple(sorted(values_of(yaml.load_all(raw, Loader=yaml.CSafeLoader))))
    except yaml.YAMLError:
        return ()


def escaped_forms(value: str) -> set[str]:
    """VALUE as the output formats may spell it: JSON (ASCII-escaped or not), XML (junit, sarif viewers),
    YAML single-quoted. A value with a quote or a non-ASCII letter is otherwise out of reach of a plain
    search once a reporter has encoded it."""
    from html import escape

    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        escape(value),
        escape(value, quote=False),
        value.replace("'", "''"),
    }


def redact(text: str, values: Iterable[str]) -> str:
    """TEXT with every one of VALUES (in each of its escaped forms) replaced by <masked>, longest first
    (a value inside another)."""
    forms = {f for v in values if len(v) >= MIN_LENGTH for f in escaped_forms(v)}
    for value in sorted({f for f in forms if f in text}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


_roots: list[Path] = []


def note_root(root: Path) -> Path:
    """Remember ROOT as the repository this process works on (``scrub`` hides its secret values)."""
    if root not in _roots:
        _roots.append(root)
    return root


# root -> (pid, read end of its pipe) of a child process working out tree_values(root) (``prefetch``)
_pending: dict[Path, tuple[int, int]] = {}


def prefetch(root: Path) -> None:
    """Start working out ``tree_values(ROOT)`` in a child process, on another CPU, for a command that
    will print (diff): the walk of every fleet file then costs no wall time. Nothing happens on one CPU
    or where this process may not fork (``workers.fork_safe``); ``scrub`` takes the answer."""
    from gitops_gen import workers

    if root in _pending or (os.cpu_count() or 1) < 2 or not workers.fork_safe():
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The child: the values down the pipe, then out without running any of the parent's exit code.
        code = 1
        try:
            os.close(read)
            data = marshal.dumps(tuple(sorted(tree_values(root))))
            with os.fdopen(write, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _pending[root] = (pid, read)


def _values(root: Path) -> frozenset[str]:
    pending = _pending.pop(root, None)
    if pending is not None:
        pid, read = pending
        with os.fdopen(read, "rb") as handle:
            data = handle.read()
        _, status = os.waitpid(pid, 0)
        if status == 0:
            with contextlib.suppress(ValueError, EOFError, TypeError):
                values = marshal.loads(data)
                if isinstance(values, tuple) and all(isinstance(v, str) for v in values):
                    return frozenset(values)
    return tree_values(root)  # no child, or it failed: here


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """TEXT with the secret values of the noted repositories (and EXTRA) hidden."""
    if not text.strip():
        return text  # nothing to hide: reading every fleet file for the values would cost more than the run
    values = set(extra)
    for root in _roots:
        values |= _values(root)
    return redact(text, values)
