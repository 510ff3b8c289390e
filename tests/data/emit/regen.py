"""Regenerate tests/data/emit/*/expected.yaml with the oracle, `kubectl kustomize`.

Each case directory holds ``input.yaml``; this copies it as the only resource
of a throw-away kustomization and stores kubectl's stdout byte for byte. Our
own code is never used to produce expectations.

    .venv/bin/python tests/data/emit/regen.py [CASE ...]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def kustomize_output(input_file: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(input_file, Path(tmp, "resource.yaml"))
        Path(tmp, "kustomization.yaml").write_text("resources:\n- resource.yaml\n")
        proc = subprocess.run(["kubectl", "kustomize", tmp], capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"{input_file}: kubectl kustomize failed: {proc.stderr.decode().strip()}")
    return proc.stdout.decode("utf-8")


def main(names: list[str]) -> None:
    cases = (
        [HERE / n for n in names]
        if names
        else sorted(p for p in HERE.iterdir() if (p / "input.yaml").is_file())
    )
    for case in cases:
        out = kustomize_output(case / "input.yaml")
        (case / "expected.yaml").write_bytes(out.encode("utf-8"))
        print(f"{case.name}: {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
