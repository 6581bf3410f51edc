#!/usr/bin/env bash
# Performance of the course, measured side by side in one run (issue 6).
#
#   bash .ci/bench.sh          # as root, on Linux; takes about 4 minutes on 2 cores
#
# What it measures, and the targets it checks:
#   1. container start: median start-to-exit of `run /bin/true` for steps 5, 6 and 7
#      (release builds), against unshare(1) from util-linux doing the same kernel work,
#      and against `runc run` with a pids limit on the same busybox tree.
#      step05/06 within 1.3x of unshare(1); step07 within 1.5x of unshare(1) and at
#      least 10x faster than runc. Debug builds (what `cargo run` gives a learner) and
#      statically linked release builds are measured too, for information.
#   2. build and test: cold `cargo build --workspace` (fresh target directory) <= 45 s;
#      rebuild after touching one step's main.rs <= 3 s; `cargo test --workspace` once
#      built <= 20 s.
#   3. memory: peak RSS (VmHWM) of the runtime while a container runs <= 4 MiB.
#
# It installs what it needs (hyperfine, runc, jq) with apt-get, prints a table of
# measured against target, writes book/src/appendix/performance.md and the plot
# performance.svg beside it, and exits 1 if a target is missed.
#
# Knobs (environment): BENCH_ROUNDS (default 8) rounds of BENCH_RUNS (default 10)
# one-at-a-time runs and 2*BENCH_RUNS back-to-back runs of each command;
# BENCH_STATIC=0 skips the statically linked builds.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

ROUNDS=${BENCH_ROUNDS:-8}
RUNS=${BENCH_RUNS:-10}
STATIC=${BENCH_STATIC:-1}
# Pause before each one-at-a-time run. Back to back, one container's cgroup work
# leaves the kernel in a state that makes the next one's cheaper (see the appendix,
# "where the time goes"); a person starts one container at a time.
PAUSE=0.05
STEPS=(step05-chroot-proc step06-mount-ns step07-cgroups)
APPENDIX=book/src/appendix

# Everything this run builds goes to a fresh target directory, removed at the end:
# the cold build needs one, and the workspace's own target/ stays untouched.
WORK=$(mktemp -d /tmp/bench.XXXXXX)
export CARGO_TARGET_DIR=$WORK/target
LOG=$WORK/log
RUNC_ID=bench-$$

step() { printf '\n== %s\n' "$*"; }

