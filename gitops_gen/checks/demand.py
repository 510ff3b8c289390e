"""The demand cache: what ``validate FILE`` (the pre-commit hook) does not rebuild.

Capacity is a cluster-wide sum, so the hook must see every GPU workload of a cluster, but only the
mapping entries that reach the changed files can have changed. The GPU workloads (and object ids)
of every other entry come from here, keyed by a digest of every file the entry reads.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from dataclasses import dataclass
from pathlib import Path
from time import time_ns
from typing import Any

from gitops_gen import kube
from gitops_gen.fleet import deps
from gitops_gen.kustomize.build import Engine
from gitops_gen.kustomize.resource import IdKey, Resource, id_key
from gitops_gen.repo import memo
from gitops_gen.repo.tree import Stamp

CACHE_FILE = "validate-demand.marshal"
CACHE_FORMAT = 7  # 2: kube.demand_projection (template annotations, HPAs); 3: where findings were set;
# 4: every object's id (a clash of a changed entry with a cached one); 5: each entry marshalled alone;
# 6: what the per-object checks found, by object content; 7: each settled file's digest by its stamp
CHECKED_MAX = 500_000  # object contents remembered at most, before only this run's are kept


def gpu_projection(obj: dict[str, Any]) -> dict[str, Any] | None:
    """OBJ reduced for the demand cache (``kube.demand_projection``), or None when capacity does not
    read it: it cannot ask for an NVIDIA resource and is no HorizontalPodAutoscaler."""
    if obj.get("kind") != "HorizontalPodAutoscaler" and b"nvidia.com/" not in marshal.dumps(obj):
        return None
    return kube.demand_projection(obj)


def helm_release_inputs(resources: list[Resource]) -> tuple[list[dict[str, Any]], set[int]]:
    """Flux HelmReleases whole, and the ConfigMaps/Secrets their valuesFrom read (and the ids of those
    objects): the applied view expands them again on every run, so a cached entry's chart demand is
    counted with the chart as it is now (a projection would lose a release whose values name no GPU)."""
    releases = [r.obj for r in resources if r.kind == "HelmRelease" and r.api_version.startswith("helm.")]
    wanted = {
        (str(ref.get("kind")), str(ref.get("name")))
        for obj in releases
        for ref in (obj.get("spec") or {}).get("valuesFrom") or []
        if isinstance(ref, dict)
    }
    whole = releases + [r.obj for r in resources if (r.kind, r.name) in wanted]
    return whole, {id(o) for o in whole}


@dataclass
class CacheShare:
    """The part of a DemandCache one process saw (entries and where their findings were set)."""

    entries: dict[str, Any]
    located: dict[str, Any]
    dirty: bool
    checked: dict[bytes, Any]
    stamps: dict[str, tuple[Stamp, bytes]]


def _file_digest(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return hashlib.blake2b(handle.read(), digest_size=16).digest()
    except OSError:
        return b"-"


class Encoded:
    """A mapping whose values are kept as marshal bytes until asked for: the hook reads a few entries of
    a cache that holds every entry of the fleet, so it decodes those only (the whole file is one
    marshal of a dict of bytes, read in milliseconds). A value that does not decode is absent."""

    def __init__(self, raw: dict[str, bytes] | None = None):
        self.raw = raw if raw is not None else {}
        self.live: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        if key in self.live:
            return self.live[key]
        data = self.raw.get(key)
        if data is None:
            return None
        try:
            value = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            del self.raw[key]
            return None
        self.live[key] = value
        return value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.live[key] = value
        self.raw.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self.live or key in self.raw

    def keys(self) -> set[str]:
        return set(self.raw) | set(self.live)

    def pick(self, keys: set[str]) -> dict[str, Any]:
        return {k: v for k in sorted(keys & self.keys()) if (v := self.get(k)) is not None}

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            self[key] = value

    def encode(self, keep: set[str] | None = None) -> dict[str, bytes]:
        out = {k: v for k, v in self.raw.items() if keep is None or k in keep}
        out.update({k: marshal.dumps(v) for k, v in self.live.items() if keep is None or k in keep})
        return out


class DemandCache:
    """The GPU workloads of each mapping entry, keyed by a digest of every file the entry reads.

    ``validate FILE`` must see a cluster's whole GPU demand (capacity is a cluster-wide sum)
    but only the entries reaching the changed files can have changed. Entries whose files
    are byte-identical to when they were last built come from here; anything else is built.
    Kept in ``.git/gitops-gen/`` (no cache outside a git work tree, or with
    GITOPS_GEN_NO_CACHE set); a lost or corrupt cache only costs time.
    """

    def __init__(self, path: Path, index: deps.Index):
        self.path = path
        self.index = index
        # entry -> (fingerprint, GPU workloads, the ids of all its objects)
        self.entries = Encoded()
        # Where each finding in an entry was set (EntryLocator), for the entry's fingerprint:
        # entry -> (fingerprint, {(object ref, field): (content digests, where)})
        self.located = Encoded()
        # What the checks of one object's content found (``validate.ObjectMemo``), by a digest of the
        # content and of what was checked: most objects of a fleet are the same from run to run.
        self.checked: dict[bytes, Any] = {}
        self._checked_seen: set[bytes] = set()
        self.dirty = False
        self._digests: dict[str, bytes] = {}
        self._fingerprints: dict[str, bytes] = {}
        self._absorbed: set[str] = set()  # entries other processes of this run saw (``absorb``)
        # path -> (stamp, content digest) of each file that had settled when it was read: a file with
        # the same stamp later is not read again (``tree.settled``); the fingerprints are its digests.
        self.stamps: dict[str, tuple[Stamp, bytes]] = {}
        self._started = time_ns()  # no file is read earlier
        self._stamps_absorbed: set[str] = set()
        data = memo.load(path, CACHE_FORMAT)
        try:
            if data is not None:
                self.entries, self.located = Encoded(dict(data["entries"])), Encoded(dict(data["located"]))
                self.checked = dict(data["checked"])
                self.stamps = dict(data["stamps"])
        except (ValueError, TypeError, KeyError):
            self.entries, self.located, self.checked, self.stamps = Encoded(), Encoded(), {}, {}

    @classmethod
    def open(cls, root: Path, index: deps.Index) -> DemandCache | None:
        path = memo.memo_path(root, CACHE_FILE)
        return None if path is None else cls(path, index)

    def files_of(self, entry: str) -> set[str]:
        files: set[str] = set()
        for directory in self.index.closure(entry):
            files |= self.index.refs[directory].files
        return files

    def _digest(self, path: str) -> bytes:
        found = self._digests.get(path)
        if found is None:
            full = os.path.join(self.index.root, path)
            known = self.stamps.get(path)
            found, entry = memo.by_stamp(self.stamps, path, full, self._started, _file_digest)
            if entry is None:
                self.stamps.pop(path, None)
            elif entry is not known:
                self.stamps[path] = entry
                self.dirty = True
            self._digests[path] = found
        return found

    def fingerprint(self, entry: str) -> bytes:
        found = self._fingerprints.get(entry)
        if found is None:
            h = hashlib.blake2b(digest_size=20)
            for path in sorted(self.files_of(entry)):
                h.update(path.encode() + b"\0" + self._digest(path))
            found = self._fingerprints[entry] = h.digest()
        return found

    def get(self, entry: str) -> list[dict[str, Any]] | None:
        return self.entries[entry][1] if self.fresh(entry) else None

    def fresh(self, entry: str) -> bool:
        """ENTRY is cached for the content its files have now."""
        hit = self.entries.get(entry)
        return hit is not None and hit[0] == self.fingerprint(entry)

    def put(self, entry: str, resources: list[Resource]) -> None:
        if self.fresh(entry):  # already held for these files (the hook rebuilds the same entry each run)
            return
        whole, ids = helm_release_inputs(resources)
        objs = [p for p in (gpu_projection(r.obj) for r in resources if id(r.obj) not in ids) if p]
        self.entries[entry] = (self.fingerprint(entry), objs + whole, [id_key(r) for r in resources])
        self.dirty = True

    def mapping_entries(self, cluster: str) -> list[str] | None:
        """The directories mapping/<cluster> lists; None when it lists files (not cacheable)."""
        mapping = f"mapping/{cluster}"
        self.index.closure(mapping)
        refs = self.index.refs.get(mapping)
        if refs is None or any(not f.startswith(mapping + "/") for f in refs.files):
            return None
        return sorted(refs.dirs)

    def learn(self, cluster: str, resources: list[Resource]) -> None:
        """Attribute a whole-mapping render to its entries by the file each object came from."""
        entries = self.mapping_entries(cluster)
        if entries is None or all(self.fresh(e) for e in entries):
            return  # the entries are shared by many clusters: each is projected once per content
        owner: dict[str, str] = {}
        for entry in entries:
            for path in self.files_of(entry):
                if owner.setdefault(path, entry) != entry:
                    return  # two entries share a file: we cannot tell whose objects are whose
        per: dict[str, list[Resource]] = {e: [] for e in entries}
        own = self.index.refs[f"mapping/{cluster}"].files  # the mapping's own files (namespaces.yaml)
        for res in resources:
            who = owner.get(res.origin.path)
            if who is None:
                if res.origin.path in own:
                    continue  # generated Namespace objects: no GPU demand, rebuilt with the mapping
                return
            per[who].append(res)
        for entry, owned in per.items():
            self.put(entry, owned)

    def partial(
        self, engine: Engine, cluster: str, touched: set[str]
    ) -> tuple[list[Resource], list[dict[str, Any]]] | None:
        """Build only the entries that reach TOUCHED; the others' GPU workloads from the cache (None: miss)."""
        entries = self.mapping_entries(cluster)
        if entries is None:
            return None
        changed = [e for e in entries if e in touched or self.files_of(e) & touched]
        cached: list[dict[str, Any]] = []
        ids: list[IdKey] = []
        for entry in entries:
            if entry not in changed:
                hit = self.get(entry)
                if hit is None:
                    return None
                cached.extend(hit)
                ids.extend(self.entries[entry][2])
        resources: list[Resource] = []
        for entry in changed:
            built = engine.build(entry)
            self.put(entry, built)
            resources.extend(built)
        ids.extend(id_key(r) for r in resources)
        if len(set(ids)) != len(ids):
            return None  # two entries add the same object: the whole build raises kustomize's error
        return resources, cached

    def where(self, entry: str, key: Any) -> tuple[Any, Any] | None:
        """The remembered (digests, where) of finding KEY in ENTRY, if its files are unchanged."""
        hit = self.located.get(entry)
        if hit is None or hit[0] != self.fingerprint(entry):
            return None
        found: tuple[Any, Any] | None = hit[1].get(key)
        return found

    def remember(self, entry: str, key: Any, value: tuple[Any, Any]) -> None:
        fingerprint = self.fingerprint(entry)
        hit = self.located.get(entry)
        if hit is None or hit[0] != fingerprint:
            hit = self.located[entry] = (fingerprint, {})
        if hit[1].get(key) != value:
            hit[1][key] = value
            self.dirty = True

    def recall(self, digest: bytes) -> Any:
        """What the checks found for the content DIGEST names (None: not known)."""
        found = self.checked.get(digest)
        if found is not None:
            self._checked_seen.add(digest)
        return found

    def keep(self, digest: bytes, value: Any) -> None:
        self.checked[digest] = value
        self._checked_seen.add(digest)
        self.dirty = True

    def seen(self) -> CacheShare:
        """What this run looked at, for a parent process to ``absorb``: worker processes each see
        some clusters' entries, and one process writes the file."""
        keys = set(self._fingerprints) | self._absorbed
        checked = {d: self.checked[d] for d in self._checked_seen if d in self.checked}
        stamps = {p: self.stamps[p] for p in self._digests if p in self.stamps}
        return CacheShare(self.entries.pick(keys), self.located.pick(keys), self.dirty, checked, stamps)

    def absorb(self, share: CacheShare) -> None:
        self.entries.update(share.entries)
        self.located.update(share.located)
        self._absorbed.update(share.entries, share.located)
        self.checked.update(share.checked)
        self._checked_seen.update(share.checked)
        self.stamps.update(share.stamps)
        self._stamps_absorbed.update(share.stamps)
        self.dirty = self.dirty or share.dirty

    def save(self, keep_only_seen: bool = False) -> None:
        if not self.dirty:
            return
        keys = set(self._fingerprints) | self._absorbed if keep_only_seen else None
        entries, located = self.entries.encode(keys), self.located.encode(keys)
        checked = self.checked
        if keep_only_seen or len(checked) > CHECKED_MAX:  # a whole run saw all it needs next time
            checked = {d: v for d, v in checked.items() if d in self._checked_seen}
        stamps = self.stamps
        if keep_only_seen:
            stamps = {p: v for p, v in stamps.items() if p in self._digests or p in self._stamps_absorbed}
        memo.store(
            self.path,
            CACHE_FORMAT,
            {"entries": entries, "located": located, "checked": checked, "stamps": stamps},
        )
