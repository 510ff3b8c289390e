"""Real-world fidelity corpus: kustomization directories from public repositories, with kubectl's output.

    python bench/corpus.py collect --repo OWNER/NAME --commit SHA SRC_DIR   # add one checkout (needs kubectl, strace)
    python bench/corpus.py verify                                          # rebuild every expectation from the corpus copy
    python bench/corpus.py run [-j N] [--show CLASS] [DIR_PREFIX ...]      # gitops-gen against the stored outputs

`collect` finds every kustomization directory of SRC_DIR, leaves out those that need the network
(remote resources, helmCharts), runs `kubectl kustomize` under strace to learn exactly which files
the build reads, and copies only those (text files) into tests/corpus/src/<owner+name>/. `verify`
then runs kubectl again on the copies (so an expectation never depends on a file the copy lacks)
and stores expected.yaml or expected-error.txt under tests/corpus/expected/. `run` builds every
directory with `python -m gitops_gen build` (a subprocess, so it does not depend on the package's
layout) and prints per-class counts and the fidelity rate. Only `run` is needed without kubectl.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SRC = CORPUS / "src"
EXPECTED = CORPUS / "expected"
INDEX = CORPUS / "index.json"
KUST_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
REMOTE = re.compile(r"^(https?://|git@|ssh://|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|://|\?ref=")
KLOG_PREFIX = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+:\d+\] ", re.MULTILINE)
GO_POINTER = re.compile(r"\b0xc[0-9a-f]{6,}\b")
# openat/readlinkat/newfstatat lines of `strace -f`: the path argument and the result.
STRACE_PATH = re.compile(r'^\d+\s+\w+\((?:AT_FDCWD|\d+), "((?:[^"\\]|\\.)*)".*\) = (-?\d+)')
SKIP_DIRS = {".git", "node_modules", "vendor", ".github"}
MAX_FILE = 2_000_000
MAX_OUTPUT = 100_000
# Projects' code (scripts a generator puts into a ConfigMap, logos) is never copied: such builds are left out.
CODE_SUFFIXES = (".py", ".sh", ".js", ".ts", ".go", ".lua", ".rb", ".java", ".svg", ".png", ".jpg")


# ---------------------------------------------------------------------------------------- collect
def kustomization_dirs(src: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        if any(n in filenames for n in KUST_NAMES):
            found.append(Path(dirpath))
    return found


def load_kustomization(directory: Path) -> dict[str, Any] | None:
    for name in KUST_NAMES:
        path = directory / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
            except yaml.YAMLError:
                return None
            return data if isinstance(data, dict) else None
    return None


def network_need(directory: Path, seen: set[Path] | None = None) -> str | None:
    """Why building DIRECTORY would need the network ("remote", "helm"), following local sub-kustomizations."""
    seen = seen if seen is not None else set()
    real = directory.resolve()
    if real in seen:
        return None
    seen.add(real)
    data = load_kustomization(directory)
    if data is None:
        return None
    if data.get("helmCharts") or data.get("helmChartInflationGenerator"):
        return "helm"
    for key in ("resources", "bases", "components"):
        for entry in data.get(key) or []:
            if not isinstance(entry, str):
                continue
            if REMOTE.search(entry):
                return "remote"
            sub = directory / entry
            if sub.is_dir():
                why = network_need(sub, seen)
                if why:
                    return why
    return None


def traced_build(directory: Path, src: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """kubectl's result and every path under SRC it opened, stat'ed or read a link of."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "trace"
        proc = subprocess.run(
            [
                "strace",
                "-f",
                "-qq",
                "-o",
                str(log),
                "-e",
                "trace=openat,readlinkat,newfstatat,lstat,stat",
                "kubectl",
                "kustomize",
                str(directory),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        touched: set[str] = set()
        prefix = str(src.resolve()) + "/"
        for line in log.read_text(errors="replace").splitlines():
            m = STRACE_PATH.match(line)
            if m and int(m.group(2)) >= 0 and m.group(1).startswith(prefix):
                touched.add(m.group(1)[len(prefix) :])
    return proc, touched


def files_to_copy(src: Path, touched: set[str]) -> set[str] | str:
    """Regular files and symlinks (relative to SRC) a build needs, or why it cannot be kept."""
    keep: set[str] = set()
    todo = list(touched)
    while todo:
        rel = todo.pop()
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            path = src / sub
            if path.is_symlink():
                target = (path.parent / os.readlink(path)).resolve()
                if not target.is_relative_to(src.resolve()):
                    return "symlink-outside"
                if sub not in keep:
                    keep.add(sub)
                    todo.append(target.relative_to(src.resolve()).as_posix())
        path = src / rel
        if path.is_file() and not path.is_symlink():
            if path.name.endswith(CODE_SUFFIXES):
                return "code"
            data = path.read_bytes()
            if b"\0" in data:
                return "binary"
            if len(shrink_schemas(data)) > MAX_FILE:
                return "large"
            keep.add(rel)
    return keep


SCHEMA_LINE = re.compile(rb"^( *)openAPIV3Schema:[ \t]*\r?$")


def shrink_schemas(data: bytes) -> bytes:
    """CRD schemas are most of a corpus's bytes and kustomize never reads them: keep only `type: object`.

    A text edit, so every other byte of the file stays as its authors wrote it; `verify` re-runs
    kubectl on the copy, so an expectation always matches the shrunken input.
    """
    if b"CustomResourceDefinition" not in data or b"openAPIV3Schema:" not in data:
        return data
    lines = data.splitlines(keepends=True)
    out: list[bytes] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        m = SCHEMA_LINE.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        start = i
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip(b" ")) > indent
        ):
            i += 1
        if i > start:
            eol = b"\r\n" if line.endswith(b"\r\n") else b"\n"
            out.append(b" " * (indent + 2) + b"type: object" + eol)
    return b"".join(out)


