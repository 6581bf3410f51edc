#!/usr/bin/env bash
# A teacher grades a class of five with one command, and nothing of theirs is left:
#
#   .ci/class.sh        (as root; about two minutes)
#
# alice hands in the course's own programs; bob the C implementation of the contract
# (rootfs/other-languages/c), one binary for all steps; carol's step 1 hangs;
# dave's step 1 works but leaves a daemon behind and writes a file outside its
# root filesystem; erin handed in steps 1 and 2 only, step 2 without its feature,
# and two exercises (step 6's pivot_root, step 2's hostname_flag). `cargo course
# class` grades them twice: the table must say so, aligned whatever its columns, and
# say what grading cleaned up after dave; the two CSVs must be the same, carol must
# cost the time limit and no more, and no process, cgroup or mount of theirs may be
# left. (Dave's file IS written: files are the one thing grading does not contain;
# see the teacher's page.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
class=$(mktemp -d /tmp/class.XXXXXX)
trap 'rm -rf "$class"' EXIT
fail() { echo "class: $*" >&2; exit 1; }

cargo build -q --workspace
mkdir -p "$class"/{alice,bob,carol,dave,erin}
for dir in step0[1-9]-*/; do
    crate=${dir%/}
    ln -s "$repo/target/debug/$crate" "$class/alice/${crate:0:6}"
done
if make -s -C rootfs/other-languages/c OUT="$class/bob/container" 2>/dev/null; then
    for n in 1 2 3 4 5 6 7; do ln -s container "$class/bob/step0$n"; done
fi
printf '#!/bin/sh\nsleep 1000\n' >"$class/carol/step01"
printf '#!/bin/sh\nshift\necho dave >>/tmp/dave-was-here\nsetsid sleep 4242 </dev/null >/dev/null 2>&1 &\nexec "$@"\n' \
    >"$class/dave/step01"
ln -s "$repo/target/debug/step01-exec" "$class/erin/step01"
ln -s "$repo/target/debug/step01-exec" "$class/erin/step02"
ln -s "$repo/target/debug/step06-mount-ns" "$class/erin/step06-pivot_root"
ln -s "$repo/target/debug/step02-uts" "$class/erin/step02-hostname_flag"
chmod +x "$class"/*/step0*

limit=40
for round in 1 2; do
    start=$SECONDS
    cargo course class "$class" --jobs 2 --timeout "$limit" --csv "$class/round$round.csv" \
        >"$class/round$round.txt" 2>/dev/null || true
    took=$((SECONDS - start))
    cat "$class/round$round.txt"
    echo "round $round: ${took}s"
done
diff "$class/round1.csv" "$class/round2.csv" || fail "the same class graded twice got different grades"
row() { grep "^$1,$2," "$class/round1.csv" | cut -d, -f3; }
[ "$(row alice step07)" = pass ] || fail "alice's step 7 should pass"
[ ! -e "$class/bob/container" ] || [ "$(row bob step07)" = pass ] || fail "bob's step 7 (C) should pass"
[ "$(row carol step01)" = "timed out" ] || fail "carol's hang should be 'timed out'"
[ "$(row carol step02)" = missing ] || fail "carol's step 2 should be missing"
[ "$(row dave step01)" = pass ] || fail "dave's step 1 should pass"
[ "$(row erin step02)" = FAIL ] || fail "erin's step 2 (step 1's program) should fail"
[ "$(row erin step06-pivot_root)" = FAIL ] || fail "erin's pivot_root (not done) should fail"
[ "$(row erin step02-hostname_flag)" = FAIL ] || fail "erin's hostname_flag (not done) should fail"
grep -q '^dave .* [1-9][0-9]* process\(es\)\? killed$' "$class/round1.txt" || fail "the table should say that dave's daemons were killed"
# Aligned: in the table's rows (up to its first empty line), every column starts
# where the header's does.
awk 'NR == 1 { for (p = 2; p <= length($0); p++) if (substr($0, p - 1, 1) == " " && substr($0, p, 1) != " ") start[p] = 1; next }
     /^$/ { exit }
     { for (p in start) if (length($0) >= p && substr($0, p - 1, 1) != " ") bad = 1 }
     END { exit bad }' "$class/round1.txt" || fail "the table's columns are not aligned"
! pgrep -f 'sleep (4242|1000)' >/dev/null || fail "a student's process outlived grading"
! find /sys/fs/cgroup -maxdepth 2 -name 'course-class-*' | grep -q . || fail "a grading cgroup was left"
! grep -q "$class" /proc/self/mountinfo || fail "a mount was left"
rm -f /tmp/dave-was-here
echo "class: table and CSV, same grades twice, hang bounded, nothing left behind"
