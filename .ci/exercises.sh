#!/usr/bin/env bash
# Proves every exercise of the book against its reference solution: its check fails
# on the step as it is, and passes once the solution is applied.
#
#   sudo bash .ci/exercises.sh                        every exercise of every step
#   sudo bash .ci/exercises.sh step05-chroot-proc     those of some steps (or: step05)
#
# An exercise NAME of step S is S/exercises/NAME.patch (the reference solution, a
# `git diff` of S/src/main.rs), the test `fn NAME` in S/tests/exercises.rs (its
# check), and an entry in S/exercises/README.md that the book includes.
#
# How it works, in a scratch copy of the repository (see .ci/lib.sh; the same copy,
# namespaces and cleanup as .ci/mutants.sh):
#  - checks that each exercise has its test and its README entry, and that
#    S/tests/exercises.rs builds without clippy warnings;
#  - runs `cargo test -q -p S --test exercises -- --exact NAME` on the unmodified
#    copy: it must FAIL, in the test itself (not a build error nor a timeout);
#  - applies the patch (git apply; it may change S/src/main.rs only), and checks that
#    the solution passes rustfmt and clippy -D warnings;
#  - runs the check again: it must PASS; then the step's behaviour tests (every
#    tests/*.rs but exercises.rs and book.rs, whose snapshot of the diff between
#    steps changes with any edit): they must still pass;
#  - restores main.rs.
# It prints one line per exercise and a summary; exits 1 if any exercise fails one
# of these, 2 if it cannot run at all.
#
# Every test run happens in new mount and UTS namespaces (unshare(1)), as in
# .ci/mutants.sh: a wrong program cannot rename the host or mount over its /proc.
#
# Environment: CARGO_TARGET_DIR defaults to <repo>/target/exercises (kept between
# runs); EXERCISES_TIMEOUT (seconds per test run, default 300 times
# CONTAINER_TIMEOUT_SCALE, which also gives the tests more time); EXERCISES_KEEP=1 keeps
# the scratch copy and the logs (kept anyway when an exercise fails); EXERCISES_REV=HEAD
# (or any commit) checks that commit instead of the working tree.
set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
# shellcheck source=lib.sh
. "$repo/.ci/lib.sh"
ci_name=exercises ci_keep=${EXERCISES_KEEP:-} ci_rev=${EXERCISES_REV:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/exercises}
timeout_s=${EXERCISES_TIMEOUT:-$(ci_scaled 300)}

# The steps asked for: whole crate names, or their first part (`step05`).
chosen=()
for arg in "$@"; do
    arg=${arg%/}
    found=
    for s in "${steps[@]}"; do
        if [ "$s" = "$arg" ] || [ "${s%%-*}" = "$arg" ]; then
            chosen+=("$s") found=1
        fi
    done
    [ -n "$found" ] || ci_fail "no step named '$arg' (the steps: ${steps[*]})"
