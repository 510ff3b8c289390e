"""The fault harness: run the CLI as a subprocess against a hostile repository and check the contract.

The contract (DESIGN.md section 7 and the README): bad input exits 1 with one line naming the file
(and line where there is one), never a traceback; a failed command changes no file; no run, failed
or not, leaves temp files or locks behind; no output quotes a secret value. Only the command line is
driven, so the harness does not depend on how the package is laid out inside.

``bench/faults.py`` reuses this module for the slow part (kill -9, concurrent runs, a full disk).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEET_PARTS = ("gitops-gen.yaml", ".sourceignore", "clusters", "apps", "mapping")

# A value no output may ever show, in any encoding a Secret holds it.
SECRET_VALUE = "hunter2-fault-harness-s3cr3t"
SECRET_B64 = base64.b64encode(SECRET_VALUE.encode()).decode()
SECRET_YAML = f"""apiVersion: v1
kind: Secret
metadata:
  name: pd-token
type: Opaque
stringData:
  token: {SECRET_VALUE}
data:
  key: {SECRET_B64}
"""

NOBODY = 65534
TIMEOUT = 60
PROBLEM_LINE = re.compile(r"^[^\s:][^:]*:\d+:\d+: (error|warning): \[[\w-]+\] ")
ERROR_PREFIX = "gitops-gen: error: "
# Temp files of ours (".name.<pid>.<n>.tmp", mkstemp's ".x.tmp") and git's lock files.
LEFTOVER = re.compile(r"(\.tmp$|\.tmp\.|(^|/)\.[^/]*\.\d+\.\d+\.tmp|\.lock$)")
# What a command may change under .git even when it fails: validate's cache, generate's plan memo.
GIT_VOLATILE = ("gitops-gen/validate-demand.marshal", "gitops-gen/generate-plan.marshal")


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=check, capture_output=True, text=True, env=env
    ).stdout


def init_repo(repo: Path, branch: str = "main") -> Path:
    git(repo, "init", "-q", "-b", branch)
    for key, value in (
        ("user.email", "faults@example.com"),
        ("user.name", "Fault Harness"),
        ("commit.gpgsign", "false"),
        ("core.autocrlf", "false"),
    ):
        git(repo, "config", key, value)
    return repo


def commit_all(repo: Path, message: str = "fleet") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def example_fleet(dest: Path, with_secret: bool = True, commit: bool = True) -> Path:
    """The repository's example fleet (plus one Secret) as a fresh git repository, generated and committed."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in FLEET_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    if with_secret:
        base = dest / "apps/private-detector/base"
        (base / "secret.yaml").write_text(SECRET_YAML)
        kust = base / "kustomization.yaml"
        kust.write_text(kust.read_text().replace("- service.yaml\n", "- service.yaml\n- secret.yaml\n"))
    init_repo(dest)
    if commit:
        commit_all(dest)
    return dest


# ---------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class Outcome:
    code: int  # exit code; -N for a signal, 124 for a timeout
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def command(args: Sequence[str], as_nobody: bool = False, netns: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "gitops_gen", *args]
    if as_nobody and os.geteuid() == 0:
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all", *cmd]
    if netns:
        cmd = ["unshare", "-n", *cmd] if os.geteuid() == 0 else ["unshare", "-rn", *cmd]
    return cmd


