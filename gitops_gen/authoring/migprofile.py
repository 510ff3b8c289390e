"""`gitops-gen set mig-profile`: rewrite the MIG resource a layer component (or the base) requests.

When a pool's GPU model changes, ``nvidia.com/mig-1g.5gb`` may not exist on the new model
(validate names the nearest equivalent). This rewrites every request of ``nvidia.com/mig-FROM``
in the YAML files of ``apps/<app>/<key>/<value>/`` (strategic-merge patches, inline patches and
JSON 6902 paths, where ``/`` is written ``~1``) to ``TO``. The edit is made in the text, so
comments, quoting and layout stay exactly as they were; every edited file must still parse.
Other mentions of FROM (a ``nvidia.com/mig.config: all-FROM`` selector, a ``-MIG-FROM`` product)
are not requests: they are listed as notes, not changed.
"""

from __future__ import annotations

import re

from gitops_gen.authoring.edits import check_layer_value, require_base, users_of
from gitops_gen.authoring.plan import Change
from gitops_gen.checks.gpu.catalog import resource_suffix
from gitops_gen.checks.gpu.equivalent import parse
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.inventory import Fleet
from gitops_gen.repo.tree import Tree
from gitops_gen.repo.yamlio import load_documents

_YAML = (".yaml", ".yml")


def profile_arg(text: str, what: str) -> str:
    """``1g.10gb``, ``1g.10gb+me`` or ``nvidia.com/mig-1g.10gb.me`` -> ``1g.10gb.me``."""
    suffix = resource_suffix(text.removeprefix("nvidia.com/").removeprefix("mig-"))
    if parse(suffix) is None:
        raise GitopsGenError(f"{what} {text!r} is not a MIG profile like 1g.10gb or 1g.10gb+me")
    return suffix


def _request(profile: str) -> re.Pattern[str]:
    # Not followed by more profile characters: 1g.24gb must not match 1g.24gb-me or 1g.24gb.gfx.
    return re.compile(r"nvidia\.com(/|~1)mig-" + re.escape(profile) + r"(?![\w.+-])")


def _files(tree: Tree, directory: str) -> list[str]:
    out = []
    for name in tree.listdir(directory):
        path = f"{directory}/{name}"
        if tree.kind(path) == "dir":
            out += _files(tree, path)
        elif name.endswith(_YAML):
            out.append(path)
    return out


def plan_set_mig_profile(
    tree: Tree, fleet: Fleet, app: str, layer: tuple[str, str] | None, old: str, new: str
) -> Change:
    require_base(tree, app)
    source, target = profile_arg(old, "FROM"), profile_arg(new, "TO")
    if source == target:
        raise GitopsGenError(f"FROM and TO are the same profile ({source})")
    if layer is None:
        directory = f"apps/{app}/base"
        affected = users_of(fleet, app)
    else:
        check_layer_value(*layer, fleet)
        directory = f"apps/{app}/{layer[0]}/{layer[1]}"
        if tree.kind(directory) != "dir":
            raise GitopsGenError(f"no layer component {directory}/", tree.display(directory))
        affected = users_of(fleet, app, layer, generated_only=True)
    pattern = _request(source)
    files: dict[str, bytes] = {}
    notes: list[str] = []
    for path in _files(tree, directory):
        text = tree.read(path).decode("utf-8")
        edited, count = pattern.subn(lambda m: f"nvidia.com{m.group(1)}mig-{target}", text)
        if count:
            load_documents(edited, tree.display(path))  # the edit must leave valid YAML (it always should)
            files[path] = edited.encode()
        for lineno, line in enumerate(edited.splitlines(), 1):
            if re.search(re.escape(source) + r"(?![\w.+-])", line):
                notes.append(
                    f"{tree.display(path)}:{lineno} still mentions {source} (not a resource request): "
                    f"{line.strip()}"
                )
    if not files:
        raise GitopsGenError(
            f"nothing in {directory}/ requests nvidia.com/mig-{source}", tree.display(directory)
        )
    return Change(files, affected, tuple(notes))
