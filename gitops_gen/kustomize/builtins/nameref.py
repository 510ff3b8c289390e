"""kustomize's name-reference fix-up (NameReferenceTransformer with its builtin config).

After every rename (prefix, suffix, namespace, generator hash) the fields that name
another object (a Deployment's ConfigMap volume, a RoleBinding's roleRef, ...) must
follow. kustomize finds the referral among the resources the referrer may see, by
the referrer field's old value matched against each candidate's *previous* names
(never its current one), the referral's GVK (again on previous ids), and namespace
rules; ties are broken by the prefixes/suffixes both received, then by identity of
the candidates' names (and namespaces), else it is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize import fieldspecs as fsp
from gitops_gen.kustomize.builtins.transformers import name_prefixes, name_suffixes
from gitops_gen.kustomize.fieldspecs import FieldSpec, Gvk, apply_fieldspec
from gitops_gen.kustomize.resource import NOT_NAMESPACEABLE, ResId, Resource


def fix_name_references(resources: list[Resource], config: fsp.Config = fsp.DEFAULT_CONFIG) -> None:
    """Rewrite every referrer field to its referral's current name (and namespace for maps)."""
    # Only a renamed resource can be a referral (matching is on previous ids), so fields
    # that point at kinds nobody renamed have nothing to fix.
    if not any(r.prev_ids for r in resources):
        return
    index = _Index(resources)
    renamed = [(p.group, p.version, p.kind) for prev in index.prev for p in prev]
    wanted: dict[Gvk, bool] = {}
    for i, referrer in enumerate(resources):
        org = referrer.org_id()
        filters = _filters_for(config.name_reference, org.group, org.version, org.kind)
        if not filters:
            continue
        candidates: set[int] | None = None
        for spec, target in filters:
            if target not in wanted:
                wanted[target] = any(target.selects(*gvk) for gvk in renamed)
            if not wanted[target]:
                continue
            if candidates is None:
                candidates = index.visible_from(i)
            fixer = _Fixer(index, i, spec, target, candidates)
            # The referrer was chosen by its original kind; its current kind is what the path walks.
            apply_fieldspec(referrer.obj, spec, fixer.fix, check_gvk=False)


# (id of a name-reference config, group, version, kind) -> (that config, its referrer fields). Keyed by
# identity: hashing the config (hundreds of frozen field specs) on every resource of every cluster was
# half of this transformer's time. The config kept beside the answer makes a reused id a miss.
_FILTERS: dict[tuple[int, str, str, str], tuple[fsp.NameReferences, tuple[tuple[FieldSpec, Gvk], ...]]] = {}
_FILTERS_MAX = 4096


def _filters_for(
    references: fsp.NameReferences, group: str, version: str, kind: str
) -> tuple[tuple[FieldSpec, Gvk], ...]:
    """The referrer fields of a resource of this original GVK, in kustomize's order."""
    key = (id(references), group, version, kind)
    hit = _FILTERS.get(key)
    if hit is not None and hit[0] is references:
        return hit[1]
    found = tuple(
        (spec, target)
        for target, specs in references
        for spec in specs
        if spec.gvk.selects(group, version, kind)
    )
    if len(_FILTERS) >= _FILTERS_MAX:
        _FILTERS.clear()
    _FILTERS[key] = (references, found)
    return found


class _Index:
    """Per-resource facts the fix-up reads many times; none of them change during it."""

    def __init__(self, resources: list[Resource]):
        self.resources = resources
        self.prev = [res.previous_ids() for res in resources]
        self.cluster = [res.is_cluster_scoped() for res in resources]
        self.cur_ns = [res.cur_id().effective_namespace() for res in resources]
        self.org_ns = [res.org_id().effective_namespace() for res in resources]
        self.by_prev_name: dict[str, list[int]] = {}
        for i, prev in enumerate(self.prev):
            for name in dict.fromkeys(p.name for p in prev):
                self.by_prev_name.setdefault(name, []).append(i)

        self.everything = set(range(len(resources)))
        self.cluster_scoped = {i for i in self.everything if self.cluster[i]}
        self.by_cur_ns: dict[str, set[int]] = {}
        self.by_raw_ns: dict[str, set[int]] = {}
        for i, res in enumerate(resources):
            self.by_cur_ns.setdefault(self.cur_ns[i], set()).add(i)
            self.by_raw_ns.setdefault(res.namespace, set()).add(i)

    def visible_from(self, referrer: int) -> set[int]:
        """kustomize's SubsetThatCouldBeReferencedByResource, as resource indexes."""
        if self.cluster[referrer]:
            return self.everything
        out = self.cluster_scoped | self.by_cur_ns.get(self.cur_ns[referrer], set())
        for ns in _role_binding_sa_namespaces(self.resources[referrer]):
            out |= self.by_raw_ns.get(ns, set())
        return out


def _role_binding_sa_namespaces(res: Resource) -> set[str]:
    """Namespaces of a RoleBinding's ServiceAccount subjects: those may be referred to across namespaces."""
    if res.kind != "RoleBinding":
        return set()
    subjects = res.obj.get("subjects")
    out: set[str] = set()
    if not isinstance(subjects, list):
        return out
    for subject in subjects:
        if isinstance(subject, dict) and "namespace" in subject and subject.get("kind") == "ServiceAccount":
            ns = subject["namespace"]
            if not isinstance(ns, str):
                raise GitopsGenError(
                    f"namespace is blank in a ServiceAccount subject of {fsp.describe(res.obj)}"
                )
            out.add(ns)
    return out


