#!/usr/bin/env bash
# Does step07-cgroups work on a pure cgroup v2 kernel and on a pure v1 one, and does
# `cargo course doctor` tell the truth there and in a privileged container on v2? Does
# the locked-down program (lockdown) hold its limit there, as root and rootless (with
# a delegated cgroup and without), and does the escape suite (`course escape`) find
# step 7's escapes and none out of lockdown? A
# machine has one layout (this one is hybrid), so `cargo test` sees only that one:
# here a Debian kernel boots twice under QEMU (TCG, no KVM needed) with an initramfs
# whose /init (.ci/vm/init.sh) mounts one layout and runs the checks in it:
#   v2: cgroup_no_v1=all, cgroup2 on /sys/fs/cgroup; then a simulated privileged
#       container (a cgroup namespace whose root cgroup holds processes, as Docker
#       Desktop, dev containers, Codespaces give);
#   v1: only a v1 pids hierarchy on /sys/fs/cgroup/pids.
#
#   bash .ci/vm/cgroup-layouts.sh     # as root, a few minutes
#
# It prints the VM's output and a summary line per layout; exit 0 only if both pass
# every check. The kernel is kept in rootfs/cache/vm/, work files go to target/vm/.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=rootfs/cache/vm work=target/vm
mkdir -p "$cache" "$work"
[[ $(id -u) == 0 ]] || { echo "cgroup-layouts: run as root (apt-get, mknod)" >&2; exit 1; }
owner=$(stat -c %u:%g .) # run through sudo in someone's clone: what we make is theirs
# (target too: step 7's exercise checks and a mistake are built there, see 3b.)
[[ ${owner%%:*} == 0 ]] || trap 'chown -hR "$owner" "$cache" target' EXIT
now() { date +%s%N; }
since() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }
aptget() { command apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
apt_update_once() { [[ -n ${apt_updated:-} ]] || { aptget update; apt_updated=1; }; }

# 1. qemu and cpio, installed on first use (a fresh machine may have no package lists).
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null; then
    aptget install -y qemu-system-x86 cpio || { apt_update_once; aptget install -y qemu-system-x86 cpio; }
fi

# 2. A kernel: Debian's small "cloud" flavour (serial console, virtio, both cgroup
#    versions built in); only its vmlinuz is kept.
kernel=$(ls "$cache"/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $kernel ]]; then
    t=$(now)
    apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || apt_update_once
    # The meta package depends on the current kernel (linux-image-6.1.0-56-cloud-amd64);
    # its unsigned build is the same kernel without the Secure Boot signature.
    package=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: \(linux-image-.*\)/\1/p' | head -n 1)
    apt-cache show "$package-unsigned" >/dev/null 2>&1 && package=$package-unsigned
    (cd "$cache" && aptget download "$package") # (a warning about "unsandboxed" is harmless)
    deb=$(ls "$cache/$package"_*.deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache" --strip-components=2 --wildcards './boot/vmlinuz-*'
    rm -f "$deb"
    kernel=$(ls "$cache"/vmlinuz-* | sort -V | tail -n 1)
    echo "cgroup-layouts: downloaded $kernel in $(since "$t")"
fi

# 3. step07, lockdown and the course command (its doctor, `course contain`, `course
#    escape`), linked statically: the initramfs has no C library (and the escape
#    suite's probe, the course command itself, goes into the containers alone).
t=$(now)
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release -p step07-cgroups -p lockdown \
    -p course --target x86_64-unknown-linux-gnu --target-dir "$work"
release=$work/x86_64-unknown-linux-gnu/release
for binary in "$release/step07-cgroups" "$release/lockdown" "$release/course"; do
    ldd "$binary" 2>&1 | grep -qE 'statically linked|not a dynamic executable' \
        || { echo "cgroup-layouts: $binary is not static" >&2; exit 1; }
done
echo "cgroup-layouts: built step07-cgroups, lockdown and course in $(since "$t")"

# 3b. The checks of step 7's cgroup exercises (cgroup_namespace, cpu_max, memory_max),
#     whose cgroup v2 branches this host cannot run: their test binary, and each
#     exercise's reference solution, built in a scratch copy of the workspace with its
#     patch applied (a target directory of its own: the package has step 7's name).
t=$(now)
exercises_test=$(cargo test -p step07-cgroups --test exercises --no-run 2>&1 \
    | sed -n 's/.*Executable tests\/exercises.rs (\(.*\))$/\1/p')
[[ -x $exercises_test ]] || { echo "cgroup-layouts: cannot build step 7's exercise checks" >&2; exit 1; }
cgroup_exercises="cgroup_namespace cpu_max memory_max"
solutions=$work/solutions
rm -rf "$solutions/src" && mkdir -p "$solutions/src"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$solutions/src" # as checked out
git -C "$solutions/src" init -q # its own: `git apply` there patches it, not this checkout
for exercise in $cgroup_exercises; do
    git -C "$solutions/src" apply "$PWD/step07-cgroups/exercises/$exercise.patch"
    cargo build -q -p step07-cgroups --manifest-path "$solutions/src/Cargo.toml" \
        --target-dir "$solutions/target"
    cp "$solutions/target/debug/step07-cgroups" "$solutions/step07-$exercise"
    cp step07-cgroups/src/main.rs "$solutions/src/step07-cgroups/src/main.rs" # undone
done
# And a mistake the memory_max check must catch on v2 too, swap left unlimited, made as
# the catalogue's proofs make it (--keep leaves its program in target/debug).
cargo course dev proofs --only mistakes --filter "memory limited but not swap" --keep >/dev/null
swap_mistake=${CARGO_TARGET_DIR:-target}/debug/proof-step07-cgroups-swap-not-limited
echo "cgroup-layouts: built step 7's exercise checks, ${cgroup_exercises// /, }'s solutions and a mistake in $(since "$t")"

# 4. The initramfs: the busybox tree as the VM's / (with step07, lockdown, course, our
#    init, and util-linux's unshare and nsenter, which the doctor looks for), and a
#    copy at /rootfs for the containers. cpio keeps device nodes. (The escape suite
#    builds the course's own tree there on first use, from the VM's /bin/busybox.)
busybox_tree=$(cargo run -q -p rootfs -- --path)
initramfs=$work/initramfs
rm -rf "$initramfs"
cp -a "$busybox_tree" "$initramfs"
cp -a "$busybox_tree" "$initramfs/rootfs"
cp "$release/step07-cgroups" "$release/lockdown" "$release/course" "$initramfs/bin/"
# copy_program PATH [AS]: a dynamically linked program (at AS in the VM; PATH
# unless given), with the libraries ldd names.
copy_program() {
    local to=$initramfs${2:-$1}
    rm -f "$to"                            # busybox's applet link of that name
    cp "$1" "$to"
    ldd "$1" | grep -o '/[^ ]*' | while read -r library; do
        mkdir -p "$initramfs$(dirname "$library")"
        cp -L "$library" "$initramfs$library"
    done
}
# The exercise checks find the course's tree where cargo built them: $PWD/rootfs/fs.
mkdir -p "$initramfs$PWD/rootfs"
cp -a "$busybox_tree" "$initramfs$PWD/rootfs/fs"
copy_program "$exercises_test" /bin/step07-exercises
for exercise in $cgroup_exercises; do
    copy_program "$solutions/step07-$exercise" "/bin/step07-$exercise"
done
copy_program "$swap_mistake" /bin/step07-swap-not-limited
copy_program "$(command -v unshare)"
copy_program "$(command -v nsenter)"
# util-linux's setpriv runs lockdown as a plain user: busybox's has no --reuid.
copy_program "$(command -v setpriv)" /usr/bin/setpriv
# The escape suite copies its scratch root with `cp -a -x` (busybox's cp has no -x),
# and asks ldd which libraries its probe needs (glibc's ldd, a script that busybox
# sh runs as well as bash; the loader it runs came with unshare).
copy_program "$(command -v cp)" /bin/cp
sed '1s|^#!.*|#!/bin/sh|' "$(command -v ldd)" > "$initramfs/usr/bin/ldd"
chmod 755 "$initramfs/usr/bin/ldd"
cp .ci/vm/init.sh "$initramfs/init"
chmod 755 "$initramfs/init"
mkdir -p "$initramfs/mnt"
mknod "$initramfs/dev/console" c 5 1 # where the kernel sends init's output
(cd "$initramfs" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initramfs.cpio.gz"

# 5. Boot once per layout: the serial console shown here and kept in a log, where
#    init prints "cgroup-layouts: ..." once it has run every check. panic=-1 and
#    -no-reboot: if anything goes wrong in the VM, QEMU exits.
boot() { # boot LAYOUT EXTRA-KERNEL-ARGS
    local log=$work/$1.log t=$(now) status=0 line
    echo "--- booting $(basename "$kernel") with layout $1"
    timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 2 -nodefaults -display none \
        -no-reboot -serial stdio -kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1 layout=$1 $2" </dev/null \
        | sed -u 's/\r$//' | tee "$log" || status=$?
    line=$(grep '^cgroup-layouts: ' "$log" || true)
    [[ -n $line ]] || line="cgroup-layouts: $1: the VM did not report (qemu exit $status, see $log)"
    results+=("$line (boot and checks: $(since "$t"))")
}
results=()
boot v2 "cgroup_no_v1=all"
boot v1 "systemd.unified_cgroup_hierarchy=0"

echo
printf '%s\n' "${results[@]}"
# Pass only when each layout reported no failure.
failures=$(printf '%s\n' "${results[@]}" | grep -cv ' [1-9][0-9]* passed, 0 failed' || true)
exit $(( failures > 0 ))
