#!/bin/sh
# PID 1 of the test VM started by cgroup-layouts.sh (busybox sh, no systemd).
#
# The kernel command line says which cgroup layout to build: layout=v2 or
# layout=v1. We mount it ourselves, run step07-cgroups against it, print one
# PASS or FAIL line per check and a summary line that the host looks for, and
# power off.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

layout=$(sed -n 's/.* layout=\(v[12]\).*/\1/p' /proc/cmdline)
case $layout in
v2) # cgroup_no_v1=all is on the command line: every controller is in cgroup v2,
    # and only there. One tree, mounted where systemd would mount it.
    mount -t cgroup2 none /sys/fs/cgroup
    hierarchy=/sys/fs/cgroup
    name="v2 (cgroup2 only)"
    want="cgroup2 on /sys/fs/cgroup" ;;
v1) # The classic v1 layout: a tmpfs holding one directory per hierarchy. We need
    # only the pids hierarchy; no cgroup2 is mounted anywhere.
    mount -t tmpfs cgroup /sys/fs/cgroup
    mkdir /sys/fs/cgroup/pids
    mount -t cgroup -o pids none /sys/fs/cgroup/pids
    hierarchy=/sys/fs/cgroup/pids
    name="v1 (cgroup v1 only)"
    want="cgroup on /sys/fs/cgroup/pids" ;;
*)  echo "init: no layout=v1 or layout=v2 on the kernel command line"; poweroff -f ;;
esac

passed=0 failed=0
# expect NAME WANT GOT: PASS when GOT is WANT, else FAIL with what step07 said.
expect() {
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "PASS $1: $3"
    else
        failed=$((failed + 1)); echo "FAIL $1: wanted '$2', got '$3'"
        sed 's/^/    stderr: /' /tmp/err 2>/dev/null | tail -n 5
    fi
}

# wait_for WORD FILE: until WORD shows in FILE, for at most 60 s.
wait_for() {
    i=0
    until grep -q "$1" "$2"; do
        i=$((i + 1)); [ $i -le 600 ] || return 1; usleep 100000
    done
}

# The one container-* cgroup that step07 made (or nothing).
container_cgroup() { ls -d "$hierarchy"/container-* 2>/dev/null; }

# The mounts we see, e.g. "cgroup on /sys/fs/cgroup/pids (rw,...,pids)".
cgroup_mounts() {
    awk '{ split($0, half, " - "); split(half[2], fs, " ")
           if (fs[1] ~ /^cgroup2?$/) print fs[1] " on " $5 " (" fs[3] ")" }' /proc/self/mountinfo
}

echo "=== layout $name; cgroup mounts seen in /proc/self/mountinfo:"
cgroup_mounts | sed 's/^/    /'
[ "$layout" = v2 ] && echo "    controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

# 1. The layout is the one we meant, and pure: for v2, the kernel even refuses a
#    v1 pids hierarchy (it logs "cgroup: Disabled controller 'pids'").
got=$(cgroup_mounts | sed 's/ (.*//')
if [ "$layout" = v2 ]; then
    mkdir -p /mnt/v1
    if mount -t cgroup -o pids none /mnt/v1 2>/dev/null; then
        umount /mnt/v1; got="$got, and a v1 pids mount works"
    fi
fi
expect "layout" "$want" "$got"

# 2-3. The limit holds: 20 = PID 1 (step07's child) + sh + 18 sleeps; the 19th
#      fork fails and busybox sh stops. With --pids-max 7: 5 sleeps.
forty='i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done'
got=$(step07-cgroups run --rootfs /rootfs /bin/sh -c "$forty" 2>/tmp/err | tail -n 1)
expect "default limit (20)" "18 sleeps" "$got sleeps"
got=$(step07-cgroups run --pids-max 7 --rootfs /rootfs /bin/sh -c "$forty" 2>/tmp/err | tail -n 1)
expect "--pids-max 7" "5 sleeps" "$got sleeps"

# 4. The kernel reads the limit back from the container's own cgroup. The
#    container waits on a fifo for its input: it lives until we close our end.
mkfifo /tmp/stdin
step07-cgroups run --rootfs /rootfs /bin/sh -c 'echo ready; read x; echo bye' \
    </tmp/stdin >/tmp/out 2>/tmp/err &
pid=$!
exec 3>/tmp/stdin
wait_for ready /tmp/out
cgroup=$(container_cgroup)
got="pids.max $(cat "$cgroup/pids.max"), pids.current $(cat "$cgroup/pids.current")"
exec 3>&-
wait $pid
expect "pids.max in $cgroup" "pids.max 20, pids.current 2" "$got"

# 5. A fork bomb fills the cgroup, the kernel refuses further forks (counted in
#    pids.events), we can still start processes, and the container still ends.
timeout 60 step07-cgroups run --rootfs /rootfs \
    /bin/sh -c 'bomb() { bomb | bomb & }; (bomb) & echo ready; read x; echo bye' \
    </tmp/stdin >/tmp/out 2>/tmp/err &
pid=$!
exec 3>/tmp/stdin
wait_for ready /tmp/out
cgroup=$(container_cgroup)
refused=0 i=0
while [ "$refused" = 0 ] && [ $i -lt 600 ]; do
    refused=$(sed -n 's/^max //p' "$cgroup/pids.events"); i=$((i + 1)); usleep 100000
done
current=$(cat "$cgroup/pids.current")
/bin/true && host=yes || host=no
exec 3>&-
wait $pid && ended=yes || ended="no (exit $?)"
echo "    fork bomb: pids.current $current, pids.events: max $refused"
[ "$refused" -gt 0 ] && [ "$current" -le 20 ] && held=yes || held=no
expect "fork bomb" "held: yes, host forks: yes, ended: yes" \
    "held: $held, host forks: $host, ended: $ended"

# 6. Every run removed its cgroup.
left=$(container_cgroup)
expect "no cgroup left" "none" "${left:-none}"

echo "cgroup-layouts: $name: $passed passed, $failed failed"
# Power off now. (Should that fail, init ends, the kernel panics, and panic=-1
# with qemu's -no-reboot stops the VM all the same.)
poweroff -f
