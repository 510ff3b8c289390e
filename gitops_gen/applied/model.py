"""What the applied view is made of: the sync object, and the objects with their notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.errors import Problem
from gitops_gen.kustomize.resource import Resource
from gitops_gen.repo.tree import Tree


@dataclass
class Sync:
    """The object in clusters/<c>/sync.yaml that applies mapping/<c>."""

    engine: str  # flux | argocd
    obj: dict[str, Any]
    path: str  # repo-relative path of the file holding it


@dataclass
class Applied:
    resources: list[Resource]
    notes: list[Problem] = field(default_factory=list)  # warnings the plain build does not have
    rebuilt: bool = False  # the sync object changed the build, so it was built again

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [r.obj for r in self.resources]


Expander = Callable[[Tree, "Sync | None", list[Resource]], Applied]


def find_object(objs: list[dict[str, Any]], kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The object KIND/NAME among OBJS, an object without a namespace counting as in NAMESPACE."""
    for obj in objs:
        meta = obj.get("metadata") or {}
        if (
            obj.get("kind") == kind
            and meta.get("name") == name
            and meta.get("namespace", namespace) == namespace
        ):
            return obj
    return None
