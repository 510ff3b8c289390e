"""The fault cases: hostile input and faults, one row each, checked against the contract by harness.judge.

A row names its family, a setup that spoils the example fleet (a Scene), the command line, what the
contract expects (``ok``, ``error``, ``findings``, or ``clean``: either ok or a clean error) and the
file[:line] the message must name. ``known`` says why a row fails today; the test expects it to fail
(strict), so fixing it means deleting the note. ``owner`` marks rows another part of the project owns.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from tests.faults.harness import SECRET_VALUE, Outcome, Scene, commit_all, git, init_repo

CL = "clusters/zone-1-dev/cluster.yaml"
BASE = "apps/private-detector/base"
DEV = "apps/private-detector/env/dev"
MAP = "mapping/zone-1-dev/kustomization.yaml"

Setup = Callable[[Scene], None]
Post = Callable[[Scene, Outcome], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    argv: tuple[str, ...]  # {repo} {out} {target} {base} are filled in
    setup: Setup | None = None
    expect: str = "error"
    where: str | None = None
    known: str | None = None
    owner: str | None = None  # another helper's issue: not strict
    nobody: bool = False  # run unprivileged (permission cases)
    root_only: bool = False  # needs root (chattr, mounts)
    problems_ok: bool = False  # problem lines may precede the error line (commit, validate)
    post: Post | None = None
    changes_ok: bool = False  # a failure that legitimately keeps what it did (a refused push)
    exit_code: int = 1  # of an "error": 2 for usage errors (an argument naming nothing that exists)


def steps(*fns: Setup) -> Setup:
    def run(world: Scene) -> None:
        for fn in fns:
            fn(world)

    return run


def write(rel: str, data: str | bytes) -> Setup:
    return lambda w: w.write(rel, data)


def replace(rel: str, old: str, new: str) -> Setup:
    return lambda w: w.replace(rel, old, new)


def add_resource(name: str, text: str | bytes, where: str = BASE) -> Setup:
    """A new resource file in WHERE, listed in its kustomization."""

    def run(w: Scene) -> None:
        w.write(f"{where}/{name}", text)
        w.replace(f"{where}/kustomization.yaml", "resources:\n", f"resources:\n- {name}\n")

    return run


def configmap(name: str, body: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{body}"


def alias_bomb(levels: int = 12) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def nested_block(depth: int, key: str = "k") -> str:
    """A DEPTH-deep block mapping under `spec:` of a custom resource."""
    lines = [f"{'  ' * (i + 1)}{key}{i}:" for i in range(depth)]
    return (
        "apiVersion: example.com/v1\nkind: Deep\nmetadata:\n  name: deep\nspec:\n"
        + "\n".join(lines)
        + " leaf\n"
    )


def nested_flow(depth: int) -> str:
    return configmap("flow", f"  v: {'[' * depth}{']' * depth}\n")


def deep_patch(depth: int) -> Setup:
    """A strategic-merge patch of the base Deployment as deep as a deep base annotation."""

    def run(w: Scene) -> None:
        chain = "".join(f"{'  ' * (i + 3)}d{i}:\n" for i in range(depth))
        w.write(
            f"{BASE}/deep.yaml",
            "apiVersion: example.com/v1\nkind: Deep\nmetadata:\n  name: deep\nspec:\n"
            + "  x:\n"
            + chain
            + f"{'  ' * (depth + 3)}leaf: base\n",
        )
        w.replace(f"{BASE}/kustomization.yaml", "resources:\n", "resources:\n- deep.yaml\n")
        w.write(
            f"{DEV}/deep-patch.yaml",
            "apiVersion: example.com/v1\nkind: Deep\nmetadata:\n  name: deep\nspec:\n"
            + "  x:\n"
            + chain
            + f"{'  ' * (depth + 3)}leaf: patched\n",
        )
        w.replace(f"{DEV}/kustomization.yaml", "patches:\n", "patches:\n- path: deep-patch.yaml\n")

    return run


def make_stale(w: Scene) -> None:
    """Every generated file of the fleet out of date (a header-only change), so generate rewrites them all."""
    for path in sorted(w.repo.glob("mapping/*/kustomization.yaml")) + sorted(
        w.repo.glob("apps/*/overlays/*/*.yaml")
    ):
        path.write_text(path.read_text() + "# stale\n")


def rename_cluster_dir(new: str) -> Setup:
    def run(w: Scene) -> None:
        os.rename(w.path("clusters/zone-1-dev"), w.path(f"clusters/{new}"))
        w.replace(
            f"clusters/{new}/cluster.yaml",
            "name: zone-1-dev",
            f"name: {new!r}" if "\n" in new else f"name: {new}",
        )

    return run


def chmod(rel: str, mode: int) -> Setup:
    return lambda w: os.chmod(w.path(rel), mode)


def chmod_tree(rel: str, mode: int) -> Setup:
    """MODE on every directory under REL (and 0o444 on files), deepest first."""

    def run(w: Scene) -> None:
        for dirpath, _, filenames in os.walk(w.path(rel), topdown=False):
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o444)
            os.chmod(dirpath, mode)

    return run


def chattr_immutable(rel: str) -> Setup:
    return lambda w: subprocess.run(["chattr", "+i", str(w.path(rel))], check=True)


def shallow_clone(w: Scene) -> None:
    """Replace the fleet with a depth-1 clone of a two-commit history."""
    origin = w.base / "origin"
    os.rename(w.repo, origin)
    (origin / "README.md").write_text("second\n")
    commit_all(origin, "second")
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(w.repo)],
        check=True,
        capture_output=True,
    )
    init_repo(w.repo)


def detached(w: Scene) -> None:
    w.git("checkout", "-q", "--detach", "HEAD")
    w.replace(f"{DEV}/kustomization.yaml", "count: 1", "count: 2")
    w.git("add", "-A")


def no_commits(w: Scene) -> None:
    import shutil

    shutil.rmtree(w.path(".git"))
    init_repo(w.repo)


def staged_change(w: Scene) -> None:
    w.replace(f"{DEV}/kustomization.yaml", "count: 1", "count: 2")
    w.git("add", "-A")


def refusing_remote(w: Scene) -> None:
    remote = w.base / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    w.git("remote", "add", "origin", str(remote))
    w.git("push", "-q", "origin", "main")
    w.git("branch", "-q", "--set-upstream-to=origin/main")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'remote: pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    staged_change(w)


def rendered_target(w: Scene, files: dict[str, str] | None = None) -> None:
    w.target.mkdir()
    init_repo(w.target)
    for rel, text in (files or {"README.md": "rendered manifests\n"}).items():
        (w.target / rel).parent.mkdir(parents=True, exist_ok=True)
        (w.target / rel).write_text(text)
    commit_all(w.target, "target")
    w.watch("target", w.target)


def with_target(files: dict[str, str] | None = None) -> Setup:
    return lambda w: rendered_target(w, files)


def containing_repo(w: Scene) -> None:
    """The directory around the fleet is a clean repository of its own (the fleet excluded)."""
    init_repo(w.base)
    (w.base / ".git/info/exclude").write_text("/fleet/\n")
    (w.base / "README.md").write_text("outer\n")
    commit_all(w.base, "outer")
    w.watch("outer", w.base)


def escaping_name(w: Scene) -> None:
    # A name, not a namespace: every app's overlay now sets the namespace, a name stays as written.
    add_resource(
        "escape.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../x/escape\ndata:\n  a: b\n"
    )(w)
    w.commit("escape")
    rendered_target(w)


def keep_file_survives(w: Scene, outcome: Outcome) -> list[str]:
    tracked = git(w.target, "ls-tree", "-r", "--name-only", "main", check=False).split()
    return [] if "docs/keep.yaml" in tracked else ["docs/keep.yaml was removed from the target's branch main"]


def target_checkout_untouched(w: Scene, outcome: Outcome) -> list[str]:
    """The target's checked-out branch, index and working tree are as they were (only refs move)."""
    problems = []
    if git(w.target, "symbolic-ref", "--short", "HEAD", check=False).strip() != "main":
        problems.append("the target's HEAD moved off main")
    if git(w.target, "status", "--porcelain", "--untracked-files=all", check=False).strip():
        problems.append("the target's working tree or index changed")
    if not (w.target / "README.md").is_file():
        problems.append("the target's README.md vanished from its working tree")
    return problems


