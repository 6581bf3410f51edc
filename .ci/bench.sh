#!/usr/bin/env bash
# How long the course's containers take to start, next to unshare(1) and runc, and how
# long the course takes to build and test, on this machine. It only measures: the
# results go to book/src/appendix/performance/ (Markdown tables and a plot), which the
# hand-written book/src/appendix/performance.md includes.
#
#   sudo bash .ci/bench.sh     # Linux, as root; about 10 minutes on 2 busy cores
#
# It installs what it lacks (hyperfine, jq, gnuplot-nox, runc, time), builds in a fresh
# target directory under /tmp (removed at the end; it touches step07-cgroups/src/main.rs
# for the rebuild timing), and fails only when a measurement cannot be made.
# BENCH_ROUNDS (default 8) rounds each time every command BENCH_RUNS (default 10) times
# one at a time and twice as often back to back.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

ROUNDS=${BENCH_ROUNDS:-8}
RUNS=${BENCH_RUNS:-10}
# Before each one-at-a-time run: back to back, one container's cgroup work makes the
# next one's cheaper (the page says why); a person starts one at a time.
PAUSE=0.05
OUT=book/src/appendix/performance
STEPS=(step05-chroot-proc step06-mount-ns step07-cgroups)

WORK=$(mktemp -d /tmp/bench.XXXXXX)
export CARGO_TARGET_DIR=$WORK/target
LOG=$WORK/log
RUNC_ID=bench-$$

