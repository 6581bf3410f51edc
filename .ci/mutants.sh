#!/usr/bin/env bash
# Mutation check for the course: for each step, remove its one feature (the clone
# flag, the private remount, the chroot, the proc mount, the pids.max write, the
# cgroup removal, the zombie reaping...) and show that at least one test fails.
#
#   sudo bash .ci/mutants.sh          (from anywhere; needs root, as the tests do)
#
# How it works:
#  - copies the repository's tracked files (as they are in the working tree, or
#    as in commit $MUTANTS_REV) to a scratch directory under /tmp, plus rootfs/cache
#    (so the copy's root filesystem is built without a download); never target/
#    nor rootfs/fs;
#  - runs the unmodified copy's tests once (the baseline): they must pass;
#  - for each mutant of the table below, applies its textual edit(s) to one file,
#    checks that it still compiles, runs `cargo test -q -p CRATE`, then restores
#    the file. A failing test run KILLS the mutant; a passing one means it SURVIVED.
#    An edit whose `old` text is not found exactly once is a fatal error: the code
#    changed, and the table must follow it.
#  - prints a table and `mutants: N killed, M survived`; exits 1 if any survived.
#
# Every test run happens in a new mount and UTS namespace (unshare(1)), a copy of
# this machine's: a mutant without its mount namespace or without its chroot mounts
# proc over the test's own /proc, and one without its UTS namespace renames the
# host. The namespaces keep such damage away from the machine; the tests compare
# against the test process's own namespaces, so they see the same "host".
#
# Environment: CARGO_TARGET_DIR defaults to <repo>/target/mutants (kept between runs,
# so builds are incremental); MUTANTS_TIMEOUT (seconds per test run, default 300);
# MUTANTS_KEEP=1 keeps the scratch copy and the logs; MUTANTS_REV=HEAD (or any
# commit) tests that commit instead of the working tree.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
[ "$(id -u)" -eq 0 ] || { echo "mutants: run as root (the tests make namespaces and cgroups)" >&2; exit 2; }
command -v unshare >/dev/null || { echo "mutants: needs unshare(1) (util-linux)" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/mutants}
export INSTA_UPDATE=no CI=true
# These would make the tests run another program, or pass whatever the snapshots say.
unset CONTAINER_BIN CONTAINER_ROOTFS INSTA_FORCE_PASS
timeout_s=${MUTANTS_TIMEOUT:-300}
steps=(step01-exec step02-uts step03-reexec step04-pid step05-chroot-proc step06-mount-ns step07-cgroups)

