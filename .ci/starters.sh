#!/usr/bin/env bash
# The learner's way through the course works, step by step, end to end:
#
#   .ci/starters.sh        (as root, or as yourself with sudo; needs no stepNN-*/mine/)
#
# For every step N: `cargo course start N` makes the learner's own copy from the
# starter; the copy builds; graded, it FAILS step N's feature checks (step 1: its
# checks), as the TODOs are not done; with the reference program written into it (a learner who did the
# TODOs), `cargo course grade N` PASSES them. The copies are removed afterwards.
# (Each starter is made from the previous step's program and the step's
# starter.todos; cargo test -p course checks that every TODO still finds its line.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

copies=()
cleanup() { [ ${#copies[@]} -eq 0 ] || rm -rf "${copies[@]}"; }
trap cleanup EXIT

ok=1
for dir in step0[1-9]-*/; do
    crate=${dir%/} n=$((10#${crate:4:2}))
    if [ -e "$crate/mine" ]; then
        echo "$crate/mine exists (someone's work): this script needs a clone without it" >&2
        exit 2
    fi
    copies+=("$crate/mine")
    cargo course start "$n" >/dev/null
    cargo build -q --manifest-path "$crate/mine/Cargo.toml"
    bin=target/debug/my-$crate
    # Step 1 adds no feature to a step before it: its starter fails all its checks.
    filter=(--filter feature_)
    [ "$n" -gt 1 ] || filter=()
    starter=$(.ci/grade.sh "${filter[@]}" "$bin" "$n" || true)
    cp "$crate/src/main.rs" "$crate/mine/src/main.rs"
    solved=$(cargo course grade "$n" || true)
    if [[ $starter == *": FAIL "* && $solved == "$crate: pass" ]]; then
        echo "$crate: starter fails its feature checks, solved passes"
    else
        printf '%s: WRONG\n  starter: %s\n  solved:  %s\n' "$crate" "$starter" "$solved"
        ok=0
    fi
done
[ "$ok" = 1 ]
