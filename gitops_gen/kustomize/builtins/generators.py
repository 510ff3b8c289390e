"""configMapGenerator, secretGenerator and generatorOptions, as kustomize v5.5 runs them.

Three steps, called by the build at kustomize's points:

- ``generate``: one kustomization's generators -> ConfigMaps (in order) then Secrets.
- ``absorb``: kustomize's appendReplaceOrMerge, folding generated objects into the
  accumulated resources (create / merge / replace).
- ``add_hash_suffixes``: kustomize's HashTransformer, run once at the end of the
  top-level build (after every kustomization's transformers and patches), appending
  ``-<hash>`` of the object's content to the name.

kustomize marks generator bookkeeping with internal annotations (generatorBehavior,
needsHashSuffix); we keep it in ``Resource.behavior`` / ``Resource.needs_hash`` so
nothing internal can leak into the output.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import Origin, Resource

GENERATOR_FIELDS = frozenset({"name", "namespace", "behavior", "literals", "files", "envs", "env", "options"})
SECRET_FIELDS = GENERATOR_FIELDS | {"type"}
OPTION_FIELDS = frozenset({"labels", "annotations", "disableNameSuffixHash", "immutable"})
BEHAVIORS = ("create", "merge", "replace")

# bufio.Scanner's default limit: kustomize stops reading an env file, silently, at the
# first line this long (it never checks the scanner's error).
MAX_ENV_LINE = 64 * 1024
# Go's unicode.IsSpace (Python's str.isspace also counts U+001C..U+001F).
GO_SPACES = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
BASE64_LINE = 70


# Which kustomization entry produced a generated resource, for absorb's error messages.
_ENTRIES: weakref.WeakKeyDictionary[Resource, tuple[tuple[str | int, ...], str]] = weakref.WeakKeyDictionary()


class GeneratorError(GitopsGenError):
    """A generator problem; ``node_path`` locates the entry in the kustomization file.

    ``path`` is left unset so the build can attribute it to the kustomization and, via
    ``node_path`` (e.g. ``("secretGenerator", 1, "literals", 0)``), to its line.
    """

    def __init__(self, message: str, node_path: tuple[str | int, ...] = ()):
        super().__init__(message)
        self.node_path = node_path


# ---------------------------------------------------------------------------------- options
def _check_map_of_strings(value: Any, where: tuple[str | int, ...], what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GeneratorError(f"{what} must be a mapping of strings", where)
    out: dict[str, str] = {}
    for key, item in value.items():
        # kustomize decodes into map[string]string: a bool or number is an error, null is "".
        if item is not None and not isinstance(item, str):
            raise GeneratorError(
                f"{what}: value of {key!r} must be a string, not {type(item).__name__}", (*where, key)
            )
        _check_arg_text(item or "", (*where, key), f"{what} {key!r}")
        out[str(key)] = item or ""
    return out


def _check_bool(value: Any, where: tuple[str | int, ...], what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise GeneratorError(f"{what} must be true or false", where)
    return value


def _node_text(where: tuple[str | int, ...]) -> str:
    """("configMapGenerator", 1, "options") -> "configMapGenerator[1].options"."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_options(raw: Any, where: tuple[str | int, ...]) -> dict[str, Any] | None:
    """A GeneratorOptions mapping, checked strictly (kustomize rejects unknown fields)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise GeneratorError("generator options must be a mapping", where)
    for key in raw:
        if key not in OPTION_FIELDS:
            raise GeneratorError(f"unknown field {key!r} in generator options", (*where, key))
    text = _node_text(where)
    return {
        "labels": None
        if raw.get("labels") is None
        else _check_map_of_strings(raw["labels"], (*where, "labels"), f"{text}.labels"),
        "annotations": None
        if raw.get("annotations") is None
        else _check_map_of_strings(raw["annotations"], (*where, "annotations"), f"{text}.annotations"),
        "disableNameSuffixHash": _check_bool(
            raw.get("disableNameSuffixHash"), where, "disableNameSuffixHash"
        ),
        "immutable": _check_bool(raw.get("immutable"), where, "immutable"),
    }


def merge_options(local: dict[str, Any] | None, global_: dict[str, Any] | None) -> dict[str, Any] | None:
    """kustomize's MergeGlobalOptionsIntoLocal: the generator's own labels/annotations win,
    global ones fill the gaps; either side can turn the two flags on, neither can turn them off."""
    if global_ is None:
        return local
    merged: dict[str, Any] = (
        dict(local)
        if local is not None
        else {"labels": None, "annotations": None, "disableNameSuffixHash": False, "immutable": False}
    )
    for key in ("labels", "annotations"):
        mine, theirs = merged.get(key), global_.get(key)
        if mine is None:
            merged[key] = dict(theirs) if theirs is not None else None
        else:
            merged[key] = {**(theirs or {}), **mine}
    merged["disableNameSuffixHash"] = bool(
        merged.get("disableNameSuffixHash") or global_.get("disableNameSuffixHash")
    )
    merged["immutable"] = bool(merged.get("immutable") or global_.get("immutable"))
    return merged


# ---------------------------------------------------------------------------------- sources
def parse_literal(source: str) -> tuple[str, str]:
    """``KEY=VALUE`` (split at the first ``=``); one pair of matching outer quotes is dropped."""
    if source.startswith("=") or "=" not in source:
        raise ValueError(f"invalid literal source {source!r}, expected key=value")
    key, value = source.split("=", 1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def go_base(path: str) -> str:
    """Go's path.Base: the last element, trailing slashes ignored."""
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if stripped == "":
        return "/"
    return stripped.rsplit("/", 1)[-1]