say() { printf '\n== %s\n' "$*"; }
fail() { echo "bench: $*; the log is in /tmp/bench.log" >&2; exit 1; }
cleanup() {
    runc delete --force "$RUNC_ID" >/dev/null 2>&1 || true
    if [ -s "$LOG" ]; then cp "$LOG" /tmp/bench.log; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# hyperfine times the commands (JSON), jq reads it, gnuplot draws, GNU time reads peak
# memory, unshare(1) is the baseline, runc the production runtime.
install_packages() {
    local wanted=(hyperfine:hyperfine jq:jq gnuplot:gnuplot-nox /usr/bin/time:time
        unshare:util-linux runc:runc) missing=() pair
    for pair in "${wanted[@]}"; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return
    say "installing ${missing[*]}"
    { apt-get update -qq; apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}"; } >>"$LOG" 2>&1 ||
        echo "could not install all of ${missing[*]}"
    for pair in "${wanted[@]}"; do
        [ "${pair%%:*}" = runc ] || command -v "${pair%%:*}" >/dev/null ||
            fail "${pair%%:*} is required (Debian package ${pair#*:})"
    done
}

# timing NAME HYPERFINE-OPTIONS... COMMAND: time COMMAND (no shell) into NAME.json.
timing() {
    local name=$1 && shift
    echo "+ hyperfine $*" >>"$LOG"
    hyperfine -N --style basic --export-json "$WORK/$name.json" "$@" >>"$LOG" 2>&1
}

measure_builds() {
    say "building and testing, in the fresh target directory $CARGO_TARGET_DIR"
    cargo fetch --quiet # downloads are not part of the build time
    timing cold --runs 1 --prepare "rm -rf $CARGO_TARGET_DIR" "cargo build --workspace" ||
        fail "cargo build --workspace failed"
    # rustc runs on step 7 again and its cache finds little to redo (as for a one-line edit).
    timing rebuild --runs 3 --prepare "touch step07-cgroups/src/main.rs" \
        "cargo build --workspace" || fail "cargo build --workspace failed"
    # The tests and the root filesystem are built first: only the tests' run is timed.
    cargo test --workspace --no-run --quiet >>"$LOG" 2>&1 || fail "the tests do not build"
    "$CARGO_TARGET_DIR/debug/rootfs" --path >/dev/null || fail "no root filesystem"
    # A failing test is still timed, and the page says it failed.
    INSTA_UPDATE=no timing tests --runs 1 --ignore-failure "cargo test --workspace --no-fail-fast" ||
        fail "cargo test could not be run"
    say "release builds of steps 5 to 7, and step 6 linked statically"
    cargo build --quiet --release "${STEPS[@]/#/-p}" >>"$LOG" 2>&1 || fail "release build failed"
    # crt-static links glibc in (no loader at exec); an explicit --target keeps
    # proc-macros (clap's derive) dynamic libraries.
    RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build --quiet --release --target "$HOST" -p step06-mount-ns >>"$LOG" 2>&1 ||
        fail "static build failed"
}

# The commands timed, as hyperfine's --command-name NAME COMMAND pairs.
COMMANDS=()
add() { COMMANDS+=(--command-name "$1" "$2"); }

define_commands() {
    local release=$CARGO_TARGET_DIR/release debug=$CARGO_TARGET_DIR/debug
    local static=$CARGO_TARGET_DIR/$HOST/release
    # unshare(1) forks, its child execs /bin/true: the kernel's work nearly alone; as
    # step 5 without proc (it mounts proc only in a new mount namespace); as steps 6
    # and 7 with all mounts private (its default), as they do.
    add unshare-5 "unshare --uts --pid --fork --root=$ROOTFS /bin/true"
    add unshare-6 "unshare --uts --pid --mount --fork --root=$ROOTFS --mount-proc /bin/true"
    add step05 "$release/step05-chroot-proc run /bin/true"
    add step06 "$release/step06-mount-ns run /bin/true"
    add step07 "$release/step07-cgroups run /bin/true"
    add step06-debug "$debug/step06-mount-ns run /bin/true"
    add step06-static "$static/step06-mount-ns run /bin/true"
    [ -z "$RUNC_BUNDLE" ] || add runc "runc run --bundle $RUNC_BUNDLE $RUNC_ID"
    # The pieces: one program start each, no container.
    add start-true "$ROOTFS/bin/true"
    add start-step06 "$release/step06-mount-ns --help"
    add start-step06-static "$static/step06-mount-ns --help"
}

# runc's bundle: `runc spec`'s defaults (PID, network, IPC, UTS, mount namespaces; /proc,
# /dev, /sys...), a pids limit, /bin/true, a copy of the busybox tree (runc writes in it).
RUNC_BUNDLE=
prepare_runc() {
    command -v runc >/dev/null || { echo "runc is not installed: no runc row"; return; }
    local bundle=$WORK/runc
    mkdir -p "$bundle"
    cp -a "$ROOTFS" "$bundle/rootfs"
    (cd "$bundle" && runc spec)
    jq --arg root "$bundle/rootfs" '.root.path = $root | .process.terminal = false
        | .process.args = ["/bin/true"] | .linux.resources.pids = {limit: 20}' \
        "$bundle/config.json" >"$bundle/config.new"
    mv "$bundle/config.new" "$bundle/config.json"
    runc run --bundle "$bundle" "$RUNC_ID" >>"$LOG" 2>&1 && RUNC_BUNDLE=$bundle ||
        echo "runc cannot run a container here (see /tmp/bench.log): no runc row"
}

# Short rounds alternate the commands (a busy machine's slow spell spreads over all of
# them); the samples of all rounds are pooled.
measure_starts() {
    say "container starts: $ROUNDS rounds"
    local round attempt
    for round in $(seq "$ROUNDS"); do
        # A busy machine fails a run now and then: a failed round is tried once more.
        for attempt in 1 2; do
            timing "apart-$round" --warmup 2 --runs "$RUNS" --prepare "sleep $PAUSE" "${COMMANDS[@]}" &&
                timing "tight-$round" --warmup 2 --runs $((2 * RUNS)) "${COMMANDS[@]}" && break
            [ "$attempt" = 1 ] || fail "a command keeps failing"
            echo "round $round: a run failed, trying the round again"
        done
        echo "round $round of $ROUNDS done"
    done
    # {apart: {NAME: median ms}, tight: {NAME: median ms}}, over every round's samples.
    jq -n "$JQ_DEFS"' {apart: ($apart | pooled), tight: ($tight | pooled)}' \
        --slurpfile apart <(cat "$WORK"/apart-*.json) \
        --slurpfile tight <(cat "$WORK"/tight-*.json) >"$WORK/starts.json"
}

# jq: the median; seconds as ms to one decimal (text); exports pooled into {command: ms}.
JQ_DEFS='
def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def one_decimal: . * 10 | round | tostring | if length == 1 then "0" + . else . end
                 | .[:-1] + "." + .[-1:];
def ms: . * 1000 | one_decimal;
def pooled: [.[].results[]] | group_by(.command)
            | map({key: .[0].command, value: ([.[].times[]] | median | ms)}) | from_entries;
'

# start apart|tight NAME: a command's median, in ms ("-" if it was not measured).
start() { jq -r --arg name "$2" ".$1[\$name] // \"-\"" "$WORK/starts.json"; }

# peak_memory BINARY: the peak RSS (MiB) of any one process while BINARY started a
# container (GNU time: the largest of `run` and the children it waited for).
peak_memory() {
    /usr/bin/time -f %M -o "$WORK/rss" "$1" run /bin/true >>"$LOG" 2>&1 ||
        fail "$1 run /bin/true failed"
    jq -n "$JQ_DEFS"' $kib / 1024 | one_decimal' --argjson kib "$(cat "$WORK/rss")" -r
}

# The fragments the page includes. The container starts: a table, and the plot's data.
write_start_times() {
    local rows=("unshare-5|unshare(1), as step 5" "step05|step 5 (chroot, /proc)"
        "unshare-6|unshare(1), as steps 6 and 7" "step06|step 6 (mount namespace)"
        "step07|step 7 (pids cgroup)" "runc|runc run (pids limit)") row name label
    {
        echo "| starting \`/bin/true\` in a container | one at a time | back to back |"
        echo "|---|---:|---:|"
        for row in "${rows[@]}"; do
            name=${row%%|*} label=${row#*|}
            [ "$(start apart "$name")" != - ] || continue
            echo "| $label | $(start apart "$name") ms | $(start tight "$name") ms |"
            printf '"%s" %s %s\n' "$label" "$(start apart "$name")" "$(start tight "$name")" \
                >>"$WORK/plot.dat"
        done
        echo
        echo "Medians of $((ROUNDS * RUNS)) runs one at a time (${PAUSE} s apart) and" \
            "$((ROUNDS * 2 * RUNS)) back to back; the steps are release builds."
        [ -n "$RUNC_BUNDLE" ] || echo "runc could not run a container on this machine."
    } >"$OUT/start-times.md"
}

write_program_starts() {
    printf '%s\n' "| what starts | median |" "|---|---:|" \
        "| busybox \`true\`, alone (a small static program) | $(start apart start-true) ms |" \
        "| step 6 doing nothing (\`--help\`), release build | $(start apart start-step06) ms |" \
        "| step 6 doing nothing, linked statically | $(start apart start-step06-static) ms |" \
        "| a step 6 container, debug build (what \`cargo run\` builds) | $(start apart step06-debug) ms |" \
        "| a step 6 container, release build | $(start apart step06) ms |" \
        "| a step 6 container, release build linked statically | $(start apart step06-static) ms |" \
        >"$OUT/program-starts.md"
}

# seconds NAME: the median of NAME.json's runs, in seconds to one decimal.
seconds() { jq -r "$JQ_DEFS"' .results[0].times | median | one_decimal' "$WORK/$1.json"; }

write_build_and_test() {
    local tests_failed
    tests_failed=$(jq -r 'if any(.results[0].exit_codes[]; . != 0) then " (some tests failed)"
        else "" end' "$WORK/tests.json")
    printf '%s\n' "| what | this run |" "|---|---:|" \
        "| \`cargo build --workspace\` from nothing (crates already downloaded) | $(seconds cold) s |" \
        "| \`cargo build --workspace\` after touching step 7's \`main.rs\` | $(seconds rebuild) s |" \
        "| \`cargo test --workspace\`, everything built$tests_failed | $(seconds tests) s |" \
        "| peak memory of one process starting a step 7 container, release build | $RSS_RELEASE MiB |" \
        "| the same, debug build | $RSS_DEBUG MiB |" >"$OUT/build-and-test.md"
}

cgroup_layout() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "cgroup v2"
    elif [ -d /sys/fs/cgroup/unified ]; then echo "cgroups hybrid (the pids controller on cgroup v1)"
    else echo "cgroup v1"; fi
}

write_machine() {
    local cpu virtual
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    virtual=$(lscpu 2>/dev/null | awk -F': *' '/^Hypervisor vendor/ { print ", a virtual machine on " $2 }')
    {
        echo "- processor: ${cpu:-unknown}, $(nproc) cores$virtual"
        echo "- memory: $((($(awk '/^MemTotal/ { print $2 }' /proc/meminfo) + 524288) / 1048576)) GiB"
        # shellcheck source=/dev/null
        echo "- system: $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r), $(cgroup_layout)"
        echo "- load average as the run ended: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- tools: $(rustc --version); $(hyperfine --version); $(unshare --version);" \
            "$(runc --version 2>/dev/null | head -1 || echo "no runc"); $(gnuplot --version)"
        echo "- measured on $(date -u '+%Y-%m-%d') in $((SECONDS / 60)) minutes by \`.ci/bench.sh\`"
    } >"$OUT/machine.md"
}

# Two bars per command, one at a time and back to back, drawn by gnuplot.
write_plot() {
    gnuplot >>"$LOG" 2>&1 <<EOF || fail "gnuplot could not draw the plot"
set terminal svg size 760,330 font "sans,15" background "white"; set output "$OUT/start-times.svg"
set title "Starting /bin/true in a container: median milliseconds"
set yrange [:] reverse; set offsets 0, graph 0.1, 0.6, 0.6; set xrange [0:*]; set lmargin 30
set xtics out nomirror; set ytics nomirror scale 0; set grid xtics; set border 3
set key top right; set style fill solid 1.0 noborder
plot "$WORK/plot.dat" using (\$2/2):(\$0-0.2):(\$2/2):(0.18):ytic(1) with boxxyerror \
        lc rgb "#2b6cb0" title "one at a time", \
     "" using (\$3/2):(\$0+0.2):(\$3/2):(0.18) with boxxyerror lc rgb "#9ec5e8" title "back to back", \
     "" using 2:(\$0-0.2):(sprintf(" %.1f", \$2)) with labels left font ",14" notitle, \
     "" using 3:(\$0+0.2):(sprintf(" %.1f", \$3)) with labels left font ",14" notitle
EOF
}

[ "$(uname -s)" = Linux ] || fail "Linux only"
[ "$(id -u)" -eq 0 ] || fail "run as root: containers need it"
say "machine: $(nproc) cores, Linux $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
install_packages
HOST=$(rustc -vV | sed -n 's/^host: //p')
measure_builds
ROOTFS=$("$CARGO_TARGET_DIR/debug/rootfs" --path)
prepare_runc
define_commands
measure_starts
say "memory"
RSS_RELEASE=$(peak_memory "$CARGO_TARGET_DIR/release/step07-cgroups")
RSS_DEBUG=$(peak_memory "$CARGO_TARGET_DIR/debug/step07-cgroups")
mkdir -p "$OUT"
write_start_times; write_program_starts; write_build_and_test; write_machine; write_plot
say "wrote $OUT/: $(cd "$OUT" && echo *)"
cat "$OUT/start-times.md" "$OUT/program-starts.md" "$OUT/build-and-test.md"
echo "took $((SECONDS / 60)) min $((SECONDS % 60)) s; the log is in /tmp/bench.log"