def no_namespaced_in_cluster_dir(w: Scene, outcome: Outcome) -> list[str]:
    files = git(w.target, "ls-tree", "-r", "--name-only", "rendered", check=False).split()
    wrong = [
        f
        for f in files
        if "/_cluster/" in f
        and f.rsplit("/", 1)[-1].split("-", 1)[0] in ("deployment", "service", "configmap", "secret")
    ]
    return [f"namespaced objects filed as cluster-scoped: {wrong[:3]}"] if wrong else []


def nothing_outside(w: Scene, outcome: Outcome) -> list[str]:
    # zone-1-dev/../../x/ns/... from the target lands in the scene's own directory.
    found = [p for p in ("x", "ns") if (w.base / p).exists()]
    return [f"wrote outside the target: {found}"] if found else []


def out_inside(rel: str) -> Setup:
    return lambda w: w.watch("out", w.path(rel))


def symlinked_cluster(w: Scene) -> None:
    w.write("inventory/zone-1-dev.yaml", w.path(CL).read_text())
    w.link(CL, "../../inventory/zone-1-dev.yaml")
    w.commit("inventory behind a link")


def link_edited(w: Scene, outcome: Outcome) -> list[str]:
    if outcome.code != 0:
        return []
    problems = []
    if not w.path(CL).is_symlink():
        problems.append("cluster.yaml is no longer a symlink")
    if "enabled: false" in w.path("inventory/zone-1-dev.yaml").read_text():
        problems.append("the link's target was not edited")
    return problems