class _Fixer:
    """One referrer field (kustomize's nameref filter for one field spec)."""

    def __init__(self, index: _Index, referrer: int, spec: FieldSpec, target: Gvk, candidates: set[int]):
        self.index = index
        self.at = referrer
        self.referrer = index.resources[referrer]
        self.spec = spec
        self.target = target
        self.candidates = candidates

    def fix(self, parent: dict[str, Any], key: str) -> None:
        value = parent[key]
        if value is None:
            return
        if isinstance(value, dict):
            self._set_map(value)
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if item is None:
                    continue
                if isinstance(item, dict):
                    self._set_map(item)
                elif isinstance(item, list):
                    raise GitopsGenError(
                        f"{fsp.describe(self.referrer.obj)}: '{self.spec.path}' entries "
                        f"must be strings or maps"
                    )
                else:
                    self._set_scalar(value, j)
        else:
            self._set_scalar(parent, key)

    def _set_scalar(self, holder: Any, key: Any) -> None:
        old = holder[key]
        if not isinstance(old, str):
            return
        referral = self._select(old, self.candidates, same_names)
        if referral is not None and referral.name != old:
            holder[key] = referral.name

    def _set_map(self, node: dict[str, Any]) -> None:
        if "name" not in node:
            raise GitopsGenError(f"{fsp.describe(self.referrer.obj)}: no 'name' field in '{self.spec.path}'")
        old = node["name"]
        if not isinstance(old, str):
            return
        referral = self._select(old, self._by_namespace(node), same_names_and_namespaces)
        if referral is None:
            return
        if referral.name == old and not referral.namespace:
            return
        node["name"] = referral.name
        # An empty namespace is a wildcard here, not "default": never write it.
        if referral.namespace:
            node["namespace"] = referral.namespace

    def _by_namespace(self, node: dict[str, Any]) -> set[int]:
        """A map naming a namespace only sees candidates there: original namespace first, then current."""
        if "namespace" not in node:
            return self.candidates
        ns = node["namespace"]
        ns = "" if ns is None else ns if isinstance(ns, str) else str(ns)
        # Grouped by effective namespace, cluster-scoped candidates in no group.
        if ns == NOT_NAMESPACEABLE:
            return set()
        by_original = {i for i in self.candidates if self.index.org_ns[i] == ns}
        if by_original:
            return by_original
        return {i for i in self.candidates if self.index.cur_ns[i] == ns}

    def _select(
        self, old: str, candidates: set[int], identical: Callable[[list[Resource]], bool]
    ) -> Resource | None:
        """Candidates are resource indexes; ties keep build order, as kustomize's lists do."""
        index = self.index
        found = [i for i in index.by_prev_name.get(old, ()) if i in candidates]
        found = [i for i in found if _previously(index.prev[i], self.target)]
        role_ref = self._role_ref_gvk()
        if role_ref is not None:
            found = [i for i in found if _previously(index.prev[i], role_ref)]
        found = [i for i in found if self._namespace_allows(i)]
        if len(found) == 1:
            return index.resources[found[0]]
        survivors = [index.resources[i] for i in found]
        survivors = [r for r in survivors if _affixes_match(r, self.referrer, allow_empty=True)]
        if len(survivors) > 1:
            survivors = [r for r in survivors if _affixes_match(r, self.referrer, allow_empty=False)]
        if len(survivors) == 1:
            return survivors[0]
        if not survivors:
            return None
        if identical(survivors):
            return survivors[0]
        ids = ", ".join(str(r.cur_id()) for r in survivors)
        raise GitopsGenError(
            f"found multiple possible referrals for '{self.spec.path}' of "
            f"{fsp.describe(self.referrer.obj)}: {ids}"
        )

    def _role_ref_gvk(self) -> Gvk | None:
        """For roleRef/name only candidates of the roleRef's apiGroup and kind qualify."""
        if not self.spec.path.endswith("roleRef/name"):
            return None
        ref = self.referrer.obj.get("roleRef")
        if not isinstance(ref, dict) or ref.get("apiGroup") is None or ref.get("kind") is None:
            return None
        return Gvk(group=str(ref["apiGroup"]), kind=str(ref["kind"]))

    def _namespace_allows(self, candidate: int) -> bool:
        index = self.index
        if index.cluster[self.at] or index.cluster[candidate]:
            return True
        # A RoleBinding may bind a ServiceAccount of any namespace.
        if index.resources[candidate].kind == "ServiceAccount":
            return True
        return index.cur_ns[candidate] == index.cur_ns[self.at]


def _previously(prev: list[ResId], gvk: Gvk) -> bool:
    return any(gvk.selects(p.group, p.version, p.kind) for p in prev)


def _same_ending(a: list[str], b: list[str]) -> bool:
    """kustomize's SameEndingSubSlice: the shorter list is a tail of the longer (both empty counts)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return not long
    return long[len(long) - len(short) :] == short


def _affixes_match(res: Resource, other: Resource, allow_empty: bool) -> bool:
    p1, p2 = name_prefixes(res), name_prefixes(other)
    s1, s2 = name_suffixes(res), name_suffixes(other)
    if allow_empty:
        return (not p1 or not p2 or _same_ending(p1, p2)) and (not s1 or not s2 or _same_ending(s1, s2))
    return _same_ending(p1, p2) and _same_ending(s1, s2)


def same_names(found: list[Resource]) -> bool:
    return all(r.name == found[0].name for r in found)


def same_names_and_namespaces(found: list[Resource]) -> bool:
    return all(r.name == found[0].name and r.namespace == found[0].namespace for r in found)