def cli_env(home: Path) -> dict[str, str]:
    """No user or system git config, no colour, no terminal: the same run everywhere."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")}
    return {
        **keep,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "NO_COLOR": "1",
        "GITOPS_GEN_NO_CACHE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def cli(
    args: Sequence[str],
    cwd: Path,
    as_nobody: bool = False,
    netns: bool = False,
    timeout: float = TIMEOUT,
    env: dict[str, str] | None = None,
) -> Outcome:
    try:
        proc = subprocess.run(
            command(args, as_nobody, netns),
            cwd=cwd,
            capture_output=True,
            timeout=timeout,
            env=env or cli_env(cwd),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        return Outcome(124, _text(err.stdout), _text(err.stderr) + f"\n(timed out after {timeout} s)")
    return Outcome(proc.returncode, _text(proc.stdout), _text(proc.stderr))


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def netns_available() -> bool:
    try:
        return (
            subprocess.run(
                command(["--version"], netns=True), capture_output=True, timeout=30, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def can_drop_privileges() -> bool:
    """Permission cases need a user the kernel checks permissions for (root reads everything)."""
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


# ---------------------------------------------------------------- the state of a tree


Entry = tuple[str, ...]


def snapshot(root: Path) -> dict[str, Entry]:
    """Every path under ROOT with its type, mode and content digest; for .git what matters to git.

    The index is compared by what it holds (``git ls-files -s``), not its bytes: a read-only
    ``git status`` may refresh its stat data.
    """
    found: dict[str, Entry] = {}
    if not root.exists() and not root.is_symlink():
        return found
    if not root.is_dir() or root.is_symlink():
        return {".": _entry(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".git" or rel_dir.startswith(".git/"):
            dirnames[:] = [d for d in dirnames if d not in ("objects", "logs")]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel == ".git/index" or rel.endswith("/.git/index"):
                owner = path.parent.parent
                found[rel] = ("index", _digest(git(owner, "ls-files", "-s", check=False).encode()))
            elif rel.startswith(".git/") and rel[5:] in GIT_VOLATILE:
                continue
            else:
                found[rel] = _entry(path)
    return found


def _entry(path: Path) -> Entry:
    st = path.lstat()
    if path.is_symlink():
        return ("link", os.readlink(path))
    if path.is_dir():
        return ("dir", oct(st.st_mode & 0o7777))
    try:
        data = path.read_bytes()
    except OSError:
        return ("file", oct(st.st_mode & 0o7777), "unreadable")
    return ("file", oct(st.st_mode & 0o7777), _digest(data))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    out = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            out.append(f"removed {path}")
        elif path not in before:
            out.append(f"added {path}")
        elif before[path] != after[path]:
            out.append(f"changed {path}")
    return out


def leftovers(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """Temp files and locks that appeared (or stayed behind) during a run."""
    return sorted(p for p in after.keys() - before.keys() if LEFTOVER.search(p))


# ---------------------------------------------------------------- the contract


CRASH, UNCLEAN, CHANGED, LEFTOVERS, LEAK = "crash", "unclean", "changed", "leftovers", "leak"


@dataclass
class Verdict:
    """What went wrong, by kind (empty: the run kept the contract)."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.problems.append((kind, detail))

    @property
    def kinds(self) -> set[str]:
        return {k for k, _ in self.problems}

    @property
    def clean(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return "; ".join(f"{k}: {d}" for k, d in self.problems) or "clean"


def is_crash(outcome: Outcome) -> bool:
    return outcome.code not in (0, 1, 2) or "Traceback (most recent call last)" in outcome.text


GIT_SAID = "    "  # gitflow.git indents what git said under our error line


def check_error(
    outcome: Outcome, verdict: Verdict, where: str | None, problems_ok: bool = False, exit_code: int = 1
) -> None:
    """Exit EXIT_CODE (1 bad input, 2 usage) and one line `gitops-gen: error: ...` on stderr naming WHERE
    (problem lines may precede it when PROBLEMS_OK; what a failing git command said may follow it,
    each line indented)."""
    lines = [x for x in outcome.err.splitlines() if not x.startswith(GIT_SAID)]
    if outcome.code != exit_code:
        verdict.add(UNCLEAN, f"exit {outcome.code}, wanted {exit_code}")
    if not lines:
        if not (problems_ok and any(PROBLEM_LINE.match(x) for x in outcome.out.splitlines())):
            verdict.add(UNCLEAN, "no message on stderr")
        return
    body = [x for x in lines if not (problems_ok and PROBLEM_LINE.match(x))]
    if problems_ok and not body:
        message = "\n".join(lines)
    elif len(body) != 1 or not body[0].startswith(ERROR_PREFIX):
        verdict.add(UNCLEAN, f"not one error line: {outcome.err[-400:]!r}")
        message = outcome.err
    else:
        message = body[0]
    if where is not None and where not in message and where not in outcome.err:
        verdict.add(UNCLEAN, f"message does not name {where!r}: {outcome.err[-300:]!r}")


def check_findings(outcome: Outcome, verdict: Verdict, where: str | None) -> None:
    """validate: exit 1, every line a `path:line:col: severity: [rule] message` (or one error line)."""
    if outcome.code != 1:
        verdict.add(UNCLEAN, f"exit {outcome.code}, wanted 1")
    lines = [x for x in (outcome.out + outcome.err).splitlines() if x.strip()]
    odd = [x for x in lines if not PROBLEM_LINE.match(x) and not x.startswith("gitops-gen: ")]
    if odd or not lines:
        verdict.add(UNCLEAN, f"lines that are no finding: {odd[:3]!r}")
    if where is not None and not any(where in x for x in lines):
        verdict.add(UNCLEAN, f"no finding names {where!r}: {lines[:3]!r}")


def judge(
    outcome: Outcome,
    expect: str,
    where: str | None,
    before: dict[str, dict[str, Entry]],
    after: dict[str, dict[str, Entry]],
    secrets: Sequence[str] = (SECRET_VALUE, SECRET_B64),
    problems_ok: bool = False,
    changes_ok: bool = False,
    exit_code: int = 1,
) -> Verdict:
    """The verdict on one run. EXPECT: "ok" (exit 0), "error" (exit 1, one line, nothing changed),
    "findings" (validate's problem lines), "clean" (either ok or a clean error).

    BEFORE/AFTER map a label (repo, out, target) to that tree's snapshot.
    """
    verdict = Verdict()
    if is_crash(outcome):
        tail = outcome.err.strip().splitlines()[-1:] or [""]
        verdict.add(CRASH, f"exit {outcome.code}: {tail[0][:300]}")
    if expect == "clean":
        expect = "ok" if outcome.code == 0 else "error"
        exit_code = outcome.code if outcome.code in (1, 2) else exit_code
    if expect == "ok" and outcome.code != 0:
        verdict.add(UNCLEAN, f"exit {outcome.code}, wanted 0: {outcome.err.strip()[-300:]!r}")
    elif expect == "error":
        check_error(outcome, verdict, where, problems_ok, exit_code)
    elif expect == "findings":
        check_findings(outcome, verdict, where)
    failed = outcome.code != 0
    for label in before:
        if failed and expect != "findings" and not changes_ok:
            changed = changes(before[label], after[label])
            if changed:
                verdict.add(
                    CHANGED, f"{label}: {', '.join(changed[:4])}" + (" ..." if len(changed) > 4 else "")
                )
        left = leftovers(before[label], after[label])
        if left:
            verdict.add(LEFTOVERS, f"{label}: {', '.join(left[:4])}" + (" ..." if len(left) > 4 else ""))
    for secret in secrets:
        if secret in outcome.text:
            verdict.add(LEAK, f"output quotes a secret value ({secret[:6]}...)")
    return verdict


# ---------------------------------------------------------------- helpers for case setups


class Scene:
    """The world one case runs in: a fleet repository and room around it."""

    def __init__(self, base: Path):
        self.base = base
        self.repo = base / "fleet"
        self.out = base / "out"
        self.target = base / "rendered"
        self.labels: dict[str, Path] = {"repo": self.repo}
        self.as_nobody = False

    def path(self, rel: str) -> Path:
        return self.repo / rel

    def write(self, rel: str, data: str | bytes) -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)

    def append(self, rel: str, text: str) -> None:
        self.write(rel, self.path(rel).read_text() + text)

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.path(rel).read_text()
        assert old in text, (rel, old)
        self.write(rel, text.replace(old, new, 1))

    def remove(self, rel: str) -> None:
        path = self.path(rel)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()

    def link(self, rel: str, target: str | Path) -> None:
        path = self.path(rel)
        if path.exists() or path.is_symlink():
            self.remove(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)

    def git(self, *args: str, repo: Path | None = None) -> str:
        return git(repo or self.repo, *args)

    def commit(self, message: str = "change") -> None:
        commit_all(self.repo, message)

    def watch(self, label: str, path: Path) -> None:
        """Also check the tree at PATH (an --out directory, a rendered-to target)."""
        self.labels[label] = path

    def run_as_nobody(self) -> None:
        """Run the CLI as an unprivileged user, owning the whole scene (so only the case's chmods bite)."""
        self.as_nobody = True
        if os.geteuid() == 0:
            for dirpath, dirnames, filenames in os.walk(self.base):
                for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                    os.lchown(name, NOBODY, NOBODY)
            os.chmod(self.base, 0o755)

    def snapshots(self) -> dict[str, dict[str, Entry]]:
        return {label: snapshot(path) for label, path in self.labels.items()}


