# Shared by .ci/mutants.sh and .ci/exercises.sh (sourced, not run): a scratch copy
# of the repository, cargo test in new mount and UTS namespaces, cleanup after each
# run, and reading a cargo test log. .ci/grade.sh and .ci/previous-step.sh source it
# for the list of steps only.
#
# The script that sources this sets, before calling ci_setup:
#   ci_name     its name, for messages ("mutants")
#   ci_keep     1 to keep the scratch copy and the logs
#   ci_rev      a commit to copy instead of the working tree (empty: the working tree)
#   timeout_s   seconds per test run (ci_scaled multiplies a default by
#               CONTAINER_TIMEOUT_SCALE)
# and CARGO_TARGET_DIR (exported). ci_setup sets $repo, $scratch, $copy and $logs.

# The step crates, in order: the workspace's members named stepNN-*, listed once, in
# its Cargo.toml (the harness reads the same list: harness::steps()).
mapfile -t steps < <(sed -n 's/^[[:space:]]*"\(step[0-9][0-9]-[^"]*\)",\{0,1\}[[:space:]]*$/\1/p' \
    "$(dirname "${BASH_SOURCE[0]}")/../Cargo.toml")

# $1 seconds times CONTAINER_TIMEOUT_SCALE (a whole number, 1 when unset): the one
# factor by which a slow machine raises every time limit, the tests' (the harness
# reads it too) and the scripts'.
ci_scaled() {
    local scale=${CONTAINER_TIMEOUT_SCALE:-1}
    [[ $scale =~ ^[1-9][0-9]*$ ]] || ci_fail "CONTAINER_TIMEOUT_SCALE=$scale: expected a whole number of at least 1"
    echo $(($1 * scale))
}

ci_fail() {
    echo "$ci_name: $*" >&2
    exit 2
}

# Root, unshare(1), a lock on CARGO_TARGET_DIR (two runs sharing it would overwrite each
# other's binaries and kill each other's tests), the environment for the tests, and the
# scratch copy with its cleanup.
ci_setup() {
    [ "$(id -u)" -eq 0 ] || ci_fail "run as root (the tests make namespaces and cgroups)"
    command -v unshare >/dev/null || ci_fail "needs unshare(1) (util-linux)"
    command -v flock >/dev/null || ci_fail "needs flock(1) (util-linux)"

    export INSTA_UPDATE=no CI=true
    # These would make the tests run another program, or pass whatever the snapshots say.
    unset CONTAINER_BIN CONTAINER_ROOTFS INSTA_FORCE_PASS

    mkdir -p "$CARGO_TARGET_DIR"
    exec {ci_lock_fd}>"$CARGO_TARGET_DIR/.ci-lock"
    if ! flock -n "$ci_lock_fd"; then
        echo "$ci_name: another run uses $CARGO_TARGET_DIR; waiting for it" >&2
        flock "$ci_lock_fd"
    fi

    scratch=$(mktemp -d "/tmp/$ci_name.XXXXXX")
    trap ci_cleanup EXIT
    trap 'exit 130' INT TERM
    logs=$scratch/logs
    copy=$scratch/repo
    mkdir -p "$logs" "$copy"
    touch "$scratch/started"
    ci_copy_repo
}

ci_cleanup() {
    local status=$?
    reap_leftovers
    remove_leftover_cgroups
    forget_workspace_builds
    if [ "${ci_keep:-}" = 1 ]; then
        echo "$ci_name: kept $scratch" >&2
    else
        rm -rf "$scratch"
    fi
    exit "$status"
}

# Copy the repository to $copy: the commit $ci_rev, or the working tree's files that
# git tracks or would track (new files included, ignored ones not: never target/ nor
# rootfs/fs); plus rootfs/cache, so the copy's root filesystem is built without a
# download.
ci_copy_repo() {
    if [ -n "${ci_rev:-}" ]; then
        git -C "$repo" archive "$ci_rev" | tar -C "$copy" -xf -
    else
        git -C "$repo" ls-files -z --cached --others --exclude-standard --deduplicate |
            while IFS= read -r -d '' file; do
                [ -e "$repo/$file" ] && printf '%s\0' "$file" # not deleted in the working tree
            done |
            tar -C "$repo" --null -T - -cf - | tar -C "$copy" -xf -
    fi
    # Fresh modification times: cargo decides what to rebuild by them, and a copy keeps
    # the repository's (or the commit's), older than a previous run's build of another
    # copy (whose paths, e.g. the root filesystem's, are compiled in).
    find "$copy" -type f -exec touch {} +
    if [ -d "$repo/rootfs/cache" ]; then
        mkdir -p "$copy/rootfs/cache"
        tar -C "$repo/rootfs/cache" --exclude=./vm -cf - . | tar -C "$copy/rootfs/cache" -xf -
    fi
}