def secret_data_string(w: Scene) -> None:
    w.write(
        f"{BASE}/secret.yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\ndata: {SECRET_VALUE}\n",
    )


def secret_json6902(w: Scene) -> None:
    w.write(f"{DEV}/secret-patch.yaml", "- op: replace\n  path: /data/nope/deeper\n  value: x\n")
    w.replace(
        f"{DEV}/kustomization.yaml",
        "patches:\n",
        "patches:\n- path: secret-patch.yaml\n  target:\n    kind: Secret\n    name: pd-token\n",
    )


def secret_last_applied(w: Scene) -> None:
    import json

    w.replace(
        f"{BASE}/secret.yaml",
        "  name: pd-token\n",
        "  name: pd-token\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '"
        + json.dumps({"kind": "Secret", "stringData": {"token": SECRET_VALUE}})
        + "'\n",
    )
    w.commit("annotated")
    w.replace(f"{BASE}/secret.yaml", "stringData:\n", "stringData:\n  extra: x\n")


def secret_diff_not_mapping(w: Scene) -> None:
    w.write(
        f"{BASE}/secret.yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\nstringData: [{SECRET_VALUE}]\n",
    )


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def lock(pid: int | None) -> Setup:
    """A repository lock held by PID (None: this test process, which is alive)."""
    return lambda w: w.write(".git/gitops-gen.lock", f"{os.getpid() if pid is None else pid}\n")


def lock_gone(w: Scene, outcome: Outcome) -> list[str]:
    return ["the stale lock is still there"] if w.path(".git/gitops-gen.lock").exists() else []


DEAD_TEMPS = (
    "mapping/zone-1-dev/.kustomization.yaml.{pid}.0.tmp",
    "apps/private-detector/overlays/zone-1-dev/.kustomization.yaml.{pid}.3.tmp",
)


def dead_temp_files(w: Scene) -> None:
    pid = dead_pid()
    w.dead = [rel.format(pid=pid) for rel in DEAD_TEMPS]  # type: ignore[attr-defined]
    for rel in w.dead:  # type: ignore[attr-defined]
        w.write(rel, "half of a file\n")


def dead_temps_gone(w: Scene, outcome: Outcome) -> list[str]:
    return [f"left in place: {rel}" for rel in w.dead if w.path(rel).exists()]  # type: ignore[attr-defined]


def dead_temps_gone_and_not_committed(w: Scene, outcome: Outcome) -> list[str]:
    held = w.git("ls-files", "--", *w.dead).split()  # type: ignore[attr-defined]
    return dead_temps_gone(w, outcome) + [f"committed: {rel}" for rel in held]


def chain_of_bases(depth: int) -> Setup:
    def run(w: Scene) -> None:
        w.write("chain/c0/kustomization.yaml", "resources:\n- cm.yaml\n")
        w.write("chain/c0/cm.yaml", configmap("chain", "  a: b\n"))
        for i in range(1, depth):
            w.write(f"chain/c{i}/kustomization.yaml", f"resources:\n- ../c{i - 1}\n")

    return run


