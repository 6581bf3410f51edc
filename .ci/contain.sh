#!/usr/bin/env bash
# Run one grading contained: `cargo course class` runs each student's step through it.
#
#   .ci/contain.sh SECONDS COMMAND [ARGS...]      (as root)
#
# COMMAND runs in new PID, mount, UTS and cgroup namespaces, inside a cgroup of its
# own (course-class-<pid>) that is, seen from inside, the root of the cgroup tree.
# When COMMAND ends, or SECONDS are up, the PID namespace's first process dies and
# the kernel kills every other process in it (daemons too); the mounts go with the
# mount namespace; and the job's cgroup is removed with every cgroup the programs
# made below it. Parallel gradings thus never see each other's processes, mounts or
# cgroups (two programs may both name theirs container-5). Exit status: COMMAND's,
# or 124 when the time was up.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 4p "$0" >&2; exit 2; }
limit=$1
shift
job=course-class-$$

# The cgroup hierarchies a container program may use: cgroup2 where it has the pids
# controller (pure v2), and the v1 pids hierarchy (v1 and hybrid).
v2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
grep -qw pids "$v2/cgroup.controllers" 2>/dev/null || v2=""
v1=$(findmnt -n -t cgroup -o TARGET,OPTIONS | awk '$2 ~ /(^|,)pids(,|$)/ { print $1; exit }')
homes=()
if [ -n "$v2" ]; then
    # The root hands pids down (it is exempt from v2's "no internal processes").
    echo +pids >"$v2/cgroup.subtree_control"
    homes+=("$v2/$job")
fi
[ -z "$v1" ] || homes+=("$v1/$job")
for home in "${homes[@]}"; do mkdir -p "$home"; done

remove_tree() { # the job's cgroups and everything below them, deepest first
    local home tries
    for home in "${homes[@]}"; do
        # The killed processes leave their cgroups a moment after they die.
        for tries in 1 2 3 4 5 6 7 8 9 10; do
            find "$home" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ -d "$home" ] || break
            sleep 0.2
        done
    done
}
trap remove_tree EXIT

# Inside, as the new PID namespace's first process: fresh /proc; join the job's
# cgroups (only the namespace's processes go there, never this script, so that the
# job's cgroup holds none of its own); then a cgroup namespace rooted there, with
# fresh views of the hierarchies. On v2 the processes move on to a leaf, `init`, as
# the "no internal processes" rule wants, so that a program can enable +pids in the
# job's cgroup for the cgroups it makes. ("1" is this process, in its namespace.)
stage1='
mount -t proc proc /proc
for home in $HOMES; do echo 1 >"$home/cgroup.procs"; done
exec unshare --cgroup bash -c "$STAGE2" contained "$@"'
stage2='
if [ -n "$V2" ]; then
    umount -l "$V2" # the same hierarchy cannot be mounted on itself
    mount -t cgroup2 cgroup2 "$V2"
    mkdir "$V2/init"
    echo 1 >"$V2/init/cgroup.procs"
fi
if [ -n "$V1" ]; then
    umount -l "$V1"
    mount -t cgroup -o pids cgroup "$V1"
fi
exec "$@"'
status=0
HOMES="${homes[*]}" STAGE2=$stage2 V2=$v2 V1=$v1 timeout -s KILL "$limit" \
    unshare --pid --fork --kill-child --mount --uts --propagation private \
    bash -c "$stage1" contained "$@" || status=$?
# timeout(1) says 137 when it had to kill: report it as time up.
[ "$status" -ne 137 ] || status=124
exit "$status"
