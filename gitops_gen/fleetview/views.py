"""One report of a fleet: its capacity ledger and version matrix, from a tree (disk or git revision)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_gen.fleetview.collect import FleetView, collect
from gitops_gen.fleetview.ledger import Ledger, ledger
from gitops_gen.fleetview.matrix import Matrix, matrix
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import Tree


@dataclass
class Report:
    layers: tuple[str, ...]
    ledger: Ledger
    matrix: Matrix
    title: str = ""  # which revision, for headings


def report_of(fleet: FleetView, title: str = "") -> Report:
    return Report(fleet.layers, ledger(fleet), matrix(fleet), title)


def build_report(
    tree: Tree, clusters: list[str] | None = None, engine: Engine | None = None, title: str = ""
) -> Report:
    return report_of(collect(tree, engine=engine, clusters=clusters), title)