def copy_into(src: Path, dest: Path, files: set[str], shrink: bool = True) -> None:
    for rel in sorted(files):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        path = src / rel
        if path.is_symlink():
            if not target.is_symlink():
                os.symlink(os.readlink(path), target)
        elif not shrink or not target.exists():
            data = path.read_bytes()
            target.write_bytes(shrink_schemas(data) if shrink else data)


def load_index() -> dict[str, Any]:
    if INDEX.is_file():
        return json.loads(INDEX.read_text())
    return {"repos": {}, "source": {}, "dirs": {}, "excluded": {}}


def save_index(index: dict[str, Any]) -> None:
    INDEX.parent.mkdir(parents=True, exist_ok=True)
    for key in ("source", "dirs"):
        index[key] = dict(sorted(index[key].items()))
    INDEX.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


def cmd_collect(args: argparse.Namespace) -> int:
    src = Path(args.src).resolve()
    key = args.repo.replace("/", "+")
    index = load_index()
    index["repos"][key] = {"url": f"https://github.com/{args.repo}", "commit": args.commit}
    excluded: dict[str, list[str]] = defaultdict(list)
    dirs = kustomization_dirs(src)

    def one(directory: Path) -> tuple[str, str | tuple[str, set[str]]]:
        rel = directory.relative_to(src).as_posix()
        why = network_need(directory)
        if why:
            return rel, why
        proc, touched = traced_build(directory, src)
        if any(REMOTE.search(line) for line in proc.stderr.splitlines() if "git" in line or "http" in line):
            return rel, "remote"
        files = files_to_copy(src, touched)
        if isinstance(files, str):
            return rel, files
        # kubectl's verdict on the original: `verify` checks the copy agrees.
        return rel, ("ok" if proc.returncode == 0 else "error", files)

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, dirs))
    dest = SRC / key
    for rel, outcome in results:
        name = f"{key}/{rel}" if rel != "." else key
        if isinstance(outcome, str):
            excluded[outcome].append(name)
            continue
        copy_into(src, dest, outcome[1])
        index["source"][name] = outcome[0]
    # A patch may reach into a schema: where the shrunken copy changes kubectl's verdict, copy in full.
    kept_dirs = [(rel, o) for rel, o in results if not isinstance(o, str)]
    with ThreadPoolExecutor(args.jobs) as pool:
        verdicts = list(
            pool.map(lambda item: kubectl(f"{key}/{item[0]}" if item[0] != "." else key), kept_dirs)
        )
    for (_rel, outcome), proc in zip(kept_dirs, verdicts, strict=True):
        assert not isinstance(outcome, str)
        if (outcome[0] == "ok") != (proc.returncode == 0):
            copy_into(src, dest, outcome[1], shrink=False)
    for why, names in excluded.items():
        index["excluded"].setdefault(why, [])
        index["excluded"][why] = sorted(set(index["excluded"][why]) | set(names))
    save_index(index)
    kept = sum(1 for _, o in results if not isinstance(o, str))
    print(
        f"{args.repo}: {len(dirs)} kustomization directories, {kept} kept, "
        + ", ".join(f"{len(v)} {k}" for k, v in sorted(excluded.items()))
    )
    return 0


def kubectl(directory: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["kubectl", "kustomize", directory], cwd=SRC, capture_output=True, text=True, timeout=120, check=False
    )
    stderr = proc.stderr.replace(str(SRC) + "/", "")
    proc.stderr = GO_POINTER.sub("0xPOINTER", KLOG_PREFIX.sub("", stderr))
    return proc


