#!/usr/bin/env bash
# Lint the systemd units in systemd/:
#   1. systemd-analyze verify           (syntax, dependencies, executables)
#   2. systemd-analyze security --offline=yes   (exposure <= MAX_EXPOSURE)
#
# Usage (from anywhere, normally the repository root):  bash .ci/check-systemd.sh
# Env:   MAX_EXPOSURE   highest accepted exposure score (default 2.0)
#
# The units run /opt/feeder/bin/feeder, which does not exist on a CI machine,
# and `verify` fails on a missing ExecStart binary.  So verify runs on copies
# of the units in a temporary directory whose Exec*= paths under /opt/feeder/
# point at executable stubs inside that directory.  Nothing outside the
# temporary directory is created or changed (apart from installing the
# systemd and procps packages when systemd-analyze or /bin/kill is missing).
# `security --offline=yes` does not look at the binaries, so it runs on the
# unmodified files.
set -euo pipefail

MAX_EXPOSURE="${MAX_EXPOSURE:-2.0}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
UNIT_DIR=systemd

say() { printf 'check-systemd: %s\n' "$*"; }
die() { printf 'check-systemd: FAIL: %s\n' "$*" >&2; exit 1; }

# No colours, no pager: output is parsed below.
export SYSTEMD_COLORS=0 SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER=cat NO_COLOR=1

# --- make sure the tools are there ------------------------------------------------
# systemd-analyze comes with the systemd package; /bin/kill (ExecReload=) with
# procps, which minimal container images lack.  Installing either package does
# not need, and does not start, systemd as PID 1.
missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ -x /bin/kill ] || missing+=(procps)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} with apt-get"
    command -v apt-get >/dev/null 2>&1 || die "need ${missing[*]} but apt-get is unavailable"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install ${missing[*]}"
        SUDO=(sudo)
    fi
    apt_log="$(mktemp)"
    if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
               apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        die "apt-get install ${missing[*]} failed"
    fi
    rm -f "$apt_log"
    command -v systemd-analyze >/dev/null 2>&1 || die "systemd-analyze still missing after install"
fi

version_line="$(systemd-analyze --version | head -n1)"
# `security --offline=` appeared in systemd 250 (Debian 12 has 252; Ubuntu
# 22.04's 249 is too old).  Probe the option rather than trusting a number.
if ! systemd-analyze --help 2>&1 | grep -q -- '--offline'; then
    die "$version_line has no 'systemd-analyze security --offline'; need systemd >= 250"
fi
say "using $(command -v systemd-analyze) ($version_line)"

# --- collect units ---------------------------------------------------------------
shopt -s nullglob
units=("$UNIT_DIR"/*.service "$UNIT_DIR"/*.socket "$UNIT_DIR"/*.timer \
       "$UNIT_DIR"/*.path "$UNIT_DIR"/*.target "$UNIT_DIR"/*.mount)
services=("$UNIT_DIR"/*.service)
shopt -u nullglob
[ "${#units[@]}" -gt 0 ] || die "no unit files in $UNIT_DIR/"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/units"

# --- 1. verify -----------------------------------------------------------------------
# Stub every /opt/feeder/... executable named on an Exec*= line, then rewrite
# those lines to point at the stubs.
while IFS= read -r bin; do
    mkdir -p "$tmp/root$(dirname "$bin")"
    printf '#!/bin/sh\nexit 0\n' >"$tmp/root$bin"
    chmod 0755 "$tmp/root$bin"
done < <(grep -hE '^[[:space:]]*Exec[A-Za-z]*=' "${units[@]}" \
             | grep -oE '/opt/feeder/[^[:space:]";]+' | sort -u || true)

for u in "${units[@]}"; do
    sed -E "/^[[:space:]]*Exec[A-Za-z]*=/ s#/opt/feeder/#$tmp/root/opt/feeder/#g" \
        "$u" >"$tmp/units/$(basename "$u")"
done

verify_failed=0
verify_out="$tmp/verify.log"
if ! systemd-analyze verify --man=no "$tmp"/units/* >"$verify_out" 2>&1; then
    verify_failed=1
fi
# verify also reports some problems (unknown keys, bad values) only as
# warnings with exit status 0: any output at all counts as a failure.
if [ -s "$verify_out" ]; then
    verify_failed=1
fi
if [ "$verify_failed" -ne 0 ]; then
    sed "s#$tmp/units/##g; s#$tmp/root##g" "$verify_out" >&2
    die "systemd-analyze verify reported problems (see above)"
fi
# verify does not notice a timer/path/socket whose Unit= names a unit that
# does not exist, so check that here (the triggered unit must ship with it).
for u in "${units[@]}"; do
    case "$u" in *.timer|*.path|*.socket) ;; *) continue ;; esac
    target="$(sed -nE 's/^[[:space:]]*Unit=[[:space:]]*([^[:space:]]+).*/\1/p' "$u" | tail -n1)"
    if [ -z "$target" ]; then
        base="$(basename "$u")"
        target="${base%.*}.service"
    fi
    [ -f "$UNIT_DIR/$target" ] || die "$(basename "$u") triggers $target, which is not in $UNIT_DIR/"
done
say "verify: clean: ${units[*]##*/}"

# --- 2. security exposure ---------------------------------------------------------
summary=()
worst_fail=0
for s in "${services[@]}"; do
    name="$(basename "$s")"
    out="$tmp/security-$name.log"
    if ! systemd-analyze security --offline=yes --no-pager "$s" >"$out" 2>&1; then
        cat "$out" >&2
        die "systemd-analyze security failed on $name"
    fi
    score="$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+(\.[0-9]+)?).*/\1/p' "$out" | tail -n1)"
    if [ -z "$score" ]; then
        cat "$out" >&2
        die "could not parse the exposure level of $name"
    fi
    if awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s + 0 > m + 0) }'; then
        # Show what is still exposed, to make the failure actionable.
        grep -E '✗' "$out" >&2 || true
        say "$name exposure $score > $MAX_EXPOSURE"
        worst_fail=1
    fi
    summary+=("$name=$score")
done

if [ "$worst_fail" -ne 0 ]; then
    die "exposure above $MAX_EXPOSURE: ${summary[*]}"
fi
say "OK: verify clean for ${#units[@]} unit(s); exposure ${summary[*]} (max $MAX_EXPOSURE)"