def parse_file_source(source: str) -> tuple[str, str]:
    """``path`` or ``key=path`` -> (key, path); the key defaults to the file's basename."""
    separators = source.count("=")
    if separators == 0:
        return go_base(source), source
    if separators == 1 and source.startswith("="):
        raise ValueError(f"missing key name for file path {source[1:]!r} in source {source!r}")
    if separators == 1 and source.endswith("="):
        raise ValueError(f"missing file path for key name {source[:-1]!r} in source {source!r}")
    if separators > 1:
        raise ValueError(f"source {source!r} key name or file path contains '='")
    key, path = source.split("=")
    return key, path


def _scan_lines(content: bytes) -> Iterator[bytes]:
    """bufio.ScanLines: split at LF, drop one CR before it, no empty token after a final LF."""
    start, end_of_data = 0, len(content)
    while start < end_of_data:
        newline = content.find(b"\n", start)
        end = end_of_data if newline < 0 else newline
        if end - start >= MAX_ENV_LINE:
            return
        line = content[start:end]
        yield line[:-1] if line.endswith(b"\r") else line
        start = end + 1


def parse_env(content: bytes) -> list[tuple[str, str]]:
    """An env file as kustomize reads it.

    Leading whitespace is dropped; blank lines and ``#`` lines are skipped; ``KEY=VALUE``
    splits at the first ``=`` with no unquoting and no trimming of the key's trailing
    spaces or of the value; ``KEY`` alone means an empty value; a line with an empty key
    (``=x``) is skipped. ``export`` is not special. A UTF-8 BOM is dropped on line 1 only.
    """
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(_scan_lines(content)):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"line {number + 1} has invalid UTF-8 bytes") from None
        if number == 0 and text.startswith("\ufeff"):
            text = text[1:]
        text = text.lstrip(GO_SPACES)
        if not text or text.startswith("#"):
            continue
        key, _, value = text.partition("=")
        if key:
            pairs.append((key, value))
    return pairs


def encode_base64(data: bytes) -> str:
    """kustomize's base64: lines of 70 characters, each ending in a newline once there are 70 or more."""
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) < BASE64_LINE:
        return encoded
    return "".join(encoded[i : i + BASE64_LINE] + "\n" for i in range(0, len(encoded), BASE64_LINE))


def _unprintable(text: str) -> str | None:
    """The first character kustomize cannot round-trip through its YAML, if any.

    Found against kubectl: DEL, the C1 controls but NEL, and U+FFFE/U+FFFF make it fail with
    "control characters are not allowed" (C0 controls are fine: they get escaped).
    """
    for ch in text:
        code = ord(ch)
        if (0x7F <= code <= 0x9F and code != 0x85) or code in (0xFFFE, 0xFFFF):
            return ch
    return None


