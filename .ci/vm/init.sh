#!/bin/sh
# PID 1 of the test VM started by cgroup-layouts.sh (busybox sh, no systemd).
#
# The kernel command line says which cgroup layout to build: layout=v2 or
# layout=v1. We mount it ourselves, run step07-cgroups and `course doctor`
# against it (on v2, also inside a simulated privileged container), and step07
# inside a contained grading job (`course contain`), print one
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
# Empty the output first: the background job truncates it only once it starts,
# and the "ready" of check 4 must not be taken for this one's.
: >/tmp/out
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

# 7. The doctor says that all seven steps work here, and leaves nothing behind:
#    no cgroup of its own, the hostname as it was.
name_before=$(hostname)
course doctor -v >/tmp/doctor 2>&1 && status=0 || status=$?
sed 's/^/    doctor: /' /tmp/doctor
oks=$(grep -c '^step0[1-7]-[a-z-]* *ok$' /tmp/doctor)
left=$(ls -d "$hierarchy"/course-doctor-* 2>/dev/null)
expect "doctor" "exit 0, 7 steps ok, nothing left, hostname $name_before" \
    "exit $status, $oks steps ok, ${left:-nothing} left, hostname $(hostname)"

# 8. v2 only: a privileged container, simulated. Docker Desktop, dev containers and
#    Codespaces give a container a cgroup namespace: its /sys/fs/cgroup is the
#    container's own cgroup, which holds the container's processes, so v2's "no
#    internal processes" rule stands in step 7's way. The doctor must say so and
#    name the fix; step 7 must fail in one line that names it; the doctor's fix,
#    run as printed, must make both work.
if [ "$layout" = v2 ]; then
    cat >/tmp/container.sh <<'CONTAINER'
# In the container: its own cgroup namespace (root: /box) and mount namespace.
# A cgroup2 mounted now shows the namespace's root, /box, as its top, as Docker's
# does. (The old mount must go first: the same tree on the same place is EBUSY.)
umount /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
cat /proc/self/cgroup >/tmp/c-cgroup
course doctor >/tmp/c-doctor1 2>&1; echo $? >/tmp/c-doctor1.exit
step07-cgroups run --rootfs /rootfs /bin/true >/tmp/c-step07 2>/tmp/c-step07.err; echo $? >/tmp/c-step07.exit
# A step 7 that handed pids down here made this cgroup "domain threaded", which
# the fix cannot undo: undo it (nothing to do when step 7 left it alone).
grep -qw pids /sys/fs/cgroup/cgroup.subtree_control && echo -pids >/sys/fs/cgroup/cgroup.subtree_control
# The doctor's fix, exactly as it printed it.
fix=$(sed -n 's/^step07-cgroups .*; fix: move those processes into a leaf cgroup: //p' /tmp/c-doctor1)
echo "$fix" >/tmp/c-fix
sh -c "$fix"; echo $? >/tmp/c-fix.exit
course doctor >/tmp/c-doctor2 2>&1; echo $? >/tmp/c-doctor2.exit
forty='i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done'
step07-cgroups run --rootfs /rootfs /bin/sh -c "$forty" 2>/tmp/err | tail -n 1 >/tmp/c-sleeps
CONTAINER
    echo +pids >/sys/fs/cgroup/cgroup.subtree_control     # as on any v2 host
    mkdir /sys/fs/cgroup/box
    # (The full path: busybox sh would run its own unshare applet, which lacks --cgroup.)
    sh -c 'echo $$ >/sys/fs/cgroup/box/cgroup.procs; exec /usr/bin/unshare --cgroup --mount sh /tmp/container.sh'
    sed 's/^/    container doctor: /' /tmp/c-doctor1
    expect "container: its own cgroup namespace" "0::/" "$(cat /tmp/c-cgroup)"
    oks=$(grep -c '^step0[1-6]-[a-z-]* *ok$' /tmp/c-doctor1)
    seven=$(grep -c '^step07-cgroups *no — .*holds [0-9]* processes.*; fix: move those processes into a leaf cgroup: mkdir -p /sys/fs/cgroup/init && xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs$' /tmp/c-doctor1)
    expect "container: doctor" "exit 1, steps 1-6 ok: 6, step 7 no with the leaf cgroup fix: 1" \
        "exit $(cat /tmp/c-doctor1.exit), steps 1-6 ok: $oks, step 7 no with the leaf cgroup fix: $seven"
    # Step 7 fails at once, in one line that names the fix (nothing moved for us).
    cp /tmp/c-step07.err /tmp/err
    sed 's/^/    container step 7: /' /tmp/c-step07.err
    lines=$(grep -c . /tmp/c-step07.err)
    names=$(grep -cF 'mkdir -p /sys/fs/cgroup/init && xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs' /tmp/c-step07.err)
    expect "container: step 7 fails in one line naming the fix" "exit 125, 1 line, names it: 1" \
        "exit $(cat /tmp/c-step07.exit), $lines line, names it: $names"
    sed 's/^/    container doctor after the fix: /' /tmp/c-doctor2
    oks=$(grep -c '^step0[1-7]-[a-z-]* *ok$' /tmp/c-doctor2)
    expect "container: the doctor's fix works" "fix exit 0, doctor exit 0, 7 steps ok, 18 sleeps" \
        "fix exit $(cat /tmp/c-fix.exit), doctor exit $(cat /tmp/c-doctor2.exit), $oks steps ok, $(cat /tmp/c-sleeps) sleeps"
    left=$(ls -d /sys/fs/cgroup/box/container-* /sys/fs/cgroup/box/course-doctor-* 2>/dev/null)
    rmdir /sys/fs/cgroup/box/init /sys/fs/cgroup/box 2>/dev/null
    expect "container: nothing left" "none" "${left:-none}"
fi

# 9. A grading job as `cargo course class` runs one (`course contain`): its own
#    PID, mount, UTS and cgroup namespaces and a cgroup of its own. Step 7 inside
#    must hold its limit (on v2 the job's cgroup must hold no process of its own),
#    and nothing may be left: no process, no cgroup. Its report says the same: no
#    time up, no process it had to kill (step 7's container took its sleeps with
#    it), no cgroup left below the job's.
forty='i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done'
course contain --seconds 60 --report /tmp/j-report.json -- \
    step07-cgroups run --rootfs /rootfs /bin/sh -c "$forty" 2>/tmp/err | tail -n 1 >/tmp/j-sleeps
left=$(ls -d "$hierarchy"/course-class-* "$hierarchy"/container-* 2>/dev/null)
sleeping=$(pidof sleep | wc -w)
expect "a contained grading job: step 7 inside" "18 sleeps, 0 processes left, none left" \
    "$(cat /tmp/j-sleeps) sleeps, $sleeping processes left, ${left:-none} left"
expect "a contained grading job: its report" \
    '{"timed_out":false,"processes_killed":0,"cgroups_left":[]}' "$(cat /tmp/j-report.json)"

echo "cgroup-layouts: $name: $passed passed, $failed failed"
# Power off now. (Should that fail, init ends, the kernel panics, and panic=-1
# with qemu's -no-reboot stops the VM all the same.)
poweroff -f