def out_rendered_then_cluster_removed(w: Scene) -> None:
    """render --out once, keep a file of one's own there, then remove cluster zone-2-prod."""
    from tests.faults.harness import cli

    assert cli(["render", "--out", str(w.out)], w.repo).code == 0
    (w.out / "notes.txt").write_text("mine\n")
    w.remove("clusters/zone-2-prod")
    assert cli(["generate"], w.repo).code == 0


def stale_out_removed(w: Scene, outcome: Outcome) -> list[str]:
    problems = []
    if (w.out / "zone-2-prod.yaml").exists():
        problems.append("the removed cluster's file stayed in --out")
    if not (w.out / "notes.txt").is_file() or not (w.out / "zone-1-dev.yaml").is_file():
        problems.append("a file that belongs in --out went away")
    return problems


GEN = ("generate",)
VALIDATE = ("validate",)
RENDER = ("render", "--out", "{out}")
COMMIT = ("commit", "-m", "change")

CASES: list[Case] = [
    # ------------------------------------------------------------ YAML hostility
    Case(
        "alias-bomb-inventory",
        "yaml",
        GEN,
        replace(
            CL, "spec:\n", "x:\n" + "".join("  " + ln + "\n" for ln in alias_bomb().splitlines()) + "spec:\n"
        ),
        where=CL,
    ),
    Case(
        "alias-bomb-resource",
        "yaml",
        RENDER,
        add_resource(
            "bomb.yaml", configmap("bomb", "".join("  " + ln + "\n" for ln in alias_bomb().splitlines()))
        ),
        where=f"{BASE}/bomb.yaml",
    ),
    Case(
        "huge-resource",
        "yaml",
        RENDER,
        add_resource("huge.yaml", configmap("huge", "  a: " + "x" * (17 << 20) + "\n")),
        where=f"{BASE}/huge.yaml",
    ),
    Case(
        "deep-block-3000",
        "yaml",
        RENDER,
        add_resource("deep.yaml", nested_block(3000)),
        where=f"{BASE}/deep.yaml",
    ),
    Case(
        "deep-alias-chain",
        "yaml",
        RENDER,
        add_resource(
            "chain.yaml",
            configmap(
                "chain",
                "".join(f"  a{i}: &a{i} [*a{i - 1}]\n" if i else "  a0: &a0 [x]\n" for i in range(1200)),
            ),
        ),
        where=f"{BASE}/chain.yaml",
    ),
    Case(
        "deep-flow-3000",
        "yaml",
        RENDER,
        add_resource("flow.yaml", nested_flow(3000)),
        where=f"{BASE}/flow.yaml",
    ),
    Case(
        "deep-block-990-render",
        "yaml",
        RENDER,
        add_resource("deep.yaml", nested_block(990)),
        expect="clean",
        where=f"{BASE}/deep.yaml",
    ),
    Case(
        "deep-block-990-validate",
        "yaml",
        VALIDATE,
        add_resource("deep.yaml", nested_block(990)),
        expect="clean",
        where=f"{BASE}/deep.yaml",
        problems_ok=True,
    ),
    Case(
        "deep-flow-500-render",
        "yaml",
        RENDER,
        add_resource("flow.yaml", nested_flow(500)),
        expect="clean",
        where=f"{BASE}/flow.yaml",
    ),
    Case(
        "deep-smp-patch-500", "yaml", RENDER, deep_patch(500), expect="clean", where=f"{DEV}/deep-patch.yaml"
    ),
    Case(
        "deep-smp-patch-500-validate",
        "yaml",
        VALIDATE,
        deep_patch(500),
        expect="clean",
        problems_ok=True,
        where=f"{DEV}/deep-patch.yaml",
    ),
    Case(
        "deep-diff-990",
        "yaml",
        ("diff", "--base", "HEAD"),
        steps(
            add_resource("deep.yaml", nested_block(990)),
            lambda w: w.commit("deep"),
            replace(f"{BASE}/deep.yaml", " leaf", " leaf2"),
        ),
        expect="clean",
        where=f"{BASE}/deep.yaml",
    ),
    Case(
        "deep-explain-990",
        "yaml",
        ("explain", "--cluster", "zone-1-dev", "Deep/deep", "spec.k0"),
        add_resource("deep.yaml", nested_block(990)),
        expect="clean",
        where=f"{BASE}/deep.yaml",
    ),
    Case(
        "deep-json6902-990",
        "yaml",
        RENDER,
        steps(
            add_resource("deep.yaml", nested_block(990)),
            write(
                f"{DEV}/deep-json.yaml",
                "- op: replace\n  path: /spec/"
                + "/".join(f"k{i}" for i in range(990))
                + "\n  value: patched\n",
            ),
            replace(
                f"{DEV}/kustomization.yaml",
                "patches:\n",
                "patches:\n- path: deep-json.yaml\n  target:\n    kind: Deep\n",
            ),
        ),
        expect="clean",
        where=f"{DEV}/deep-json.yaml",
    ),
    Case(
        "utf16-inventory",
        "yaml",
        GEN,
        lambda w: w.write(CL, w.path(CL).read_text().encode("utf-16")),
        expect="clean",
        where=CL,
    ),
    Case(
        "latin1-resource",
        "yaml",
        RENDER,
        add_resource("latin.yaml", configmap("latin", "  a: caf\xe9\n").encode("latin-1")),
        where=f"{BASE}/latin.yaml",
    ),
    Case(
        "bom-inventory",
        "yaml",
        ("generate", "--check"),
        lambda w: w.write(CL, b"\xef\xbb\xbf" + w.path(CL).read_bytes()),
        expect="ok",
    ),
    Case(
        "crlf-inventory",
        "yaml",
        ("generate", "--check"),
        lambda w: w.write(CL, w.path(CL).read_bytes().replace(b"\n", b"\r\n")),
        expect="ok",
    ),
    Case(
        "crlf-resource",
        "yaml",
        RENDER,
        lambda w: w.write(
            f"{BASE}/service.yaml", w.path(f"{BASE}/service.yaml").read_bytes().replace(b"\n", b"\r\n")
        ),
        expect="ok",
    ),
    Case(
        "duplicate-key-inventory",
        "yaml",
        GEN,
        replace(CL, "  name: zone-1-dev\n", "  name: zone-1-dev\n  name: zone-1-dev\n"),
        where=f"{CL}:5",
    ),
    Case(
        "duplicate-key-resource",
        "yaml",
        RENDER,
        replace(f"{BASE}/service.yaml", "kind: Service\n", "kind: Service\nkind: Service\n"),
        where=f"{BASE}/service.yaml:",
    ),
    Case(
        "python-tag-inventory",
        "yaml",
        GEN,
        replace(CL, "nodes: 2\n", "nodes: !!python/object:os.system 2\n"),
        where=CL,
    ),
    Case(
        "binary-tag-inventory", "yaml", GEN, replace(CL, "nodes: 2\n", "nodes: !!binary aGVsbG8=\n"), where=CL
    ),
    Case(
        "custom-tag-resource",
        "yaml",
        RENDER,
        add_resource("tag.yaml", configmap("tag", "  a: !custom b\n")),
        expect="clean",
        where=f"{BASE}/tag.yaml",
    ),
    Case("empty-inventory", "yaml", GEN, write(CL, ""), where=CL),
    Case("list-inventory", "yaml", GEN, write(CL, "- a\n- b\n"), where=CL),
    Case(
        "two-documents-inventory",
        "yaml",
        GEN,
        lambda w: w.append(CL, "---\nkind: Other\n"),
        expect="clean",
        where=CL,
    ),
    Case(
        "nul-byte-resource-path",
        "yaml",
        RENDER,
        replace(f"{BASE}/kustomization.yaml", "- service.yaml\n", '- "serv\\0ice.yaml"\n'),
        where=f"{BASE}/kustomization.yaml",
    ),
    Case(
        "nul-byte-in-file",
        "yaml",
        RENDER,
        add_resource("nul.yaml", b"apiVersion: v1\nkind: ConfigMap\x00\n"),
        where=f"{BASE}/nul.yaml",
    ),
    Case(
        "del-char-validate",
        "yaml",
        VALIDATE,
        add_resource("del.yaml", configmap("del", '  a: "x\\x7fy"\n')),
        expect="findings",
        where=f"{BASE}/del.yaml",
    ),
    Case(
        "del-char-render",
        "yaml",
        RENDER,
        add_resource("del.yaml", configmap("del", '  a: "x\\x7fy"\n')),
        where=f"{BASE}/del.yaml",
    ),
    Case(
        "del-char-commit",
        "yaml",
        COMMIT,
        steps(add_resource("del.yaml", configmap("del", '  a: "x\\x7fy"\n')), lambda w: w.git("add", "-A")),
        problems_ok=True,
        where=f"{BASE}/del.yaml",
    ),
    Case(
        "inf-in-custom-resource",
        "yaml",
        VALIDATE,
        add_resource(
            "inf.yaml",
            "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  x: .inf\n  y: .nan\n",
        ),
        expect="findings",
        where=f"{BASE}/inf.yaml",
    ),
    # ------------------------------------------------------------ inventory hostility
    Case("nodes-1e3", "inventory", GEN, replace(CL, "nodes: 2\n", "nodes: 1e3\n"), where=f"{CL}:11"),
    Case("count-4.0", "inventory", GEN, replace(CL, "count: 1}", "count: 4.0}"), where=f"{CL}:15"),
    Case(
        "nodes-huge-int",
        "inventory",
        GEN,
        replace(CL, "nodes: 2\n", "nodes: 99999999999999999999999999\n"),
        where=f"{CL}:11",
    ),
    Case("nodes-negative", "inventory", GEN, replace(CL, "nodes: 2\n", "nodes: -1\n"), where=f"{CL}:11"),
    Case("nodes-string", "inventory", GEN, replace(CL, "nodes: 2\n", "nodes: '2'\n"), where=f"{CL}:11"),
    Case(
        "name-with-slash",
        "inventory",
        GEN,
        replace(CL, "name: zone-1-dev", "name: zone-1/dev"),
        where=f"{CL}:4",
    ),
    Case("name-dotdot", "inventory", GEN, rename_cluster_dir("a..b"), expect="clean", where="clusters/a..b"),
    Case(
        "name-unicode",
        "inventory",
        GEN,
        rename_cluster_dir("zöne-1-dev"),
        expect="clean",
        where="clusters/zöne-1-dev",
    ),
    Case("name-newline", "inventory", GEN, rename_cluster_dir("zone\nevil"), where="clusters/zone"),
    Case(
        "app-dotdot",
        "inventory",
        GEN,
        replace(CL, "    - private-detector\n", "    - ../../../x\n"),
        where=CL,
    ),
    Case(
        "overlay-dotdot",
        "inventory",
        GEN,
        replace(CL, "overlay: zone-1-dev", "overlay: ../../../../x"),
        where=CL,
    ),
    Case(
        "layer-value-dotdot",
        "inventory",
        GEN,
        replace(CL, "env: dev}", "env: ../../../x}"),
        expect="clean",
        where=CL,
    ),
    Case(
        "layer-value-slash",
        "inventory",
        RENDER,
        replace(CL, "env: dev}", "env: dev/../../env/prod}"),
        expect="clean",
        where=CL,
    ),
    Case(
        "cluster-yml",
        "inventory",
        GEN,
        lambda w: os.rename(w.path(CL), w.path(CL[:-1])),
        where="clusters/zone-1-dev",
    ),
    Case(
        "cluster-yaml-is-dir",
        "inventory",
        GEN,
        lambda w: (w.remove(CL), w.path(CL).mkdir()),
        where="clusters/zone-1-dev",
    ),
    Case(
        "cluster-dir-empty",
        "inventory",
        GEN,
        lambda w: (w.remove("clusters/zone-1-dev"), w.path("clusters/zone-1-dev").mkdir()),
        where="clusters/zone-1-dev",
    ),
    Case("cluster-yaml-unreadable", "inventory", GEN, chmod(CL, 0), nobody=True, where=CL),
    Case(
        "many-clusters-count",
        "inventory",
        GEN,
        replace(CL, "count: 1}", "count: 100000000000000000000}"),
        where=f"{CL}:15",
    ),
    # ------------------------------------------------------------ file system
    Case(
        "symlink-resource-escape",
        "fs",
        RENDER,
        lambda w: (w.path(f"{BASE}/service.yaml").unlink(), w.link(f"{BASE}/service.yaml", "/etc/hostname")),
        where=f"{BASE}/service.yaml",
    ),
    Case(
        "symlink-inventory-escape",
        "fs",
        GEN,
        lambda w: (w.write("../outside.yaml", w.path(CL).read_text()), w.link(CL, w.base / "outside.yaml")),
        where=CL,
    ),
    Case(
        "symlink-loop-file",
        "fs",
        RENDER,
        lambda w: w.link(f"{BASE}/service.yaml", "service.yaml"),
        where=f"{BASE}/kustomization.yaml:10",
    ),
    Case(
        "symlink-loop-dir",
        "fs",
        RENDER,
        steps(
            lambda w: w.link(f"{BASE}/sub", "."),
            replace(f"{BASE}/kustomization.yaml", "- service.yaml\n", "- service.yaml\n- sub\n"),
        ),
        where=BASE,
    ),
    Case(
        "symlink-mapping-dir-escape",
        "fs",
        GEN,
        steps(
            make_stale,
            lambda w: (
                (w.base / "elsewhere").mkdir(),
                os.rename(w.path("mapping/zone-1-dev"), w.base / "elsewhere/m"),
                w.link("mapping/zone-1-dev", w.base / "elsewhere/m"),
            ),
        ),
        where="mapping/zone-1-dev",
    ),
    Case("dir-where-generate-writes", "fs", GEN, lambda w: (w.remove(MAP), w.path(MAP).mkdir()), where=MAP),
    Case(
        "read-only-dir-where-generate-writes",
        "fs",
        GEN,
        steps(make_stale, chmod("mapping/zone-1-dev", 0o555)),
        nobody=True,
        where="mapping/zone-1-dev",
    ),
    Case(
        "immutable-file-mid-write",
        "fs",
        GEN,
        steps(make_stale, chattr_immutable("mapping/zone-2-prod")),
        root_only=True,
        where="mapping/zone-2-prod",
    ),
    Case(
        "unreadable-component-dir",
        "fs",
        GEN,
        chmod("apps/private-detector/env", 0),
        nobody=True,
        where="apps/private-detector/env",
    ),
    Case(
        "unreadable-resource",
        "fs",
        RENDER,
        chmod(f"{BASE}/service.yaml", 0),
        nobody=True,
        where=f"{BASE}/service.yaml",
    ),
    Case(
        "read-only-repo-authoring",
        "fs",
        ("enable", "toxicity-detector", "--cluster", "zone-1-dev"),
        chmod_tree(".", 0o555),
        nobody=True,
        where="clusters/zone-1-dev",
    ),
    Case(
        "render-out-read-only",
        "fs",
        RENDER,
        lambda w: (w.out.mkdir(), os.chmod(w.out, 0o555)),
        nobody=True,
        where="out",
    ),
    Case(
        "render-out-under-file",
        "fs",
        ("render", "--out", "{base}/afile/out"),
        lambda w: (w.base / "afile").write_text("x"),
        where="afile",
    ),
    Case(
        "render-out-is-cluster-dir",
        "fs",
        ("render", "--out", "{repo}/clusters/zone-1-dev"),
        where="clusters/zone-1-dev",
    ),
    Case(
        "render-out-is-app-base",
        "fs",
        ("render", "--out", "{repo}/apps/private-detector/base"),
        where="apps/private-detector/base",
    ),
    Case(
        "render-out-foreign-file",
        "fs",
        RENDER,
        lambda w: (w.out.mkdir(), (w.out / "zone-1-dev.yaml").write_text("mine\n"), w.watch("out", w.out)),
        where="zone-1-dev.yaml",
    ),
    Case(
        "render-out-removes-its-stale-files",
        "fs",
        RENDER,
        out_rendered_then_cluster_removed,
        expect="ok",
        post=stale_out_removed,
    ),
    Case(
        "symlinked-inventory-authoring",
        "fs",
        ("enable", "toxicity-detector", "--cluster", "zone-1-dev"),
        symlinked_cluster,
        expect="clean",
        where=CL,
        post=link_edited,
    ),
    Case("chain-of-400-bases", "fs", ("build", "chain/c399"), chain_of_bases(400), expect="ok"),
    # ------------------------------------------------------------ locks and what dead runs leave
    Case(
        "lock-held-generate",
        "locks",
        GEN,
        steps(make_stale, lock(None)),
        where="another gitops-gen is running",
    ),
    Case(
        "lock-held-authoring",
        "locks",
        ("enable", "toxicity-detector", "--cluster", "zone-1-dev"),
        lock(None),
        where="another gitops-gen is running",
    ),
    Case(
        "lock-held-commit",
        "locks",
        COMMIT,
        steps(staged_change, lock(None)),
        where="another gitops-gen is running",
    ),
    Case("lock-held-render-out", "locks", RENDER, lock(None), where="another gitops-gen is running"),
    Case("lock-stale", "locks", GEN, lambda w: lock(dead_pid())(w), expect="ok", post=lock_gone),
    Case(
        "dead-temp-files-generate",
        "locks",
        GEN,
        steps(make_stale, dead_temp_files),
        expect="ok",
        post=dead_temps_gone,
    ),
    Case(
        "dead-temp-files-commit",
        "locks",
        COMMIT,
        steps(dead_temp_files, staged_change),  # `git add -A` stages them too
        expect="ok",
        post=dead_temps_gone_and_not_committed,
    ),
    # ------------------------------------------------------------ git
    Case("diff-no-commits", "git", ("diff", "--base", "HEAD"), no_commits, where="HEAD", exit_code=2),
    Case("commit-no-commits", "git", COMMIT, steps(no_commits, lambda w: w.git("add", "-A")), expect="ok"),
    Case("commit-detached-head", "git", COMMIT, detached, expect="clean"),
    Case("diff-shallow-base", "git", ("diff", "--base", "HEAD~1"), shallow_clone, where="HEAD~1"),
    Case("diff-bad-ref", "git", ("diff", "--base", "no-such-ref"), where="no-such-ref", exit_code=2),
    Case("diff-ref-newline", "git", ("diff", "--base", "a\nb"), where="a", exit_code=2),
    Case(
        "diff-bad-head",
        "git",
        ("diff", "--base", "HEAD", "--head", "nope^{{tree}}"),
        where="nope",
        exit_code=2,
    ),
    Case(
        "commit-stale-index-lock",
        "git",
        COMMIT,
        steps(staged_change, lambda w: w.path(".git/index.lock").write_text("")),
        where="index.lock",
    ),
    Case(
        "commit-refusing-remote",
        "git",
        ("commit", "-m", "change", "--push"),
        refusing_remote,
        where="git push failed",
        changes_ok=True,
    ),
    Case(
        "commit-not-a-repo",
        "git",
        COMMIT,
        lambda w: __import__("shutil").rmtree(w.path(".git")),
        where="not a git repository",
        exit_code=2,
    ),
    Case(
        "rendered-to-escaping-name",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{target}"),
        escaping_name,
        where="../../x/escape",
        post=nothing_outside,
    ),
    Case(
        "rendered-to-source-repo",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{repo}"),
        where="--rendered-to",
    ),
    Case(
        "rendered-to-repo-containing-source",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{base}"),
        lambda w: containing_repo(w),
        where="--rendered-to",
    ),
    Case(
        "rendered-to-keeps-foreign-files",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{target}", "--branch", "main"),
        with_target({"README.md": "x\n", "docs/keep.yaml": "a: b\n"}),
        expect="ok",
        post=keep_file_survives,
    ),
    Case(
        "rendered-to-leaves-checkout",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{target}"),
        with_target(),
        expect="ok",
        post=target_checkout_untouched,
    ),
    Case(
        "rendered-to-namespaced-kinds",
        "rendered",
        ("commit", "-m", "x", "--rendered-to", "{target}"),
        with_target(),
        expect="ok",
        post=no_namespaced_in_cluster_dir,
    ),  # every app has a namespace now
    # ------------------------------------------------------------ secrets (the validation helper's masking)
    Case(
        "secret-data-string-validate",
        "secrets",
        VALIDATE,
        secret_data_string,
        expect="findings",
        where=f"{BASE}/secret.yaml",
        owner="validation",
    ),
    Case(
        "secret-json6902-error",
        "secrets",
        RENDER,
        secret_json6902,
        where=f"{DEV}/secret-patch.yaml",
        owner="validation",
    ),
    Case(
        "secret-last-applied-diff",
        "secrets",
        ("diff", "--base", "HEAD"),
        secret_last_applied,
        expect="ok",
        owner="validation",
    ),
    Case(
        "secret-last-applied-diff-json",
        "secrets",
        ("diff", "--base", "HEAD", "--format", "json"),
        secret_last_applied,
        expect="ok",
        owner="validation",
    ),
    Case(
        "secret-diff-not-mapping",
        "secrets",
        ("diff", "--base", "HEAD"),
        secret_diff_not_mapping,
        expect="clean",
        owner="validation",
    ),
]
