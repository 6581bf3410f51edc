#!/usr/bin/env bash
# The graded checks are fair to other languages: the course's own implementations
# of the contract in Go and in C (rootfs/other-languages/) pass every step,
# and each step's feature checks fail against the same program stopped one step short.
#
#   .ci/other-languages.sh        (as root, or as yourself with sudo, as .ci/grade.sh)
#
# For each language it builds the one program, makes a folder as a student hands
# in (step01 ... step07, each the program, which picks its step from its name), and
# for each step N prints one line, a pass when both hold:
#  - `.ci/grade.sh stepNN N` passes: every graded check of step N;
#  - for N >= 2, the program as step N-1, graded as step N (`--filter feature_`),
#    fails: step N's checks cannot be passed without step N's feature
#    (the idea of .ci/previous-step.sh).
# Ends with `N passed, N failed`, and exits 1 if one failed. Installs golang-go,
# gcc and make with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ci_name=other-languages
source .ci/lib.sh # ci_fail
# The programs read their step from their name, unless this says otherwise.
unset CONTAINER_STEP

# Install a Debian package for the command $1 when it is missing.
need() {
    command -v "$1" >/dev/null && return
    [ "$(id -u)" -eq 0 ] || ci_fail "$1 is missing: install $2"
    apt-cache show "$2" >/dev/null 2>&1 || apt-get update -qq
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$2" >/dev/null
}

work=$(mktemp -d /tmp/other-languages.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Build language $1's program into $work/$1/container: 0 when built, 1 when this
# language has no implementation in the repository yet.
build() {
    local dir=rootfs/other-languages/$1 out=$work/$1/container
    [ -d "$dir" ] || return 1
    mkdir -p "$work/$1"
    case $1 in
    # GOPROXY=off: the standard library only, nothing to download.
    go) need go golang-go && (cd "$dir" && CGO_ENABLED=0 GOPROXY=off go build -o "$out" .) ;;
    c) need cc gcc && need make make && make -s -C "$dir" OUT="$out" ;;
    esac
    # Hard links, not symlinks: grade.sh resolves symlinks (realpath), and the
    # program would lose the name it reads its step from.
    for n in 1 2 3 4 5 6 7; do ln "$out" "$work/$1/step0$n"; done
}

passed=0 failed=0
for lang in go c; do
    if ! build "$lang"; then
        echo "$lang: skipped (no rootfs/other-languages/$lang/ yet)"
        continue
    fi
    for n in 1 2 3 4 5 6 7; do
        ok=1
        own=$(.ci/grade.sh "$work/$lang/step0$n" "$n") || ok=0
        line="$lang $own"
        if [ "$n" -ge 2 ]; then
            # Exit code 1: it was graded, and failed (2 would be: could not grade).
            rc=0
            short=$(.ci/grade.sh --filter feature_ "$work/$lang/step0$((n - 1))" "$n") || rc=$?
            count=$(sed -n 's/.*: FAIL (\([0-9]* of [0-9]*\) checks).*/\1/p' <<<"$short")
            if [ "$rc" -eq 1 ]; then
                line+=" | as step $((n - 1)): fails $count feature checks, as it must"
            else
                line+=" | as step $((n - 1)): MUST FAIL, but: ${short#*: }"
                ok=0
            fi
        fi
        echo "$line"
        if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