# ---------------------------------------------------------------------------
# The mutants. `mutant CRATE "FEATURE REMOVED" OLD NEW [OLD NEW]...`: each OLD must
# occur exactly once in CRATE/src/main.rs and is replaced by NEW. Every mutant must
# still compile (warnings, e.g. an unused import, are fine: clippy is not run).
M_CRATE=() M_DESC=() M_FIRST=() M_COUNT=() E_OLD=() E_NEW=()
mutant() {
    local crate=$1 desc=$2
    shift 2
    [ $# -gt 0 ] && [ $(($# % 2)) -eq 0 ] || { echo "mutant '$desc': needs OLD NEW pairs" >&2; exit 2; }
    M_CRATE+=("$crate") M_DESC+=("$desc") M_FIRST+=("${#E_OLD[@]}") M_COUNT+=($(($# / 2)))
    while [ $# -gt 0 ]; do
        E_OLD+=("$1") E_NEW+=("$2")
        shift 2
    done
}

mutant step01-exec "exit code passthrough (always 0)" \
    '(Some(code), _) => code as u8,' \
    '(Some(_), _) => 0,'

mutant step02-uts "CLONE_NEWUTS" \
    'unshare(CloneFlags::CLONE_NEWUTS)' \
    'unshare(CloneFlags::empty())'

mutant step03-reexec "sethostname(container) in child" \
    'sethostname("container")' \
    'Ok::<(), Errno>(())'

mutant step04-pid "CLONE_NEWPID" \
    'unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)' \
    'unshare(CloneFlags::CLONE_NEWUTS)'
mutant step04-pid "signal forwarding (kill(main, signal))" \
    'let _ = kill(main, signal);' \
    'let _ = signal;'
mutant step04-pid "orphan reaping (waitpid(main) only)" \
    'waitpid(None, Some(WaitPidFlag::WNOHANG))' \
    'waitpid(main, Some(WaitPidFlag::WNOHANG))'
mutant step04-pid "parent-death signal (set_pdeathsig)" \
    'Ok(set_pdeathsig(SIGKILL)?)' \
    'Ok::<(), io::Error>(())'

mutant step05-chroot-proc "chroot" \
    'chroot(rootfs).map_err(|err| failed(format_args!("chroot({})", rootfs.display()), err))?;' \
    'let _ = rootfs;'
mutant step05-chroot-proc "proc mount (and its umount)" \
    'mount(Some("proc"), "/proc", Some("proc"), MsFlags::empty(), None::<&str>)' \
    'Ok::<(), Errno>(())' \
    'umount2("/proc", MntFlags::MNT_DETACH).map_err(|err| failed("umount(/proc)", err))?;' \
    '// mutant: no proc mount, so no umount'
mutant step05-chroot-proc "umount of /proc after the command" \
    'umount2("/proc", MntFlags::MNT_DETACH).map_err(|err| failed("umount(/proc)", err))?;' \
    '// mutant: /proc left mounted'

mutant step06-mount-ns "CLONE_NEWNS" \
    'unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS)' \
    'unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)'
mutant step06-mount-ns "MS_REC | MS_PRIVATE remount of /" \
    'mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)' \
    'Ok::<(), Errno>(())'

mutant step07-cgroups "pids.max write" \
    'write(&cgroup.join("pids.max"), &pids_max.to_string())' \
    'Ok::<(), Failure>(())'
mutant step07-cgroups "cgroup removal (remove_cgroup is a no-op)" \
    'fs::remove_dir(cgroup).map_err(|err| io_failed(format_args!("rmdir {}", cgroup.display()), err))' \
    'let _ = cgroup; Ok(())'
mutant step07-cgroups "child joins the cgroup" \
    'join_cgroup(cgroup)?;' \
    'let _ = cgroup;'
mutant step07-cgroups "remove_stale_cgroups" \
    'remove_stale_cgroups(&hierarchy);' \
    '// mutant: stale cgroups kept'

# ---------------------------------------------------------------------------
scratch=$(mktemp -d /tmp/mutants.XXXXXX)
cleanup() {
    local status=$?
    reap_leftovers
    if [ "${MUTANTS_KEEP:-}" = 1 ]; then
        echo "mutants: kept $scratch" >&2
    else
        rm -rf "$scratch"
    fi
    exit "$status"
}

# After a test run: end the processes still running from the copy's root filesystem
# (each by its PID), and remove the cgroups of containers whose runtime is gone,
# as a mutant may leave them (the unmutated code does the same for stale ones).
reap_leftovers() {
    local p exe dir pid
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case $exe in "$scratch"/* | "$CARGO_TARGET_DIR"/*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
    done
    for dir in /sys/fs/cgroup/container-* /sys/fs/cgroup/*/container-*; do
        [ -d "$dir" ] || continue
        pid=${dir##*/container-}
        [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rmdir "$dir" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

logs=$scratch/logs
copy=$scratch/repo
mkdir -p "$logs" "$copy"
if [ -n "${MUTANTS_REV:-}" ]; then
    git -C "$repo" archive "$MUTANTS_REV" | tar -C "$copy" -xf -
else
    git -C "$repo" ls-files -z | tar -C "$repo" --null -T - -cf - | tar -C "$copy" -xf -
fi
# Fresh modification times: cargo decides what to rebuild by them, and a copy keeps
# the repository's (or the commit's), older than a previous run's build of another
# copy (whose paths, e.g. the root filesystem's, are compiled in).
find "$copy" -type f -exec touch {} +
if [ -d "$repo/rootfs/cache" ]; then
    mkdir -p "$copy/rootfs/cache"
    tar -C "$repo/rootfs/cache" --exclude=./vm -cf - . | tar -C "$copy/rootfs/cache" -xf -
fi

# cargo test, in new mount and UTS namespaces, under a timeout; output to $1.
run_tests() {
    local log=$1
    shift
    (cd "$copy" && timeout -k 10 "$timeout_s" unshare --mount --uts --propagation private -- \
        cargo test -q "$@") >"$log" 2>&1
}

# The failing tests in a cargo test log: the first one (as TESTFILE::NAME), and how
# many more failed in that test file; or why the run failed. cargo stops after the
# first test file with a failure, so the others were not run.
first_failure() {
    local log=$1 rc=$2 names first more file
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timeout after ${timeout_s}s"
        return
    fi
    names=$(sed -n 's/^---- \(.*\) stdout ----$/\1/p' "$log" | awk '!seen[$0]++')
    [ -n "$names" ] || names=$(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$log" | awk '!seen[$0]++')
    if [ -z "$names" ]; then
        echo "exit code $rc, no failing test named (see the log)"
        return
    fi
    first=$(head -n 1 <<<"$names")
    more=$(($(wc -l <<<"$names") - 1))
    file=$(sed -n 's/.*to rerun pass `-p [^ ]* --test \([^`]*\)`.*/\1/p' "$log" | head -n 1)
    if [ "$more" -gt 0 ]; then
        echo "${file:+$file::}$first (+$more more)"
    else
        echo "${file:+$file::}$first"
    fi
}

# Fatal unless the text $2 occurs exactly once in file $1 (then it is in $content).
occurs_once() {
    local file=$1 old=$2 rest count
    IFS= read -r -d '' content <"$file" || true
    rest=${content//"$old"/}
    count=$(((${#content} - ${#rest}) / ${#old}))
    if [ "$count" -ne 1 ]; then
        printf 'mutants: FATAL: in %s, this text occurs %d times, not once:\n  %s\n' \
            "${file#"$copy"/}" "$count" "$old" >&2
        printf 'The code changed: update the mutant table in .ci/mutants.sh.\n' >&2
        exit 2
    fi
}

# Replace, in file $1, the text $2 by $3; fatal unless $2 occurs exactly once.
replace_once() {
    local file=$1 old=$2 new=$3 content
    occurs_once "$file" "$old"
    printf '%s' "${content/"$old"/"$new"}" >"$file"
}

# Check the whole table first, so that a stale one fails in seconds, not after the baseline.
for i in "${!M_CRATE[@]}"; do
    for ((e = M_FIRST[i]; e < M_FIRST[i] + M_COUNT[i]; e++)); do
        occurs_once "$copy/${M_CRATE[i]}/src/main.rs" "${E_OLD[e]}"
    done
done

start=$SECONDS
pkgs=()
for s in "${steps[@]}"; do pkgs+=(-p "$s"); done

echo "mutants: copy of $repo in $copy; CARGO_TARGET_DIR=$CARGO_TARGET_DIR" >&2
echo "mutants: baseline (unmutated): cargo test -q ${pkgs[*]}" >&2
rc=0
run_tests "$logs/baseline.log" "${pkgs[@]}" || rc=$?
reap_leftovers
if [ "$rc" -ne 0 ]; then
    tail -n 60 "$logs/baseline.log" >&2
    echo "mutants: the unmutated copy fails ($(first_failure "$logs/baseline.log" "$rc")): fix that first" >&2
    MUTANTS_KEEP=${MUTANTS_KEEP:-1}
    exit 2
fi
echo "mutants: baseline passes ($((SECONDS - start))s)" >&2

rows=() killed=0 survived=0
for i in "${!M_CRATE[@]}"; do
    crate=${M_CRATE[i]} desc=${M_DESC[i]}
    file=$copy/$crate/src/main.rs
    log=$logs/mutant-$((i + 1)).log
    cp -p "$file" "$scratch/original.rs"
    for ((e = M_FIRST[i]; e < M_FIRST[i] + M_COUNT[i]; e++)); do
        replace_once "$file" "${E_OLD[e]}" "${E_NEW[e]}"
    done
    echo "mutants: [$((i + 1))/${#M_CRATE[@]}] $crate without $desc" >&2
    t0=$SECONDS
    if ! (cd "$copy" && cargo test -q --no-run -p "$crate") >"$log" 2>&1; then
        cat "$log" >&2
        echo "mutants: FATAL: the mutant '$crate: $desc' does not compile: fix its NEW text" >&2
        exit 2
    fi
    rc=0
    run_tests "$log" -p "$crate" || rc=$?
    reap_leftovers
    cp -p "$scratch/original.rs" "$file"
    touch "$file" # newer than the mutant's build, so cargo rebuilds the original
    if [ "$rc" -eq 0 ]; then
        result="SURVIVED"
        survived=$((survived + 1))
    else
        result="killed by $(first_failure "$log" "$rc")"
        killed=$((killed + 1))
    fi
    rows+=("$crate"$'\t'"$desc"$'\t'"$result"$'\t'"$((SECONDS - t0))s")
    echo "mutants:   $result" >&2
done

{
    printf '%s\t%s\t%s\t%s\n' crate "feature removed" result time
    printf '%s\t%s\t%s\t%s\n' ----- --------------- ------ ----
    printf '%s\n' "${rows[@]}"
} | column -t -s $'\t' -o ' | '
echo "mutants: $killed killed, $survived survived"
echo "mutants: total time $((SECONDS - start))s" >&2
[ "$survived" -eq 0 ]