cleanup() {
    runc delete --force "$RUNC_ID" >/dev/null 2>&1 || true
    if [ -s "$LOG" ]; then cp "$LOG" /tmp/bench.log; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- preparations ---------------------------------------------------------------------

check_machine() {
    [ "$(uname -s)" = Linux ] || { echo "bench: Linux only" >&2; exit 2; }
    [ "$(id -u)" -eq 0 ] || { echo "bench: run as root: containers need it" >&2; exit 2; }
}

# hyperfine times the commands, jq reads its JSON, unshare(1) is the baseline, pgrep
# finds the container's processes, runc is the production runtime compared against.
install_packages() {
    local missing=()
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    command -v jq >/dev/null || missing+=(jq)
    command -v unshare >/dev/null || missing+=(util-linux)
    command -v pgrep >/dev/null || missing+=(procps)
    command -v runc >/dev/null || missing+=(runc)
    [ ${#missing[@]} -eq 0 ] && return
    echo "installing ${missing[*]}"
    apt-get update -qq >>"$LOG" 2>&1 || true
    for package in "${missing[@]}"; do
        apt-get install -y -qq "$package" >>"$LOG" 2>&1 || echo "could not install $package"
    done
    for tool in hyperfine jq unshare pgrep; do
        command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
    done
}

# timed VAR CMD...: run CMD (its output goes to the log) and set VAR to its wall time
# in seconds. Returns CMD's status.
timed() {
    local -n seconds=$1
    shift
    local start=$EPOCHREALTIME status=0
    echo "+ $*" >>"$LOG"
    "$@" >>"$LOG" 2>&1 || status=$?
    seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    return $status
}

# --- 2. build and test timings ------------------------------------------------------------

COLD=- REBUILD=- TESTS=- RELEASE=- TESTS_OK=yes
measure_builds() {
    step "build and test timings (fresh target directory $CARGO_TARGET_DIR)"
    cargo fetch --quiet # downloads are not part of the build time
    timed COLD cargo build --workspace
    echo "cold cargo build --workspace:      $COLD s"
    # Only the file's time changes: cargo runs rustc on the step again, and rustc's
    # incremental cache finds little to redo (a one-line edit takes about as long).
    touch step07-cgroups/src/main.rs
    timed REBUILD cargo build --workspace
    echo "rebuild after touching step07:     $REBUILD s"
    # The test binaries are built first (dev-dependencies), so that only the run is timed.
    cargo test --workspace --no-run --quiet >>"$LOG" 2>&1 || TESTS_OK=no
    "$CARGO_TARGET_DIR/debug/rootfs" --path >/dev/null # the tests' root filesystem
    timed TESTS env INSTA_UPDATE=no cargo test --workspace --no-fail-fast || TESTS_OK=no
    echo "cargo test --workspace (built):    $TESTS s (tests passed: $TESTS_OK)"
    timed RELEASE cargo build --release "${STEPS[@]/#/-p}"
    echo "release build of steps 5-7:        $RELEASE s"
    if [ "$STATIC" = 1 ]; then
        # glibc linked in (crt-static): no dynamic loader work at each exec. Needs an
        # explicit --target, so that proc-macros (clap's derive) stay dynamic.
        RUSTFLAGS="-C target-feature=+crt-static" \
            cargo build --quiet --release --target "$HOST" "${STEPS[@]/#/-p}" >>"$LOG" 2>&1
    fi
}

# --- 1. container start ---------------------------------------------------------------------

# The commands to time, in plot order: NAME, label, group, command line.
NAMES=() LABELS=() GROUPS_=() LINES=()
add_command() { NAMES+=("$1"); LABELS+=("$2"); GROUPS_+=("$3"); LINES+=("$4"); }

define_commands() {
    local release=$CARGO_TARGET_DIR/release debug=$CARGO_TARGET_DIR/debug
    local static=$CARGO_TARGET_DIR/$HOST/release
    # unshare(1) forks once and execs /bin/true directly: the kernel work, nearly alone.
    # Step 5 has no mount namespace, and unshare(1) mounts proc only in a new one: its
    # baseline makes the same namespaces and chroot, without the proc mount (~0.1 ms).
    add_command unshare-uts-pid "unshare(1) UTS+PID, chroot" baseline \
        "unshare --uts --pid --fork --root=$ROOTFS /bin/true"
    # Steps 6 and 7: unshare(1) also makes all mounts private (its default), as they do.
    add_command unshare-uts-pid-mnt "unshare(1) UTS+PID+mount, chroot, proc" baseline \
        "unshare --uts --pid --mount --fork --root=$ROOTFS --mount-proc /bin/true"
    local s
    for s in "${STEPS[@]}"; do
        add_command "${s%%-*}" "${s%%-*} release" release "$release/$s run /bin/true"
    done
    for s in "${STEPS[@]}"; do
        add_command "${s%%-*}-debug" "${s%%-*} debug" debug "$debug/$s run /bin/true"
    done
    if [ "$STATIC" = 1 ]; then
        for s in "${STEPS[@]}"; do
            add_command "${s%%-*}-static" "${s%%-*} release, static" static "$static/$s run /bin/true"
        done
    fi
    if [ -n "$RUNC_BUNDLE" ]; then
        add_command runc "runc run, pids limit" runc "runc run --bundle $RUNC_BUNDLE $RUNC_ID"
    fi
    # Probes for "where the time goes": one start of a program, no container.
    add_command probe-exec "exec of busybox true" probe "$ROOTFS/bin/true"
    add_command probe-step06 "start of step06 release (--help)" probe "$release/step06-mount-ns --help"
    if [ "$STATIC" = 1 ]; then
        add_command probe-step06-static "start of step06 static (--help)" probe \
            "$static/step06-mount-ns --help"
    fi
}

# runc's bundle: `runc spec`'s defaults (pid, network, ipc, uts and mount namespaces,
# /proc, /dev, /sys...), with the pids limit, no terminal, and /bin/true. runc creates
# mount points in its root, so it gets a copy of the busybox tree, not the tree itself.
RUNC_BUNDLE=
prepare_runc() {
    if ! command -v runc >/dev/null; then
        echo "runc: not installed and not installable here: skipping the runc comparison"
        return
    fi
    local bundle=$WORK/runc
    mkdir -p "$bundle"
    cp -a "$ROOTFS" "$bundle/rootfs"
    (cd "$bundle" && runc spec)
    jq --arg root "$bundle/rootfs" '.root.path = $root | .process.terminal = false
        | .process.args = ["/bin/true"] | .linux.resources.pids = {limit: 20}' \
        "$bundle/config.json" >"$bundle/config.new"
    mv "$bundle/config.new" "$bundle/config.json"
    if runc run --bundle "$bundle" "$RUNC_ID" >>"$LOG" 2>&1; then
        RUNC_BUNDLE=$bundle
    else
        echo "runc: installed but cannot run a container here (see $LOG): skipping it"
    fi
}

# hyperfine_all FILE [OPTIONS]: time every command once with hyperfine, no shell.
hyperfine_all() {
    local json=$1 i args=()
    shift
    for i in "${!NAMES[@]}"; do args+=(--command-name "${NAMES[$i]}" "${LINES[$i]}"); done
    hyperfine -N --style basic --warmup 2 --export-json "$json" "$@" "${args[@]}" >>"$LOG" 2>&1
}

# Many short rounds alternate the commands, so that a slow spell of a busy machine
# spreads over all of them; the samples of all rounds are pooled.
measure_starts() {
    step "container start: ${#NAMES[@]} commands, $ROUNDS rounds"
    local round attempt
    for round in $(seq "$ROUNDS"); do
        # A round stops at a command's first failure: try it once more (a machine shared
        # with other work can fail a run now and then); a second failure is fatal.
        for attempt in 1 2; do
            hyperfine_all "$WORK/apart-$round.json" --runs "$RUNS" --prepare "sleep $PAUSE" &&
                hyperfine_all "$WORK/tight-$round.json" --runs $((2 * RUNS)) && break
            [ "$attempt" = 1 ] || { echo "bench: a command keeps failing, see /tmp/bench.log" >&2; exit 2; }
            echo "round $round: a run failed ($(grep '^Benchmark' "$LOG" | tail -1)), trying the round again"
        done
        echo "round $round of $ROUNDS done"
    done
    # One line per command: name, then median and fastest one at a time, median back
    # to back (ms).
    join -t $'\t' <(pool "$WORK"/apart-*.json) <(pool "$WORK"/tight-*.json | cut -f1,2) \
        >"$WORK/starts.tsv"
}

# pool FILE...: per command in hyperfine's JSON files, the median and the minimum of
# all their samples, in ms, sorted by name (for join).
pool() {
    jq -r -s '
        def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                           else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        def ms: . * 100000 | round / 100;
        [.[].results[]] | group_by(.command)[]
        | [.[].times[]] as $times
        | [.[0].command, ($times | median | ms), ($times | min | ms)] | @tsv' "$@" | sort
}

# ms NAME [COLUMN]: a command's median one at a time (column 2) or back to back (4).
ms() { awk -v n="$1" -v c="${2:-2}" '$1 == n { print $c }' "$WORK/starts.tsv"; }
row() { awk -v n="$1" '$1 == n' "$WORK/starts.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

# --- 3. memory ------------------------------------------------------------------------------

# peak_rss BINARY: peak RSS (VmHWM, KiB) of `run`, then of the container's PID 1 (the
# same program, re-executed), read while `run sleep 1` runs.
peak_rss() {
    local run child="" tries=0 rss
    "$1" run /bin/sleep 1 &
    run=$!
    while [ -z "$child" ] || [ -z "$(pgrep -P "$child")" ]; do # until sleep has started
        child=$(pgrep -P "$run" || true)
        tries=$((tries + 1))
        [ $tries -lt 200 ] || break
        sleep 0.01
    done
    sleep 0.1
    rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$run/status")
    echo "$rss $(awk '/^VmHWM/ { print $2 }' "/proc/$child/status" 2>/dev/null || echo 0)"
    wait "$run"
}

RSS_LINES=()
measure_memory() {
    step "memory: peak RSS while a container runs"
    local s kind dir rss
    for kind in release debug; do
        dir=$CARGO_TARGET_DIR/$kind
        for s in "${STEPS[@]}"; do
            read -r -a rss <<<"$(peak_rss "$dir/$s")"
            RSS_LINES+=("${s%%-*} $kind ${rss[0]} ${rss[1]}")
            echo "${s%%-*} $kind: run ${rss[0]} KiB, container PID 1 ${rss[1]} KiB"
        done
    done
}

# --- verdict ------------------------------------------------------------------------------------

# One row per target: what, measured, target, met. Missed targets make the exit status 1.
VERDICT=() MISSED=0
check() { # check WHAT MEASURED OP LIMIT UNIT
    local what=$1 value=$2 op=$3 limit=$4 unit=$5 met margin
    # How far from the limit: over it (<=) or short of it (>=), in percent of the limit.
    margin=$(awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN {
        if (v == "-") exit
        d = (op == "<=" ? v - l : l - v) / l * 100
        printf("%.0f %% %s", (d < 0 ? -d : d), (d > 0 ? (op == "<=" ? "over" : "short") : "to spare")) }')
    if [ "$value" = - ]; then
        met=skipped
    elif awk -v v="$value" -v l="$limit" -v op="$op" \
        'BEGIN { exit !((op == "<=" && v <= l) || (op == ">=" && v >= l)) }'; then
        met=met
    else
        met=MISSED
        MISSED=$((MISSED + 1))
    fi
    VERDICT+=("$what|$value$unit|$op $limit$unit|$met|$margin")
}

judge() {
    local rss_max
    check "step05 start / unshare(1) UTS+PID, chroot" \
        "$(ratio "$(ms step05)" "$(ms unshare-uts-pid)")" "<=" 1.3 "x"
    check "step06 start / unshare(1) UTS+PID+mount, chroot, proc" \
        "$(ratio "$(ms step06)" "$(ms unshare-uts-pid-mnt)")" "<=" 1.3 "x"
    check "step07 start / unshare(1) UTS+PID+mount, chroot, proc" \
        "$(ratio "$(ms step07)" "$(ms unshare-uts-pid-mnt)")" "<=" 1.5 "x"
    check "runc start / step07 start" "$(ratio "$(ms runc)" "$(ms step07)")" ">=" 10 "x"
    check "cold cargo build --workspace" "$COLD" "<=" 45 " s"
    check "rebuild after touching step07's main.rs" "$REBUILD" "<=" 3 " s"
    if [ "$TESTS_OK" = yes ]; then
        check "cargo test --workspace, once built" "$TESTS" "<=" 20 " s"
    else
        VERDICT+=("cargo test --workspace, once built|$TESTS s, tests FAILED|<= 20 s|MISSED|tests fail")
        MISSED=$((MISSED + 1))
    fi
    rss_max=$(printf '%s\n' "${RSS_LINES[@]}" | awk '$2 == "release" { m = $3 > m ? $3 : m; m = $4 > m ? $4 : m }
        END { printf "%.2f", m / 1024 }')
    check "peak RSS of the runtime (release, steps 5-7)" "$rss_max" "<=" 4 " MiB"
}

print_verdict() {
    step "results (medians of one-at-a-time runs, ms; back to back in the last column)"
    local i
    printf '%-22s %-40s %9s %9s %9s\n' name command median min b2b
    for i in "${!NAMES[@]}"; do
        read -r _ median min tight <<<"$(row "${NAMES[$i]}")"
        printf '%-22s %-40s %9s %9s %9s\n' "${NAMES[$i]}" "${LABELS[$i]}" "$median" "$min" "$tight"
    done
    step "targets"
    printf '%s\n' "${VERDICT[@]}" | awk -F'|' '{ printf "%-55s %-12s %-10s %-7s %s\n", $1, $2, $3, $4, $5 }'
}

# --- the plot -------------------------------------------------------------------------------------

# A horizontal bar per container command: the median one at a time, and a black tick
# at the median back to back. Drawn with awk: no plotting package, works offline.
write_plot() {
    local i rows=()
    for i in "${!NAMES[@]}"; do
        [ "${GROUPS_[$i]}" = probe ] && continue
        rows+=("${NAMES[$i]}|${LABELS[$i]}|${GROUPS_[$i]}")
    done
    printf '%s\n' "${rows[@]}" | awk -F'|' -v tsv="$WORK/starts.tsv" -v host="$(hostname_line)" -v pause="$PAUSE" '
        function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
        BEGIN {
            while ((getline line < tsv) > 0) { split(line, f, "\t"); apart[f[1]] = f[2]; tight[f[1]] = f[4] }
            color["baseline"] = "#7f7f7f"; color["release"] = "#1f77b4"; color["debug"] = "#9ecae1"
            color["static"] = "#2ca02c"; color["runc"] = "#d62728"
        }
        { n++; name[n] = $1; label[n] = $2; group[n] = $3
          if (apart[$1] > max) max = apart[$1]; if (tight[$1] > max) max = tight[$1] }
        END {
            left = 290; width = 420; top = 60; row = 26; height = top + n * row + 60
            scale = width / (max * 1.08)
            printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", left + width + 70, height
            printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            printf "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Start to exit of /bin/true in a container (median, ms)</text>\n"
            printf "<text x=\"10\" y=\"42\" fill=\"#555\">%s</text>\n", esc(host)
            for (i = 1; i <= n; i++) {
                y = top + (i - 1) * row
                w = apart[name[i]] * scale
                printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8, y + 16, esc(label[i])
                printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n", left, y + 3, w, color[group[i]]
                t = left + tight[name[i]] * scale
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-width=\"2\"/>\n", t, y + 1, t, y + 23
                printf "<text x=\"%.1f\" y=\"%d\">%.1f</text>\n", left + (w > t - left ? w : t - left) + 6, y + 16, apart[name[i]]
            }
            y = top + n * row + 10
            printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", left, top, left, y - 8
            printf "<text x=\"10\" y=\"%d\" fill=\"#555\">Bars: one container at a time (%s s apart). Black tick: back to back.</text>\n", y + 14, pause
            lx = 10; split("baseline release debug static runc", g, " ")
            split("unshare(1)|step, release|step, debug|step, release, static|runc", gl, "|")
            for (k = 1; k <= 5; k++) {
                printf "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", lx, y + 26, color[g[k]]
                printf "<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 16, y + 36, esc(gl[k]); lx += 30 + length(gl[k]) * 7
            }
            print "</svg>"
        }' >"$APPENDIX/performance.svg"
}

# --- the machine ------------------------------------------------------------------------------------

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
CORES=$(nproc)
hostname_line() { echo "$CPU, $CORES cores, Linux $(uname -r)"; }

cgroup_layout() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        echo "cgroup v2 only"
    elif [ -d /sys/fs/cgroup/unified ]; then
        echo "hybrid (pids controller on cgroup v1)"
    else
        echo "cgroup v1"
    fi
}

# --- the appendix -------------------------------------------------------------------------------------

write_appendix() {
    local f=$APPENDIX/performance.md i median min tight base
    local os mem load rustc hf runc_v
    os=$(. /etc/os-release && echo "$PRETTY_NAME")
    mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    rustc=$(rustc --version)
    hf=$(hyperfine --version)
    runc_v=$(runc --version 2>/dev/null | head -1 || echo "not installed")
    {
        cat <<EOF
# Performance

How fast the course's containers start, how long it takes to build and test them, and
how much memory the runtime holds, measured side by side with \`unshare(1)\` (util-linux)
and \`runc\` in one run of \`.ci/bench.sh\`, which also wrote this
page and its plot. Each start target is a ratio measured in the same run, because a
machine shared with other work is noisy: its absolute times move from run to run, the
ratios much less.

## Targets

| what | measured | target | | how far |
|---|---:|---:|---|---|
EOF
        printf '%s\n' "${VERDICT[@]}" | sed -e 's/<=/≤/g' -e 's/>=/≥/g' -e 's/\([0-9]\)x|/\1×|/g' |
            awk -F'|' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
        cat <<EOF

Why a target is missed, and what would meet it: [where the time goes](#where-the-time-goes).
The start targets are judged on the medians of containers started one at a time, as a
person starts them; back to back, a cost of step 7 is shared between runs and hidden.
EOF
        cat <<EOF

## Container start

Median start-to-exit of \`/bin/true\` in a container, in milliseconds, over
$((ROUNDS * RUNS)) runs one container at a time ($PAUSE s apart) and
$((ROUNDS * 2 * RUNS)) runs back to back, in $ROUNDS interleaved rounds.

![Start to exit of /bin/true, median ms, per runtime](performance.svg)

| command | one at a time | fastest | back to back | ÷ unshare(1) |
|---|---:|---:|---:|---:|
EOF
        for i in "${!NAMES[@]}"; do
            [ "${GROUPS_[$i]}" = probe ] && continue
            read -r _ median min tight <<<"$(row "${NAMES[$i]}")"
            case ${NAMES[$i]} in
                step05*) base=unshare-uts-pid ;;
                step06* | step07*) base=unshare-uts-pid-mnt ;;
                runc) base=unshare-uts-pid-mnt ;;
                *) base= ;;
            esac
            printf '| %s | %s | %s | %s | %s |\n' "${LABELS[$i]}" "$median" "$min" "$tight" \
                "$([ -n "$base" ] && echo "$(ratio "$median" "$(ms "$base")")×" || echo "baseline")"
        done
        cat <<EOF

Step 5 is compared with the first unshare(1) line, the others with the second.

The commands, in full (\`ROOTFS\` is the course's busybox tree, \`rootfs/fs\`):

- unshare(1) for step 5: \`unshare --uts --pid --fork --root=ROOTFS /bin/true\`. Step 5
  makes no mount namespace, and unshare(1) mounts a proc only inside a new one, so this
  baseline does the same namespaces and chroot without the proc mount (about 0.1 ms):
  if anything, it is hard on step 5.
- unshare(1) for steps 6 and 7: \`unshare --uts --pid --mount --fork --root=ROOTFS
  --mount-proc /bin/true\`: the same namespaces, all mounts made private (unshare's
  default, as step 6 does), chroot, and proc on /proc. It makes no cgroup: step 7's
  target allows it 1.5× for creating, joining and removing one.
- the steps: \`stepNN run /bin/true\`, built by \`cargo build --release\`, by
  \`cargo build\` (debug: what \`cargo run\` gives a learner), and, for information, by
  \`cargo build --release --target $HOST\` with \`RUSTFLAGS="-C target-feature=+crt-static"\`
  (glibc linked in, no dynamic loader).
- runc: \`runc run\` on a bundle made by \`runc spec\` (its defaults: PID, network, IPC,
  UTS and mount namespaces; /proc, /dev, /sys and more mounted; a read-only root), with
  \`root.path\` set to a copy of the same busybox tree, \`linux.resources.pids.limit\` 20,
  no terminal, and \`/bin/true\` as the process.

## Building and testing

| what | seconds |
|---|---:|
| cold \`cargo build --workspace\` (fresh target directory, crates already downloaded) | $COLD |
| \`cargo build --workspace\` after touching \`step07-cgroups/src/main.rs\` | $REBUILD |
| \`cargo test --workspace\`, everything built | $TESTS |
| \`cargo build --release\` of steps 5 to 7, after the debug build | $RELEASE |

## Memory

Peak resident memory (VmHWM in /proc/PID/status, KiB) of \`run\`, the runtime process
that waits for the container, and of the container's PID 1 (the same program,
re-executed as \`child\`), read while \`run /bin/sleep 1\` runs.

| step | build | \`run\` | container's PID 1 |
|---|---|---:|---:|
EOF
        printf '%s\n' "${RSS_LINES[@]}" | awk '{ printf "| %s | %s | %d | %d |\n", $1, $2, $3, $4 }'
        cat <<EOF

## Where the time goes

A step's container start is: the shell starts \`run\`; \`run\` unshares, forks and
re-executes itself through /proc/self/exe as \`child\` (a second start of the same
program), which chroots, mounts proc, forks and execs the command; each then waits for
its child. unshare(1) starts once, forks once, and its child execs the command. The
figures below come from this run; the profile figures from \`strace -c\`, \`perf stat\`
and \`perf record\` of step 6 on this machine when this page was first written.

- **Starting programs.** An exec of busybox's \`true\` takes $(ms probe-exec) ms; one start
  of step 6's release binary with no container (\`--help\`) $(ms probe-step06) ms. A step
  starts its own binary twice, \`run\` then \`child\`: that second start is the largest
  cost unshare(1) does not have. It is what step 3 teaches (set up from inside, before
  the command runs), so it stays.
- **Dynamic linking.** At each exec the loader maps libc and libgcc_s and relocates the
  binary: \`perf record\` puts about 14 % of the CPU time of \`run\` and \`child\` in
  ld.so, five times their own code; \`perf stat\` counts 290 page faults per container
  against 138 for unshare(1), with about the same number of system calls (184 against
  139).$([ "$STATIC" = 1 ] && echo " Linked statically, step 6 starts in $(ms step06-static) ms instead of $(ms step06) ms
  ($(ratio "$(ms step06-static)" "$(ms unshare-uts-pid-mnt)")× unshare(1) instead of $(ratio "$(ms step06)" "$(ms unshare-uts-pid-mnt)")×). This needs no change to a \`main.rs\`, only
  \`-C target-feature=+crt-static\` and an explicit \`--target\` (so that clap's derive,
  a proc-macro, stays dynamic).") Link-time optimisation, \`panic = "abort"\` and a
  non-PIE binary, tried too, gain nothing measurable.
- **Joining the cgroup.** Step 7 takes $(ms step07) ms one at a time but $(ms step07 4) ms
  back to back. \`child\` joins its cgroup by writing its PID to \`cgroup.procs\`, and
  the kernel then takes \`cgroup_threadgroup_rwsem\` for writing, which waits for an RCU
  grace period (10 to 15 ms on this machine, seen with \`perf trace\`) unless another
  migration has just waited for one: back-to-back runs share that wait, one container
  at a time pays it in full. On cgroup v1, writing \`0\` (the writing thread) to the
  cgroup's \`tasks\` file moves a single-threaded process without that lock (0.06 ms);
  on cgroup v2, \`clone3(CLONE_INTO_CGROUP)\` starts the child inside the cgroup, with no
  migration at all. A host can also mount its cgroup hierarchies with \`favordynmods\`
  (Linux 6.0 and later), which makes every migration cheaper and every fork and exit
  dearer: a setting of the machine, not of a container runtime.
- **Debug builds.** What \`cargo run\` gives a learner: step 6 debug $(ms step06-debug) ms
  against $(ms step06) ms in release; step 7 debug $(ms step07-debug) ms against $(ms step07) ms.
  A larger binary to map, and argument parsing left unoptimised.
- **Memory.** \`run\` holds about as much as \`child\`: the same program, with libc
  mapped; a debug build holds more, for its larger binary.

## The machine

- CPU: $CPU, $CORES cores ($(lscpu 2>/dev/null | awk -F': *' '/^Hypervisor vendor/ { print "virtual machine, " $2 }' || true))
- memory: $mem
- system: $os, Linux $(uname -r), $(cgroup_layout)
- load average when the run ended: $load (other work on the machine makes times noisier)
- tools: $rustc; $hf; $runc_v; $(unshare --version)
- measured: $(date -u '+%Y-%m-%d %H:%M UTC')

## Reproduce

As root, from the repository's top directory:

\`\`\`sh
bash .ci/bench.sh
\`\`\`

It installs hyperfine, jq and runc with apt-get if they are missing, builds everything
in a fresh target directory under /tmp (removed afterwards; the workspace's own
\`target/\` is left alone, but \`step07-cgroups/src/main.rs\` is touched for the
rebuild timing), takes about four minutes on two cores, prints the same
tables, rewrites this page and \`performance.svg\`, and exits with status 1 if a target
is missed. \`BENCH_ROUNDS\` and \`BENCH_RUNS\` set how many runs are timed;
\`BENCH_STATIC=0\` skips the statically linked builds.

## What the targets mean

- **Start within 1.3× of unshare(1)** (steps 5 and 6): unshare(1) is a small C program
  that makes the kernel calls and execs the command; a runtime within 1.3× of it adds
  little beyond the kernel's own work, so what a learner waits for is the kernel.
- **Step 7 within 1.5× of unshare(1), and 10× faster than runc**: creating, joining and
  removing a cgroup may cost something, but not much; and a from-scratch runtime should
  stay an order of magnitude lighter than a production one, which does much more (more
  namespaces, /dev, /sys, capabilities, state files).
- **Cold build at most 45 s**: the first \`cargo build\` or \`cargo run\` a learner waits
  for, on 2 cores.
- **Rebuild at most 3 s**: the edit-and-run loop after changing one step.
- **Tests at most 20 s**: \`cargo test --workspace\`, the check-your-work loop.
- **Peak RSS at most 4 MiB**: \`run\` stays alive as long as the container, as its
  supervisor; it should weigh little.
EOF
    } >"$f"
}

# --- main -------------------------------------------------------------------------------------------

BEGAN=$EPOCHREALTIME
check_machine
step "machine: $(hostname_line), load $(cut -d' ' -f1-3 /proc/loadavg)"
install_packages
HOST=$(rustc -vV | sed -n 's/^host: //p')
measure_builds
ROOTFS=$("$CARGO_TARGET_DIR/debug/rootfs" --path)
prepare_runc
define_commands
measure_starts
measure_memory
judge
print_verdict
mkdir -p "$APPENDIX"
write_plot
write_appendix
echo
echo "wrote $APPENDIX/performance.md and $APPENDIX/performance.svg; log: /tmp/bench.log"
awk -v a="$BEGAN" -v b="$EPOCHREALTIME" 'BEGIN { printf "took %.0f s\n", b - a }'
if [ "$MISSED" -gt 0 ]; then
    echo "$MISSED target(s) missed"
    exit 1
fi
echo "every target met"