@contextlib.contextmanager
def scene(fleet: bool = True, commit: bool = True) -> Iterator[Scene]:
    """A fresh scene in its own world-traversable temp dir (an unprivileged run must reach it);
    removed afterwards whatever a case did to permissions."""
    base = Path(tempfile.mkdtemp(prefix="gitops-gen-faults-"))
    os.chmod(base, 0o755)
    try:
        world = Scene(base)
        if fleet:
            shutil.copytree(_template(commit), world.repo, symlinks=True)
        yield world
    finally:
        unlock_tree(base)
        shutil.rmtree(base, ignore_errors=True)


_TEMPLATES: dict[bool, Path] = {}


def _template(commit: bool) -> Path:
    """One prepared fleet per process, copied for each case (git init and commit cost more than a copy)."""
    if commit not in _TEMPLATES:
        where = Path(tempfile.mkdtemp(prefix="gitops-gen-faults-template-"))
        atexit.register(shutil.rmtree, where, ignore_errors=True)
        _TEMPLATES[commit] = example_fleet(where / "fleet", commit=commit)
    return _TEMPLATES[commit]


def unlock_tree(base: Path) -> None:
    """Undo what cases do to make a tree unwritable: modes, immutable flags, mounts."""
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-R", "-i", str(base)], capture_output=True, check=False)
    for dirpath, dirnames, _ in os.walk(base):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames)]:
            with contextlib.suppress(OSError):
                if not os.path.islink(name):
                    os.chmod(name, 0o755)


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