done
[ ${#chosen[@]} -gt 0 ] || chosen=("${steps[@]}")

ci_setup
echo "exercises: copy of $repo in $copy; CARGO_TARGET_DIR=$CARGO_TARGET_DIR" >&2

start=$SECONDS
ok=0 failed=0 total=0
# One line per exercise on stdout; what went wrong, with the end of its log, on stderr.
report() {
    local crate=$1 name=$2 verdict=$3 log=${4:-}
    total=$((total + 1))
    if [ "$verdict" = ok ]; then
        ok=$((ok + 1))
        echo "exercises: $crate $name: ok (fails before, passes after, step tests pass; $((SECONDS - t0))s)"
    else
        failed=$((failed + 1))
        echo "exercises: $crate $name: FAILED: $verdict"
        if [ -n "$log" ]; then
            tail -n 40 "$log" | sed 's/^/    /' >&2
            echo "    (whole log: $log)" >&2
        fi
    fi
}

# With the solution applied: formatted, no clippy warning, its check passes, and so
# do the step's behaviour tests ($tests). Sets $verdict (`ok` or what failed) and
# $verdict_log (the log that shows it). Logs: $1-check.log, $1-steps.log.
check_solution() {
    local crate=$1 name=$2 log=$3 rc=0
    verdict=ok verdict_log=$log-check.log
    if ! rustfmt --edition 2024 --color never --check "$copy/$crate/src/main.rs" >"$verdict_log" 2>&1; then
        verdict="the solution is not formatted (rustfmt --check)"
    elif ! (cd "$copy" && cargo clippy -q -p "$crate" -- -D warnings) >"$verdict_log" 2>&1; then
        verdict="the solution does not build, or has clippy warnings"
    elif run_tests "$verdict_log" -p "$crate" --test exercises -- --exact "$name" || rc=$?; [ "$rc" -ne 0 ]; then
        verdict="its check fails with the reference solution: $(first_failure "$verdict_log" "$rc")"
    elif [ "$(test_counts "$verdict_log")" != "1 0" ]; then
        verdict="its check did not run (no test named $name passed)"
    else
        verdict_log=$log-steps.log
        if run_tests "$verdict_log" -p "$crate" "${tests[@]}" || rc=$?; [ "$rc" -ne 0 ]; then
            verdict="the step's own tests fail with the solution: $(first_failure "$verdict_log" "$rc")"
        fi
    fi
}

for crate in "${chosen[@]}"; do
    dir=$copy/$crate
    patches=("$dir"/exercises/*.patch)
    if [ ! -e "${patches[0]}" ]; then
        echo "exercises: $crate: no exercises" >&2
        continue
    fi
    mapfile -t tests < <(behaviour_tests "$crate")
    step_log=$logs/$crate-build.log
    echo "exercises: $crate: building the unmodified step and its checks" >&2
    problem=
    if ! build_tests "$step_log" -p "$crate" --test exercises "${tests[@]}"; then
        problem="the unmodified step or its tests/exercises.rs does not build"
    elif ! (cd "$copy" && cargo clippy -q -p "$crate" --test exercises -- -D warnings) >"$step_log" 2>&1; then
        # `cargo clippy --all-targets` leaves out test targets with `test = false`.
        problem="$crate/tests/exercises.rs has clippy warnings"
    fi
    if [ -n "$problem" ]; then
        for patch in "${patches[@]}"; do
            t0=$SECONDS
            report "$crate" "$(basename "$patch" .patch)" "$problem" "$step_log"
        done
        continue
    fi

    # Each check on the unmodified step, all with the same build.
    declare -A before=()
    for patch in "${patches[@]}"; do
        name=$(basename "$patch" .patch)
        log=$logs/$crate-$name-before.log
        t0=$SECONDS
        if ! grep -Eq "^fn $name\(\)" "$dir/tests/exercises.rs" 2>/dev/null; then
            before[$name]="no test \`fn $name()\` in $crate/tests/exercises.rs"
        elif ! grep -Fq -- "cargo test -p $crate --test exercises -- $name\`" "$dir/exercises/README.md" 2>/dev/null; then
            before[$name]="no entry with its check (cargo test -p $crate --test exercises -- $name) in $crate/exercises/README.md"
        else
            echo "exercises: $crate $name: the check on the unmodified step" >&2
            rc=0
            run_tests "$log" -p "$crate" --test exercises -- --exact "$name" || rc=$?
            if [ "$rc" -eq 0 ]; then
                before[$name]="its check passes on the unmodified step: it must fail until the exercise is solved"
            elif ! grep -q "^---- $name stdout ----$" "$log"; then
                before[$name]="its check did not fail by itself on the unmodified step: $(first_failure "$log" "$rc")"
            else
                before[$name]=ok
            fi
        fi
    done

    # Then each solution in turn: apply, check, restore.
    main=$dir/src/main.rs
    cp -p "$main" "$scratch/original.rs"
    for patch in "${patches[@]}"; do
        name=$(basename "$patch" .patch)
        log=$logs/$crate-$name-apply.log
        t0=$SECONDS
        if [ "${before[$name]}" != ok ]; then
            report "$crate" "$name" "${before[$name]}" "$logs/$crate-$name-before.log"
            continue
        fi
        echo "exercises: $crate $name: the reference solution" >&2
        changed=$(cd "$copy" && git apply --numstat "$patch" 2>&1 | cut -f 3 | sort -u) || true
        if [ "$changed" != "$crate/src/main.rs" ]; then
            report "$crate" "$name" "the patch must change $crate/src/main.rs only; it changes: ${changed//$'\n'/ }"
            continue
        fi
        if ! (cd "$copy" && git apply "$patch") >"$log" 2>&1; then
            report "$crate" "$name" "the patch does not apply (git apply)" "$log"
            continue
        fi
        check_solution "$crate" "$name" "$logs/$crate-$name"
        report "$crate" "$name" "$verdict" "$verdict_log"
        cp -p "$scratch/original.rs" "$main"
        touch "$main" # newer than the solution's build, so cargo rebuilds the original
    done
    unset before
done

[ "$total" -gt 0 ] || ci_fail "no exercises found in ${chosen[*]}"
echo "exercises: $ok ok, $failed failed (of $total) in $((SECONDS - start))s"
if [ "$failed" -gt 0 ]; then
    ci_keep=${EXERCISES_KEEP:-1}
    exit 1
fi
