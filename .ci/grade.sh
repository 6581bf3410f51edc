#!/usr/bin/env bash
# Grade a container program, written in any language, against the course's graded
# tests, step by step. The contract it must keep is in the book
# (book/src/classroom/grading.md): `BIN run CMD ARGS...`, the command wired to the
# terminal, Docker's exit codes, and the root filesystem named by CONTAINER_ROOTFS.
#
#   .ci/grade.sh [-v] [--filter TEXT] [--tests] [--exercise NAME] BIN [STEP...]
#
# STEP is 1 to 7 (or 04, step04, step04-pid); all seven when none is given. For
# each step it runs that step's graded tests, `cargo test -p stepNN-… --test stepNN`,
# with CONTAINER_BIN=BIN, and prints one line:
#
#   step04-pid: pass
#   step04-pid: FAIL (3 of 11 checks) — first: <the check>: <a hint at the cause>
#
# and exits 0 only if every step passed (1 if one failed, 2 if it could not grade).
#   -v             also print every failed check in full: expected, what the kernel
#                  showed, and the hint
#   --filter TEXT  run only the tests whose name contains TEXT (e.g. feature_)
#   --tests        also print one line per test: `  NAME: pass` or `  NAME: FAIL: CHECK`
#   --exercise NAME  grade the step's exercise NAME instead (its check in
#                  tests/exercises.rs): `step06-mount-ns pivot_root: pass`
#
# Every step's tests run in new mount and UTS namespaces, copies of this machine's
# (unshare(1)): a program without its own UTS namespace renames only that copy, and
# one without its own mount namespace (or chroot) mounts only in that copy. Run it
# as yourself: cargo builds the tests as you, and runs them through .cargo/runner,
# which adds sudo when you are not root. Needs Rust and util-linux.
#
# On a slow machine, CONTAINER_TIMEOUT_SCALE=3 .ci/grade.sh … gives every time limit
# of the checks three times as long (a whole number; see the harness's lib.rs).
#
# `cargo course grade` runs this script; a whole class, contained and time-limited,
# is `cargo course class DIR` (book/src/classroom/teacher.md).
set -euo pipefail

usage() {
    sed -n '7p' "$0" | sed 's/^#   //' >&2
    exit 2
}

verbose=0 filter="" per_test=0 exercise=""
while [ $# -gt 0 ]; do
    case $1 in
    -v) verbose=1 ;;
    --tests) per_test=1 ;;
    --filter)
        [ $# -ge 2 ] || usage
        filter=$2
        shift
        ;;
    --exercise)
        [ $# -ge 2 ] || usage
        exercise=$2
        shift
        ;;
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
        exit 0
        ;;
    -*) usage ;;
    *) break ;;
    esac
    shift
done
[ $# -ge 1 ] || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$repo/.ci/lib.sh" # the steps, as the workspace lists them: ${steps[@]}

bin=$1
shift
if ! [ -f "$bin" ] || ! [ -x "$bin" ]; then
    echo "grade: $bin: not an executable file" >&2
    exit 2
fi
# Absolute, but links kept: a program may pick its step from its own name
# (a class hands in step01 … step07 as links to one binary).
bin=$(realpath -s "$bin")
command -v unshare >/dev/null || { echo "grade: needs unshare(1) (util-linux)" >&2; exit 2; }
case $repo in *[[:space:]]*) echo "grade: $repo: a path with spaces is not supported" >&2; exit 2 ;; esac

