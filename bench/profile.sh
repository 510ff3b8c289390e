#!/usr/bin/env bash
# Profile one `gitops-gen render` of the synthetic fleet.
#
#   bench/profile.sh [CLUSTERS] [APPS] [TOOL]      defaults: 50 40 auto
#
# TOOL: pyinstrument (if installed in the venv), py-spy (if on PATH), cprofile (stdlib, always there);
# auto picks the first available. Neither pyinstrument nor py-spy is a project dependency: install one by
# hand for profiling only, e.g. `.venv/bin/pip install pyinstrument`.
# The fleet is kept in bench/.fleets/profile-<C>x<A>/ and reused on the next run; delete it to regenerate.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
py="$root/.venv/bin/python"
clusters=${1:-50}
apps=${2:-40}
tool=${3:-auto}
work="$here/.fleets/profile-${clusters}x${apps}"
repo="$work/repo"
out="$work/render"

if [ ! -f "$repo/gitops-gen.yaml" ]; then
    rm -rf "$work"
    "$py" "$here/fleetgen.py" "$repo" --clusters "$clusters" --apps "$apps"
fi
"$py" -m gitops_gen generate --repo "$repo"
rm -rf "$out"

if [ "$tool" = auto ]; then
    if "$py" -c 'import pyinstrument' 2>/dev/null; then
        tool=pyinstrument
    elif command -v py-spy >/dev/null; then
        tool=py-spy
    else
        tool=cprofile
    fi
fi

render=(-m gitops_gen render --repo "$repo" --out "$out")
case "$tool" in
    pyinstrument)
        "$py" -m pyinstrument -r html -o "$work/render.html" "${render[@]}"
        "$py" -m pyinstrument -r text -o "$work/render.txt" "${render[@]}"
        echo "profile: $work/render.html (open in a browser), $work/render.txt"
        ;;
    py-spy)
        py-spy record --rate 250 -o "$work/render.svg" -- "$py" "${render[@]}"
        echo "profile: $work/render.svg (flame graph)"
        ;;
    cprofile)
        "$py" -m cProfile -o "$work/render.prof" "${render[@]}"
        "$py" -c 'import pstats, sys; pstats.Stats(sys.argv[1]).sort_stats("cumulative").print_stats(35)' \
            "$work/render.prof" | tee "$work/render.txt"
        echo "profile: $work/render.prof (pstats), top entries in $work/render.txt"
        ;;
    *)
        echo "profile.sh: unknown tool '$tool' (pyinstrument, py-spy, cprofile or auto)" >&2
        exit 2
        ;;
esac
