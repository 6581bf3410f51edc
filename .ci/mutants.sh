#!/usr/bin/env bash
# Mutation check for the course: for each step, remove its one feature (the clone
# flag, the private remount, the chroot, the proc mount, the pids.max write, the
# cgroup removal, the zombie reaping...) and show that at least one test fails.
#
#   sudo bash .ci/mutants.sh          (from anywhere; needs root, as the tests do)
#
# How it works:
#  - copies the repository (its files as they are in the working tree, new ones
#    included, or as in commit $MUTANTS_REV) to a scratch directory under /tmp, plus
#    rootfs/cache (so the copy's root filesystem is built without a download); never
#    target/ nor rootfs/fs;
#  - runs the unmodified copy's behaviour tests once (the baseline): they must pass;
#  - for each mutant of the table below, applies its textual edit(s) to one file,
#    checks that it still compiles, runs the crate's behaviour tests, then restores
#    the file. A failing test run KILLS the mutant; a passing one means it SURVIVED.
#    The table names the tests that failed (all test files run: --no-fail-fast).
#    The behaviour tests are every tests/*.rs of the crate but book.rs and
#    exercises.rs: book.rs snapshots the diff between two steps' main.rs, so it fails
#    on ANY edit, and would "kill" every mutant without saying anything about what the
#    step does; exercises.rs fails until the chapter's exercises are solved.
#    An edit whose `old` text is not found exactly once is a fatal error: the code
#    changed, and the table must follow it.
#  - prints a table and `mutants: N killed, M survived`; exits 1 if any survived.
#
# Every test run happens in a new mount and UTS namespace (unshare(1)), a copy of
# this machine's: a mutant without its mount namespace or without its chroot mounts
# proc over the test's own /proc, and one without its UTS namespace renames the
# host. The namespaces keep such damage away from the machine; the tests compare
# against the test process's own namespaces, so they see the same "host". The copy,
# the namespaces and the cleanup are shared with .ci/exercises.sh, in .ci/lib.sh.
#
# Environment: CARGO_TARGET_DIR defaults to <repo>/target/mutants (kept between runs,
# so builds are incremental); MUTANTS_TIMEOUT (seconds per test run, default 300 times
# CONTAINER_TIMEOUT_SCALE, which also gives the tests more time);
# MUTANTS_KEEP=1 keeps the scratch copy and the logs; MUTANTS_REV=HEAD (or any
# commit) tests that commit instead of the working tree.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
# shellcheck source=lib.sh
. "$repo/.ci/lib.sh"
ci_name=mutants ci_keep=${MUTANTS_KEEP:-} ci_rev=${MUTANTS_REV:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/mutants}
timeout_s=${MUTANTS_TIMEOUT:-$(ci_scaled 300)}

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
mutant step02-uts "EPERM: 'run as root (sudo)' only when not root" \
    'Errno::EPERM if !geteuid().is_root() =>' \
    'Errno::EPERM =>'

mutant step03-reexec "sethostname(container) in child" \
    'sethostname("container")' \
    'Ok::<(), Errno>(())'
mutant step03-reexec "child refuses when started by hand" \
    'ensure_started_by_run()?;' \
    '// mutant: no check'

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
    'umount2("/proc", MntFlags::MNT_DETACH)' \
    'Ok::<(), Errno>(())'
mutant step05-chroot-proc "umount of /proc after the command" \
    'umount2("/proc", MntFlags::MNT_DETACH)' \
    'Ok::<(), Errno>(())'
mutant step05-chroot-proc "EINVAL from the umount of /proc ignored" \
    'Err(err) if err != Errno::EINVAL =>' \
    'Err(err) =>'
mutant step05-chroot-proc "a missing #! interpreter named" \
    'head.strip_prefix(b"#!")' \
    'None::<&[u8]>'

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
mutant step07-cgroups "a stale cgroup named after our own PID swept" \
    'pid == getpid() || ' \
    ''

# ---------------------------------------------------------------------------
ci_setup

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
for s in "${steps[@]}"; do
    pkgs+=(-p "$s")
    mapfile -t -O "${#pkgs[@]}" pkgs < <(behaviour_tests "$s")
done

echo "mutants: copy of $repo in $copy; CARGO_TARGET_DIR=$CARGO_TARGET_DIR" >&2
echo "mutants: baseline (unmutated): cargo test -q ${pkgs[*]}" >&2
rc=0
run_tests "$logs/baseline.log" "${pkgs[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -n 60 "$logs/baseline.log" >&2
    echo "mutants: the unmutated copy fails ($(first_failure "$logs/baseline.log" "$rc")): fix that first" >&2
    ci_keep=${MUTANTS_KEEP:-1}
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
    mapfile -t tests < <(behaviour_tests "$crate")
    if ! build_tests "$log" -p "$crate" "${tests[@]}"; then
        cat "$log" >&2
        echo "mutants: FATAL: the mutant '$crate: $desc' does not compile: fix its NEW text" >&2
        exit 2
    fi
    rc=0
    # Every test file, even after a failure: the table names the tests that fail,
    # and one flaky test must not hide which tests the mutant really breaks.
    run_tests "$log" --no-fail-fast -p "$crate" "${tests[@]}" || rc=$?
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
    [ "$rc" -eq 0 ] || failing_tests "$log" | sed 's/^/mutants:     failed: /' >&2
done

{
    printf '%s\t%s\t%s\t%s\n' crate "feature removed" result time
    printf '%s\t%s\t%s\t%s\n' ----- --------------- ------ ----
    printf '%s\n' "${rows[@]}"
} | column -t -s $'\t' -o ' | '
echo "mutants: $killed killed, $survived survived"
echo "mutants: total time $((SECONDS - start))s" >&2
[ "$survived" -eq 0 ]