# The steps asked for, as crate names.
chosen=()
[ $# -gt 0 ] || set -- $(seq 1 "${#steps[@]}")
for arg in "$@"; do
    n=${arg#step}
    n=${n%%-*}
    [[ $n =~ ^[0-9]+$ ]] && n=$((10#$n)) || n=0
    if [ "$n" -lt 1 ] || [ "$n" -gt "${#steps[@]}" ]; then
        echo "grade: $arg: not a step (1 to ${#steps[@]})" >&2
        exit 2
    fi
    chosen+=("${steps[n - 1]}")
done

# These would change what the tests run, or let a snapshot pass whatever it says.
unset CONTAINER_ROOTFS INSTA_FORCE_PASS
export INSTA_UPDATE=no CONTAINER_BIN=$bin
# cargo starts each test binary through this runner: the course's own (root, by
# sudo if need be), then unshare(1) for the namespaces described above.
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$host")_RUNNER
export "$runner_var=$repo/.cargo/runner unshare --mount --uts --propagation private --"

# The lines of a test's failure block ("---- NAME stdout ----" up to the next).
failure_block() {
    awk -v name="$2" '
        $0 == "---- " name " stdout ----" { on = 1; next }
        on && (/^---- .* stdout ----$/ || /^failures:$/) { exit }
        on { print }' <<<"$1"
}

status=0
for crate in "${chosen[@]}"; do
    test=${crate%%-*} label=$crate
    args=()
    [ -z "$filter" ] || args=("$filter")
    if [ -n "$exercise" ]; then
        test=exercises label="$crate $exercise" args=("$exercise" --exact)
    fi
    cd "$repo"
    if ! build=$(cargo test --no-run -q -p "$crate" --test "$test" 2>&1); then
        echo "$label: ERROR (the tests did not build)"
        echo "$build" | tail -n 20 | sed 's/^/    /' >&2
        status=2
        continue
    fi
    log=$(cargo test -p "$crate" --test "$test" -- "${args[@]}" 2>&1) || true
    total=$(sed -n 's/^running \([0-9]*\) tests\{0,1\}$/\1/p' <<<"$log" | head -n 1)
    if [ -z "$total" ] || ! grep -q '^test result: ' <<<"$log"; then
        echo "$label: ERROR (the tests did not run to their end)"
        tail -n 20 <<<"$log" | sed 's/^/    /' >&2
        status=2
        continue
    fi
    if [ "$total" = 0 ] && [ -n "$exercise" ]; then
        names=$(cargo test -q -p "$crate" --test exercises -- --list 2>/dev/null | sed -n 's/: test$//p' | xargs)
        echo "$label: ERROR (no such exercise in $crate; its exercises: $names)"
        status=2
        continue
    fi
    failed=$(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' <<<"$log" | sort)
    if [ -z "$failed" ]; then
        echo "$label: pass"
    else
        status=$((status > 1 ? status : 1))
        count=$(wc -l <<<"$failed")
        # First: a container that never ended, if one did not (a hang makes the other
        # failures follow from it); else the first failed check of what this step adds,
        # else the first failed.
        first=$(while IFS= read -r name; do
            failure_block "$log" "$name" | grep -qE '^check failed: the container(.s output)? ends' &&
                { echo "$name"; break; }
        done <<<"$failed" || true)
        [ -n "$first" ] || first=$(grep '^feature_' <<<"$failed" | head -n 1 || true)
        first=${first:-$(head -n 1 <<<"$failed")}
        block=$(failure_block "$log" "$first")
        what=$(sed -n 's/^check failed: //p' <<<"$block" | head -n 1)
        hint=$(sed -n 's/^  hint: //p' <<<"$block" | head -n 1)
        # A failure outside the harness's checks: its panic message's first line.
        [ -n "$what" ] || what=$(grep -v -e '^$' -e '^thread .* panicked at' <<<"$block" | head -n 1)
        echo "$label: FAIL ($count of $total checks) — first: ${what:-$first}${hint:+: $hint}"
    fi
    if [ "$per_test" = 1 ]; then
        while IFS= read -r name; do
            if grep -qxF "$name" <<<"$failed"; then
                what=$(failure_block "$log" "$name" | sed -n 's/^check failed: //p' | head -n 1)
                echo "  $name: FAIL${what:+: $what}"
            else
                echo "  $name: pass"
            fi
        done < <(sed -n 's/^test \(.*\) \.\.\. \(ok\|FAILED\)$/\1/p' <<<"$log" | sort)
    fi
    if [ "$verbose" = 1 ]; then
        while IFS= read -r name; do
            [ -n "$name" ] || continue
            echo "  $name:"
            failure_block "$log" "$name" | sed -n '/^check failed: /,/^  hint: /p' | sed 's/^/    /'
        done <<<"$failed"
    fi
done
exit "$status"
