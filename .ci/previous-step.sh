#!/usr/bin/env bash
# Each step's tests need that step: the proof that the graded tests are a fair grader.
#
#   .ci/previous-step.sh          (as root, or as yourself with sudo, as .ci/grade.sh)
#
# For every step N from 2 to 7, with .ci/grade.sh:
#  - each FEATURE test of step N (in stepNN-*/tests/stepNN.rs, named `feature_*`: what
#    step N adds) must FAIL against step N-1's program: step N's checks cannot be
#    passed without step N's feature;
#  - every graded test of step N (the whole tests/stepNN.rs) must pass against step
#    N's own program.
# Prints one table row per feature test and one per step, and exits 0 only if both
# hold for every step.
#
# Running step N's tests against step N-1's program is what a student's unfinished
# program does too, and grade.sh makes it safe: every run is in new mount and UTS
# namespaces (step 1 has no UTS namespace, step 4 no chroot, step 5 no mount
# namespace); a fork bomb goes off only once the kernel shows a pids limit, so step
# 7's never does under step 6's program; every container is killed when its test
# ends. Afterwards this script checks that no cgroup or mount was left.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=lib.sh
. .ci/lib.sh # the steps, as the workspace lists them: ${steps[@]}

packages=()
for s in "${steps[@]}"; do packages+=(-p "$s"); done
cargo build -q "${packages[@]}"
bins=${CARGO_TARGET_DIR:-$repo/target}/debug

leftovers() {
    find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'container-*' 2>/dev/null | sort
    grep -o " $repo/rootfs/[^ ]*" /proc/self/mountinfo | sort || true
}
before=$(leftovers)

rows=() ok=1
for ((n = 2; n <= ${#steps[@]}; n++)); do
    crate=${steps[n - 1]} previous=${steps[n - 2]}
    against_previous=$(.ci/grade.sh --filter feature_ --tests "$bins/$previous" "$n") || true
    against_own=$(.ci/grade.sh --tests "$bins/$crate" "$n") || true
    features=$(sed -n 's/^  \(feature_[^:]*\): .*/\1/p' <<<"$against_previous")
    if [ -z "$features" ]; then
        rows+=("$crate"$'\t'"(no feature test ran)"$'\t'"ERROR"$'\t'"")
        ok=0
        continue
    fi
    for test in $features; do
        old=$(sed -n "s/^  $test: //p" <<<"$against_previous")
        new=$(sed -n "s/^  $test: //p" <<<"$against_own")
        case $old in
        FAIL*) old="fails: ${old#FAIL}" old=${old/: : /: } ;;
        *) old="PASSES: not a feature test" ok=0 ;;
        esac
        if [ "$new" = pass ]; then new="passes"; else new="FAILS" ok=0; fi
        rows+=("$crate"$'\t'"$test"$'\t'"$old"$'\t'"$new")
    done
    summary=$(head -n 1 <<<"$against_own")
    total=$(grep -c '^  ' <<<"$against_own" || true)
    if [ "$summary" = "$crate: pass" ]; then
        rows+=("$crate"$'\t'"all $total graded tests (tests/${crate%%-*}.rs)"$'\t'"-"$'\t'"pass")
    else
        rows+=("$crate"$'\t'"all $total graded tests (tests/${crate%%-*}.rs)"$'\t'"-"$'\t'"${summary#"$crate: "}")
        ok=0
    fi
done

{
    printf '%s\t%s\t%s\t%s\n' step "feature test of step N" "against step N-1's program: the first check that fails" "step N's"
    printf '%s\t%s\t%s\t%s\n' ---- ---------------------- ------------------ ----------------
    printf '%s\n' "${rows[@]}"
} | column -t -s $'\t' -o ' | '

after=$(leftovers)
left=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
if [ -n "$left" ]; then
    echo "previous-step: these were left behind:" >&2
    echo "$left" >&2
    ok=0
fi
if [ "$ok" = 1 ]; then
    echo "previous-step: every feature test of steps 2 to ${#steps[@]} fails against the step before, and every step passes its own graded tests"
else
    echo "previous-step: FAILED (see the rows above)" >&2
    exit 1
fi
