#!/bin/bash
# Smoke test of the desktop bundle (issue 20): `make bundle-test`, or
#   packaging/smoke.sh dist/hydrotwin-<version>-linux-x86_64.tar.gz [VENV_PYTHON]
#
# The archive is unpacked into a temporary folder, made read-only and owned by root while the
# bundle runs as user `nobody`, with a clean environment (env -i: no venv, no PYTHONPATH), in
# a network namespace with no network (unshare -n) when that is possible. Its outputs are
# compared with the same commands run from the venv (VENV_PYTHON, default .venv/bin/python);
# the venv's Python is used only for the comparisons, after the bundle has run.
set -euo pipefail

ARCHIVE=${1:?usage: smoke.sh ARCHIVE [VENV_PYTHON]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${2:-$ROOT/.venv/bin/python}
# absolute, without resolving links (a venv's python is a link to the system one); the
# checks below run from other folders
case $PY in /*) ;; *) PY=$PWD/$PY ;; esac
case $ARCHIVE in /*) ;; *) ARCHIVE=$PWD/$ARCHIVE ;; esac
SHARED=${HYDROTWIN_SHARED_DATA:-$ROOT/../shared/data}
IFC_SAMPLES=("$SHARED/ifc/ifc4/AC20-FZK-Haus.ifc" "$SHARED/ifc/ifc2x3/duplex.ifc"
    "$SHARED/ifc/ifc4x3_add2/geographic-referencing-utm.ifc")
SL651_FRAMES=$SHARED/sl651/hex_frames.tsv
START=2026-07-01T00:00:00Z
RUN_AS=${HYDROTWIN_SMOKE_USER:-nobody}

T=$(mktemp -d /tmp/hydrotwin-smoke.XXXXXX)
XVFB_PID=""
cleanup() {
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
    chmod -R u+w "$T" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

# -- unpack read-only; a home and an output folder that the bundle's user may write -----------
mkdir -p "$T/opt" "$T/home" "$T/bundle-out" "$T/venv-out"
tar -xzf "$ARCHIVE" -C "$T/opt"
APP=$(find "$T/opt" -maxdepth 2 -name hydrotwin -type f -perm -u+x | head -1)
[ -x "$APP" ] || fail "no hydrotwin executable in $ARCHIVE"
BUNDLE=$(dirname "$APP")
chmod -R a-w "$BUNDLE"
touch "$T/stamp"
chmod 777 "$T/home" "$T/bundle-out"
chmod 755 "$T"
echo "bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), read-only"

AS_USER=()
if [ "$(id -u)" = 0 ]; then
    AS_USER=(setpriv --reuid="$RUN_AS" --regid=nogroup --clear-groups --)
fi
NO_NET=()
if unshare -n true 2>/dev/null; then
    NO_NET=(unshare -n)  # the bundle runs with no network (loopback down)
    echo "network: none (unshare -n)"
fi
DISPLAY_NUM=:$((90 + RANDOM % 9))
bundle() {  # run the bundle's hydrotwin from its unpacked folder, clean environment
    (cd "$T/bundle-out" && "${NO_NET[@]}" "${AS_USER[@]}" env -i PATH=/usr/bin:/bin \
        HOME="$T/home" LANG=C.UTF-8 DISPLAY="$DISPLAY_NUM" "$APP" "$@")
}
venv() {  # the same command from the venv of this source tree
    (cd "$T/venv-out" && HOME="$T/venv-home" \
        PYTHONPATH="$ROOT:$ROOT/plugins/demo_basin" "$PY" -m hydrotwin "$@")
}
compare() { PYTHONPATH="$ROOT" "$PY" "$ROOT/packaging/compare_outputs.py" "$@"; }

# -- 1. the demo is discovered ------------------------------------------------------------
bundle basins --json > "$T/bundle-out/basins.json"
compare basins "$T/bundle-out/basins.json" || fail "basins --json does not list the demo"
ok "basins --json lists the demo (ok, from its entry point)"

# -- 2. render: a picture that is not blank -----------------------------------------------
bundle render --basin demo --out "$T/bundle-out/render.png" --size 800x450 > /dev/null
compare picture "$T/bundle-out/render.png" || fail "render wrote a blank picture"
ok "render --basin demo wrote a non-blank PNG"

# -- 3. forecast: the same NetCDF values as the venv --------------------------------------
FC=(forecast --basin demo --rain design:100yr --hours 24 --start "$START" --out f.nc)
bundle "${FC[@]}" > /dev/null
venv "${FC[@]}" > /dev/null
compare netcdf "$T/bundle-out/f.nc" "$T/venv-out/f.nc" || fail "forecast differs from the venv's"
ok "forecast: every variable equal to the venv's"

# -- 4. rehearse --hours 1: the same maxima -----------------------------------------------
RH=(rehearse --basin demo --hours 1 --start "$START" --every 1800 --threads 1 --out rh)
bundle "${RH[@]}" > /dev/null
venv "${RH[@]}" > /dev/null
compare maxima "$T/bundle-out/rh" "$T/venv-out/rh" || fail "rehearsal maxima differ"
ok "rehearse --hours 1: max depth and arrival time equal to the venv's"

# -- 5. plan rehearsals in spawned worker processes (the frozen executable restarts itself) -
SC=$(find "$BUNDLE" -path '*hydrotwin_demo_basin/scenarios/qingxi_100yr.toml' | head -1)
[ -f "$SC" ] || fail "the demo scenario is not in the bundle"
bundle rehearse "$SC" --out sc > "$T/bundle-out/scenario.log"
venv rehearse "$ROOT/plugins/demo_basin/hydrotwin_demo_basin/scenarios/qingxi_100yr.toml" \
    --out sc > "$T/venv-out/scenario.log"
compare scenario "$T/bundle-out/sc" "$T/venv-out/sc" || fail "scenario results differ"
ok "scenario (2 plans in spawned workers): rehearsal maxima equal to the venv's"

# -- 6. ifc info and sl651 decode: the same output ----------------------------------------
for ifc in "${IFC_SAMPLES[@]}"; do
    bundle ifc info --json --no-cache "$ifc" > "$T/bundle-out/ifc.json"
    venv ifc info --json --no-cache "$ifc" > "$T/venv-out/ifc.json"
    cmp -s "$T/bundle-out/ifc.json" "$T/venv-out/ifc.json" || fail "ifc info $ifc differs"
    ok "ifc info $(basename "$ifc"): output identical (bundle: in-process tessellation)"
done

mapfile -t FRAMES < <(awk -F'\t' 'NR > 1 && $11 == "true" {print $12}' "$SL651_FRAMES")
[ "${#FRAMES[@]}" -gt 0 ] || fail "no frames read from $SL651_FRAMES"
bundle sl651 decode --compact "${FRAMES[@]}" > "$T/bundle-out/sl651.jsonl"
venv sl651 decode --compact "${FRAMES[@]}" > "$T/venv-out/sl651.jsonl"
cmp -s "$T/bundle-out/sl651.jsonl" "$T/venv-out/sl651.jsonl" || fail "sl651 decode differs"
ok "sl651 decode: ${#FRAMES[@]} frames decoded identically"

# -- 7. the app under Xvfb shows the demo basin and quits cleanly -------------------------
Xvfb "$DISPLAY_NUM" -screen 0 1600x1000x24 -nolisten tcp -ac > /dev/null 2>&1 &
XVFB_PID=$!
sleep 1
(cd "$T/bundle-out" && "${NO_NET[@]}" "${AS_USER[@]}" env -i PATH=/usr/bin:/bin \
    HOME="$T/home" LANG=C.UTF-8 DISPLAY="$DISPLAY_NUM" HYDROTWIN_EXIT_AFTER_FIRST_FRAME=1 \
    HYDROTWIN_SCREENSHOT="$T/bundle-out/app.png" "$APP" --basin demo --lang zh_CN) \
    > "$T/bundle-out/app.log" 2>&1 || { cat "$T/bundle-out/app.log"; fail "the app failed"; }
grep -q '^first_frame_s=' "$T/bundle-out/app.log" || fail "the app drew no first frame"
if grep -q 'Traceback' "$T/bundle-out/app.log"; then
    cat "$T/bundle-out/app.log"; fail "the app logged a traceback (e.g. a BIM model that did not load)"
fi
compare picture "$T/bundle-out/app.png" --window || fail "the app's window looks blank"
ok "app: demo basin drawn ($(grep -o 'first_frame_s=.*' "$T/bundle-out/app.log")), quit with 0"

# -- 8. nothing was written into the bundle; the caches went to the user's folders ---------
written=$(find "$BUNDLE" -newer "$T/stamp" | head -5)
[ -z "$written" ] || fail "the bundle wrote into its own folder: $written"
[ -d "$T/home/.cache/hydrotwin/numba" ] || fail "no numba cache under ~/.cache/hydrotwin"
ok "no file written into the bundle; numba cache in ~/.cache/hydrotwin/numba"
echo "bundle smoke test passed"