def cmd_verify(args: argparse.Namespace) -> int:
    index = load_index()
    names = sorted(index["source"])

    def one(name: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        return name, kubectl(name)

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, names))
    if EXPECTED.exists():
        shutil.rmtree(EXPECTED)
    index["dirs"] = {}
    index["excluded"].pop("copy-differs", None)
    index["excluded"].pop("large-output", None)
    for name, proc in results:
        if (index["source"][name] == "ok") != (proc.returncode == 0):
            print(
                f"{name}: kubectl {'fails' if proc.returncode else 'succeeds'} on the copy, not on the source"
            )
            index["excluded"].setdefault("copy-differs", []).append(name)
            del index["source"][name]
            continue
        if proc.returncode == 0 and len(proc.stdout) > MAX_OUTPUT:
            # Whole-platform installs repeat what their parts build; they would double the corpus.
            index["excluded"].setdefault("large-output", []).append(name)
            del index["source"][name]
            continue
        out = EXPECTED / name
        out.mkdir(parents=True, exist_ok=True)
        if proc.returncode == 0:
            (out / "expected.yaml").write_text(proc.stdout)
            index["dirs"][name] = "ok"
        else:
            (out / "expected-error.txt").write_text(proc.stderr)
            index["dirs"][name] = "error"
    save_index(index)
    counts = Counter(index["dirs"].values())
    print(f"{len(names)} directories: {counts['ok']} build with kubectl, {counts['error']} fail")
    return 0


# ---------------------------------------------------------------------------------------- run
UNSUPPORTED = re.compile(r"not supported: (remote \w+|[\w.\[\]]+)")


def classify(name: str, python: str) -> tuple[str, str]:
    """(class, cause) of gitops-gen's build of one corpus directory against the stored kubectl result."""
    expected_ok = (EXPECTED / name / "expected.yaml").is_file()
    proc = subprocess.run(
        [python, "-m", "gitops_gen", "build", str(SRC / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        return "crash", (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1][:200]
    if not expected_ok:
        return ("refused", "") if proc.returncode else ("accepted-invalid", first_error(name))
    if proc.returncode:
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        m = UNSUPPORTED.search(message)
        if m:
            return "unsupported", m.group(1)
        return "error", normalize_error(message)
    expected = (EXPECTED / name / "expected.yaml").read_text()
    if proc.stdout == expected:
        return "identical", ""
    return "different", first_difference(expected, proc.stdout)


def first_error(name: str) -> str:
    lines = (EXPECTED / name / "expected-error.txt").read_text().strip().splitlines()
    return normalize_error(lines[-1] if lines else "")


def normalize_error(message: str) -> str:
    message = re.sub(r"\S*tests/corpus/src/\S*", "PATH", message)
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    return message[:160]


def first_difference(expected: str, got: str) -> str:
    exp, out = expected.splitlines(), got.splitlines()
    for i, (a, b) in enumerate(zip(exp, out, strict=False)):
        if a != b:
            return f"line {i + 1}: kubectl {a.strip()[:70]!r} / ours {b.strip()[:70]!r}"
    return f"length: kubectl {len(exp)} lines / ours {len(out)} lines"


def cmd_run(args: argparse.Namespace) -> int:
    index = load_index()
    names = [n for n in index["dirs"] if not args.prefix or any(n.startswith(p) for p in args.prefix)]
    python = args.python or sys.executable

    with ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(names, pool.map(lambda n: classify(n, python), names), strict=True))
    by_class: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, (cls, cause) in sorted(results.items()):
        by_class[cls].append((name, cause))
    buildable = sum(1 for n in names if index["dirs"][n] == "ok")
    excluded = {k: len(v) for k, v in index.get("excluded", {}).items()}
    print(
        f"corpus: {len(names)} directories from {len(index['repos'])} repositories "
        f"({buildable} build with kubectl); left out: {excluded}"
    )
    order = ["identical", "different", "unsupported", "error", "crash", "accepted-invalid", "refused"]
    for cls in order:
        print(f"  {cls:17} {len(by_class.get(cls, []))}")
    identical = len(by_class.get("identical", []))
    rate = identical / buildable if buildable else 0.0
    print(f"fidelity: {identical}/{buildable} = {rate:.1%}")
    for cls in order[1:-1]:
        entries = by_class.get(cls, [])
        if not entries:
            continue
        causes = Counter(cause.split(": kubectl")[0] if cls == "different" else cause for _, cause in entries)
        print(f"\n{cls}:")
        if cls == "unsupported" or cls == "error" or cls == "accepted-invalid" or cls == "crash":
            for cause, n in causes.most_common():
                print(f"  {n:4}  {cause}")
        if cls in args.show or cls == "different" or cls == "crash":
            for name, cause in entries:
                print(f"        {name}: {cause}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect")
    p.add_argument("--repo", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("src")
    p = sub.add_parser("verify")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p = sub.add_parser("run")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--python", help="interpreter with gitops_gen installed (default: this one)")
    p.add_argument("--show", action="append", default=[], help="also list every directory of this class")
    p.add_argument("--json", help="write every directory's class and cause to this file")
    p.add_argument("prefix", nargs="*")
    args = parser.parse_args()
    return {"collect": cmd_collect, "verify": cmd_verify, "run": cmd_run}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