# ---------------------------------------------------------------------------------- generate
def _string(value: Any, where: tuple[str | int, ...], what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise GeneratorError(f"{what} must be a string", where)
    _check_arg_text(value, where, what)
    return value


def _check_arg_text(value: str, where: tuple[str | int, ...], what: str) -> None:
    """kustomize round-trips generator arguments through YAML before using them."""
    bad = _unprintable(value)
    if bad is not None:
        raise GeneratorError(
            f"{what} contains the control character U+{ord(bad):04X}; kustomize fails on it "
            "(control characters are not allowed)",
            where,
        )
    if "\x85" in value:
        # The round trip folds NEL into whitespace; we refuse rather than guess the result.
        raise GeneratorError(
            f"{what} contains U+0085 (NEL), which kustomize silently rewrites: not supported", where
        )


def _strings(value: Any, where: tuple[str | int, ...], what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GeneratorError(f"{what} must be a list of strings", where)
    out = []
    for i, item in enumerate(value):
        out.append(_string(item, (*where, i), f"{what}[{i}]"))
    return out


def _load_pairs(
    args: dict[str, Any], where: tuple[str | int, ...], read_file: Callable[[str], bytes], label: str
) -> list[tuple[str, bytes | str]]:
    """All key/value pairs in kustomize's order: env files, then literals, then files."""
    pairs: list[tuple[str, bytes | str]] = []
    envs = _strings(args.get("envs"), (*where, "envs"), f"{label}: envs")
    env = _string(args.get("env"), (*where, "env"), f"{label}: env")
    if env:
        envs.append(env)
    for i, path in enumerate(envs):
        node = (*where, "envs", i) if i < len(envs) - (1 if env else 0) else (*where, "env")
        try:
            pairs.extend(parse_env(read_file(path)))
        except ValueError as err:
            raise GeneratorError(f"{label}: env file {path!r}: {err}", node) from None
    for i, literal in enumerate(_strings(args.get("literals"), (*where, "literals"), f"{label}: literals")):
        try:
            pairs.append(parse_literal(literal))
        except ValueError as err:
            raise GeneratorError(f"{label}: {err}", (*where, "literals", i)) from None
    for i, source in enumerate(_strings(args.get("files"), (*where, "files"), f"{label}: files")):
        try:
            key, path = parse_file_source(source)
        except ValueError as err:
            raise GeneratorError(f"{label}: {err}", (*where, "files", i)) from None
        pairs.append((key, read_file(path)))
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise GeneratorError(f"{label} illegally repeats the key `{key}`", where)
        seen.add(key)
    return pairs


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _config_map_data(
    pairs: list[tuple[str, bytes | str]], label: str, where: tuple[str | int, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, value in pairs:
        if isinstance(value, bytes):
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = encode_base64(value)
                continue
        else:
            text = value
        bad = _unprintable(text)
        if bad is not None:
            raise GeneratorError(
                f"{label}: value of key {key!r} contains the control character U+{ord(bad):04X}; "
                "kustomize fails on it (control characters are not allowed)",
                where,
            )
        data[key] = text
    return data, binary


def _make(
    kind: str,
    args: dict[str, Any],
    index: int,
    options: dict[str, Any] | None,
    read_file: Callable[[str], bytes],
    kust_path: str,
) -> Resource:
    field = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
    where: tuple[str | int, ...] = (field, index)
    allowed = GENERATOR_FIELDS if kind == "ConfigMap" else SECRET_FIELDS
    for key in args:
        if key not in allowed:
            raise GeneratorError(f"unknown field {key!r} in {field} entry", (*where, key))
    name = _string(args.get("name"), (*where, "name"), f"{field}[{index}]: name")
    if not name:
        raise GeneratorError(f"{field}[{index}]: a {kind} generator must have a name", where)
    label = f"{field} {name!r}"
    namespace = _string(args.get("namespace"), (*where, "namespace"), f"{label}: namespace")
    behavior = _string(args.get("behavior"), (*where, "behavior"), f"{label}: behavior")
    pairs = _load_pairs(args, where, read_file, label)

    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    if kind == "ConfigMap":
        data, binary = _config_map_data(pairs, label, where)
        # kyaml creates data/binaryData only when a key goes in.
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
    else:
        obj["type"] = _string(args.get("type"), (*where, "type"), f"{label}: type") or "Opaque"
        obj["data"] = {key: encode_base64(_as_bytes(value)) for key, value in pairs}
    if options is not None:
        if options.get("labels"):
            metadata["labels"] = dict(options["labels"])
        if options.get("annotations"):
            metadata["annotations"] = dict(options["annotations"])
        if options.get("immutable"):
            obj["immutable"] = True
    disable_hash = bool(options and options.get("disableNameSuffixHash"))
    res = Resource(
        obj=obj,
        origin=Origin(path=kust_path, kind="generator", field=field),
        # Anything but merge/replace behaves as create in kustomize (it does not validate).
        behavior=behavior if behavior in BEHAVIORS else "create",
        needs_hash=not disable_hash,
    )
    _ENTRIES[res] = (where, label)
    return res


def generate(
    kustomization: dict[str, Any], read_file: Callable[[str], bytes], kust_path: str
) -> list[Resource]:
    """The ConfigMaps then Secrets one kustomization generates, not yet absorbed or hashed."""
    global_options = parse_options(kustomization.get("generatorOptions"), ("generatorOptions",))
    out: list[Resource] = []
    for kind, field in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        entries = kustomization.get(field) or []
        if not isinstance(entries, list):
            raise GeneratorError(f"{field} must be a list", (field,))
        for index, args in enumerate(entries):
            if not isinstance(args, dict):
                raise GeneratorError(f"{field}[{index}] must be a mapping", (field, index))
            local = parse_options(args.get("options"), (field, index, "options"))
            options = merge_options(local, global_options)
            out.append(_make(kind, args, index, options, read_file, kust_path))
    return out


# ---------------------------------------------------------------------------------- absorb
def _scalar_text(value: Any) -> str:
    """A scalar as kyaml's node value reads (merges turn every value into a string)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): _scalar_text(v) for k, v in value.items()}


def _set_map(holder: dict[str, Any], key: str, mapping: dict[str, str]) -> None:
    """kyaml's set-map helpers: the field is rewritten, and dropped when empty."""
    holder.pop(key, None)
    if mapping:
        holder[key] = dict(sorted(mapping.items()))


ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def _merge_into(new: Resource, old: Resource, merge_data: bool) -> None:
    """kustomize's CopyMergeMetaDataFieldsFrom (+ data merges for ``merge``), old -> new."""
    meta = new.meta
    _set_map(meta, "labels", {**_string_map(old.labels()), **_string_map(new.labels())})
    _set_map(meta, "annotations", {**_string_map(old.annotations()), **_string_map(new.annotations())})
    meta["name"] = old.name
    if old.namespace:
        meta["namespace"] = old.namespace
    else:
        meta.pop("namespace", None)
    if merge_data:
        _set_map(new.obj, "data", {**_string_map(old.obj.get("data")), **_string_map(new.obj.get("data"))})
        _set_map(
            new.obj,
            "binaryData",
            {**_string_map(old.obj.get("binaryData")), **_string_map(new.obj.get("binaryData"))},
        )
    # Build annotations come from the old object, except that the hash request survives only
    # if both sides asked for it.
    new.prev_ids = list(old.prev_ids)
    new.needs_hash = old.needs_hash and new.needs_hash
    new.behavior = old.behavior
    step = Origin(new.origin.path, "merge", field=new.origin.field, line=new.origin.line)
    if merge_data:
        new.origin = old.origin  # kustomize keeps the original origin on merge
        kept = old.annotations().get(ORIGIN_ANNOTATION)
        if kept is not None:
            new.meta["annotations"][ORIGIN_ANNOTATION] = kept  # and its origin annotation (buildMetadata)
    if old.history is not None:
        new.history = list(old.history)
        new.record(step)


def absorb(resources: list[Resource], generated: list[Resource]) -> None:
    """Fold generated objects into RESOURCES, one at a time, as kustomize's AbsorbAll."""
    for res in generated:
        _absorb_one(resources, res)


def _absorb_one(resources: list[Resource], res: Resource) -> None:
    cur = res.cur_id()
    matches = [i for i, other in enumerate(resources) if any(cur.equals(rid) for rid in other.all_ids())]
    where, label = _ENTRIES.get(res, ((res.origin.field,) if res.origin.field else (), res.origin.field))
    if not matches:
        if res.behavior in ("merge", "replace"):
            raise GeneratorError(f"{label}: {cur} does not exist; cannot merge or replace", where)
        resources.append(res)
        return
    if len(matches) > 1:
        found = ", ".join(str(resources[i].cur_id()) for i in matches)
        raise GeneratorError(
            f"{label}: found multiple objects [{found}] that could accept merge of {cur}", where
        )
    index = matches[0]
    if res.behavior not in ("merge", "replace"):
        raise GeneratorError(f"{label}: {cur} exists; behavior must be merge or replace", where)
    _merge_into(res, resources[index], merge_data=res.behavior == "merge")
    resources[index] = res


# ---------------------------------------------------------------------------------- hashing
def _go_float(number: float) -> str:
    """encoding/json's float64 format: positional between 1e-6 and 1e21, else exponent."""
    if math.isnan(number) or math.isinf(number):
        raise GitopsGenError(f"cannot hash the unsupported number {number}")
    if number == 0:
        return "0"
    magnitude = abs(number)
    shortest = repr(number)
    if 1e-6 <= magnitude < 1e21:
        text = format(Decimal(shortest), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, _, exponent = format(Decimal(shortest), "e").partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    power = int(exponent)
    # strconv writes at least two exponent digits; encoding/json then trims "e-07" to "e-7".
    return f"{mantissa}e-{-power}" if power < 0 else f"{mantissa}e+{power:02d}"


def _go_string(text: str) -> str:
    # encoding/json escapes <, >, & and U+2028/9; otherwise it agrees with ensure_ascii=False.
    out = json.dumps(text, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes a decoded interface{}: sorted keys, numbers as float64."""
    if isinstance(value, dict):
        items = sorted((_scalar_text(k) if not isinstance(k, str) else k, v) for k, v in value.items())
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _go_float(float(value))
    return _go_string(_scalar_text(value))


def _field(obj: dict[str, Any], key: str) -> Any:
    """kustomize's hasher lookup: a missing (or null) field reads as "", a list as null."""
    if key not in obj or obj[key] is None:
        return ""
    value = obj[key]
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return None
    return _scalar_text(value)


def _encode_for_hash(obj: dict[str, Any]) -> str:
    kind = obj.get("kind")
    # kustomize looks the name up as one field literally called "metadata/name", which never
    # exists: the name always hashes as "", so prefixes, suffixes and renames never change
    # the suffix. Reproduced on purpose.
    name = ""
    encoded: dict[str, Any]
    if kind == "ConfigMap":
        encoded = {"kind": "ConfigMap", "name": name, "data": _field(obj, "data")}
        if isinstance(obj.get("binaryData"), dict):
            encoded["binaryData"] = obj["binaryData"]
    elif kind == "Secret":
        encoded = {"kind": "Secret", "type": _field(obj, "type"), "name": name, "data": _field(obj, "data")}
        if isinstance(obj.get("stringData"), dict):
            encoded["stringData"] = obj["stringData"]
    else:
        raise GitopsGenError(f"cannot compute a name hash for kind {kind!r} (only ConfigMap and Secret)")
    return go_json(encoded)


def content_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix for a ConfigMap or Secret.

    SHA-256 of compact sorted JSON of {kind, name: "", data[, binaryData]} (ConfigMap) or
    {kind, name: "", type, data[, stringData]} (Secret) -- the name, labels, annotations and
    immutable are not included -- then the first 10 hex digits with 0->g, 1->h, 3->k, a->m, e->t
    so the suffix never looks like a number.
    """
    digest = hashlib.sha256(_encode_for_hash(obj).encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def add_hash_suffixes(resources: list[Resource]) -> None:
    """kustomize's HashTransformer: rename every resource still asking for a hash suffix."""
    for res in resources:
        if res.needs_hash:
            suffix = content_hash(res.obj)
            res.store_previous_id()
            res.meta["name"] = f"{res.name}-{suffix}"
            res.needs_hash = False