# Make cargo rebuild the workspace's crates at their next build in CARGO_TARGET_DIR.
# Cargo tells a path crate's builds apart by its path relative to the workspace and
# by modification times, not by where the workspace is: a build in this directory
# from the repository itself, whose files are older than the copy's, would take the
# copy's binaries as up to date, although they have the copy's paths compiled in
# (env!("CARGO_MANIFEST_DIR"): the root filesystem, the sources the book snapshots
# read) and may be a changed program (the last mutant or solution). Dependencies
# from the registry stay built.
forget_workspace_builds() {
    local crate
    for crate in "${steps[@]}" rootfs harness book; do
        rm -rf "$CARGO_TARGET_DIR"/debug/.fingerprint/"$crate"-*
    done
}

# After a test run: end the processes still running from the copy or from
# CARGO_TARGET_DIR (each by its PID), as a changed program may leave them.
reap_leftovers() {
    local p exe
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case $exe in "$scratch"/* | "$CARGO_TARGET_DIR"/*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
    done
}

# At the end: remove the cgroups of containers that a changed program left (their
# runtime is gone), but only those made since this run started. Not after each test
# run, nor older ones: a test of another run at the same time may be checking that
# its program removes the cgroup its killed runtime left, and removing it for that
# program would hide a program that does not.
remove_leftover_cgroups() {
    local dir pid
    for dir in /sys/fs/cgroup/container-* /sys/fs/cgroup/*/container-*; do
        [ -d "$dir" ] && [ "$dir" -nt "$scratch/started" ] || continue
        pid=${dir##*/container-}
        [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rmdir "$dir" 2>/dev/null || true
    done
}

# `cargo test -q ARGS...` in the copy, in new mount and UTS namespaces (a copy of this
# machine's), under a timeout; output to the log $1. A program without its mount
# namespace or chroot mounts proc over the test's own /proc, and one without its UTS
# namespace renames the host: the namespaces keep such damage away from the machine.
# The tests compare against the test process's own namespaces, so they see the same
# "host". Then reap what is left.
run_tests() {
    local log=$1 rc=0
    shift
    (cd "$copy" && timeout -k 10 "$timeout_s" unshare --mount --uts --propagation private -- \
        cargo test -q "$@") >"$log" 2>&1 || rc=$?
    reap_leftovers
    return "$rc"
}

# `cargo test --no-run ARGS...` in the copy: does it build? Output to the log $1.
build_tests() {
    local log=$1
    shift
    (cd "$copy" && cargo test -q --no-run "$@") >"$log" 2>&1
}

# The test files of crate $1 that check its behaviour, as `--test NAME` arguments:
# every tests/*.rs but book.rs, whose snapshot of the diff between steps changes with
# any edit of main.rs, and exercises.rs, whose checks fail until the exercises are solved.
behaviour_tests() {
    local crate=$1 file name
    for file in "$copy/$crate"/tests/*.rs; do
        name=$(basename "$file" .rs)
        case $name in book | exercises) ;; *) printf '%s\n' --test "$name" ;; esac
    done
}

# The failing tests in a cargo test log, one a line, as TESTFILE::NAME, in the order
# cargo ran them (with --no-fail-fast, from every test file; else from the first
# file with a failure, where cargo stopped).
failing_tests() {
    awk '
        /^---- .* stdout ----$/ {
            name = $0; sub(/^---- /, "", name); sub(/ stdout ----$/, "", name)
            if (!(name in seen)) { seen[name] = 1; pending[++n] = name }
        }
        /to rerun pass `-p [^ ]* --test [^`]*`/ {
            file = $0; sub(/.*--test /, "", file); sub(/`.*/, "", file)
            for (i = 1; i <= n; i++) print file "::" pending[i]
            n = 0; delete seen
        }
        END { for (i = 1; i <= n; i++) print pending[i] }
    ' "$1"
}

# Why a cargo test run failed, in one line: the failing tests (the first two, and how
# many more), or a timeout, or the exit code when no test failed (a build error).
first_failure() {
    local log=$1 rc=$2 names count
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timeout after ${timeout_s}s"
        return
    fi
    names=$(failing_tests "$log")
    if [ -z "$names" ]; then
        echo "exit code $rc, no failing test named (see the log)"
        return
    fi
    count=$(wc -l <<<"$names")
    names=$(head -n 2 <<<"$names" | paste -sd ',' - | sed 's/,/, /g')
    if [ "$count" -gt 2 ]; then
        echo "$names (+$((count - 2)) more)"
    else
        echo "$names"
    fi
}

# How many tests passed and failed in a cargo test log, summed over its test files.
test_counts() {
    local log=$1
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i - 1); if ($(i) ~ /^failed/) f += $(i - 1) } }
         END { printf "%d %d\n", p, f }' "$log"
}
