#!/usr/bin/env bash
# Does step07-cgroups work on a pure cgroup v2 kernel, and on a pure cgroup v1 one?
# And does `cargo course doctor` tell the truth there, and in a privileged
# container on cgroup v2?
#
# A machine has one cgroup layout (this one is "hybrid": v1 controllers plus an
# empty cgroup2), so `cargo test` sees only that one. Here we boot a real Debian
# kernel twice under QEMU (TCG, no KVM needed), each time with an initramfs whose
# /init (.ci/vm/init.sh) mounts one layout and tries the container and the doctor
# in it:
#
#   v2: kernel command line cgroup_no_v1=all; init mounts cgroup2 on /sys/fs/cgroup;
#       then a simulated privileged container: a cgroup namespace whose root
#       cgroup holds processes (as Docker Desktop, dev containers, Codespaces)
#   v1: init mounts only a v1 pids hierarchy on /sys/fs/cgroup/pids
#
# Run it from the repository root, as root:  bash .ci/vm/cgroup-layouts.sh
# It prints the VM's output, one summary line per layout, and exits 0 only when
# both layouts pass every check. The kernel is downloaded once into
# rootfs/cache/vm/; the work files go to target/vm/ (both handed to the clone's
# owner at the end, if that is not root).
set -euo pipefail

cd "$(dirname "$0")/../.."                # the repository root
cache=rootfs/cache/vm                     # the kernel, kept between runs
work=target/vm                            # the binary, the initramfs, the logs
mkdir -p "$cache" "$work"
[[ $(id -u) == 0 ]] || { echo "cgroup-layouts: run as root (apt-get, mknod)" >&2; exit 1; }
# Run through sudo in someone's clone: what we make there becomes theirs again.
owner=$(stat -c %u:%g .)
[[ ${owner%%:*} == 0 ]] || trap 'chown -hR "$owner" "$cache" "$work"' EXIT

now() { date +%s%N; }                      # nanoseconds, for timings
since() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }

# 1. Tools: qemu and cpio, installed on first use. A fresh machine may have no
#    package lists yet, hence the update.
apt_update_once() { [[ -n ${apt_updated:-} ]] || { apt-get update -q -o DPkg::Lock::Timeout=600; apt_updated=1; }; }
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null; then
    apt-get install -y -q -o DPkg::Lock::Timeout=600 qemu-system-x86 cpio || { apt_update_once; apt-get install -y -q -o DPkg::Lock::Timeout=600 qemu-system-x86 cpio; }
fi

# 2. A kernel: Debian's "cloud" flavour, small, with serial console, virtio and
#    both cgroup versions built in. We keep only its vmlinuz from the package.
kernel=$(ls "$cache"/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $kernel ]]; then
    t=$(now)
    apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || apt_update_once
    # The meta package depends on the current kernel, e.g. linux-image-6.1.0-56-cloud-amd64.
    package=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: \(linux-image-.*\)/\1/p' | head -n 1)
    # The unsigned build is the same kernel without the Secure Boot signature.
    apt-cache show "$package-unsigned" >/dev/null 2>&1 && package=$package-unsigned
    # (apt may warn that it downloads "unsandboxed" as root: harmless.)
    (cd "$cache" && apt-get download -q "$package")
    deb=$(ls "$cache/$package"_*.deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache" --strip-components=2 --wildcards './boot/vmlinuz-*'
    rm -f "$deb"
    kernel=$(ls "$cache"/vmlinuz-* | sort -V | tail -n 1)
    echo "cgroup-layouts: downloaded $kernel in $(since "$t")"
fi

# 3. step07 and the course command (for its doctor, and `course contain`), linked
#    statically: the initramfs has no C library for them to load.
t=$(now)
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release -p step07-cgroups -p course \
    --target x86_64-unknown-linux-gnu --target-dir "$work"
release=$work/x86_64-unknown-linux-gnu/release
for binary in "$release/step07-cgroups" "$release/course"; do
    ldd "$binary" 2>&1 | grep -qE 'statically linked|not a dynamic executable' \
        || { echo "cgroup-layouts: $binary is not static" >&2; exit 1; }
done
echo "cgroup-layouts: built step07-cgroups and course in $(since "$t")"

# 4. The initramfs: the busybox tree as the VM's / (with step07, course, whose
#    hidden `course contain` runs a grading job as `cargo course class` does, our
#    init, util-linux's unshare and nsenter, which the doctor looks for), and a
#    second copy at /rootfs for the container. cpio keeps device nodes.
busybox_tree=$(cargo run -q -p rootfs -- --path)
initramfs=$work/initramfs
rm -rf "$initramfs"
cp -a "$busybox_tree" "$initramfs"
cp -a "$busybox_tree" "$initramfs/rootfs"
cp "$release/step07-cgroups" "$release/course" "$initramfs/bin/"
# copy_program PATH: a dynamically linked program with the libraries ldd names.
copy_program() {
    rm -f "$initramfs$1"                   # busybox's applet link of that name
    cp "$1" "$initramfs$1"
    ldd "$1" | grep -o '/[^ ]*' | while read -r library; do
        mkdir -p "$initramfs$(dirname "$library")"
        cp -L "$library" "$initramfs$library"
    done
}
copy_program "$(command -v unshare)"
copy_program "$(command -v nsenter)"
cp .ci/vm/init.sh "$initramfs/init"
chmod 755 "$initramfs/init"
mkdir -p "$initramfs/mnt"
mknod "$initramfs/dev/console" c 5 1      # where the kernel sends init's output
(cd "$initramfs" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initramfs.cpio.gz"

# 5. Boot once per layout. The serial port is the VM's console, shown here and
#    kept in a log; init prints "cgroup-layouts: ..." once it has run every check.
#    panic=-1 and -no-reboot: if anything goes wrong in the VM, QEMU exits.
boot() {  # boot LAYOUT EXTRA-KERNEL-ARGS
    local log=$work/$1.log t status=0
    t=$(now)
    echo "--- booting $(basename "$kernel") with layout $1"
    timeout 180 qemu-system-x86_64 -accel tcg -m 512 -smp 2 -nodefaults -display none \
        -no-reboot -serial stdio -kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1 layout=$1 $2" </dev/null \
        | sed -u 's/\r$//' | tee "$log" || status=$?
    local line
    line=$(grep '^cgroup-layouts: ' "$log" || true)
    [[ -n $line ]] || line="cgroup-layouts: $1: the VM did not report (qemu exit $status, see $log)"
    results+=("$line (boot and checks: $(since "$t"))")
}
results=()
boot v2 "cgroup_no_v1=all"
boot v1 "systemd.unified_cgroup_hierarchy=0"

echo
printf '%s\n' "${results[@]}"
# Pass only when each layout reported, and reported no failure.
failures=$(printf '%s\n' "${results[@]}" | grep -cv ' [1-9][0-9]* passed, 0 failed' || true)
exit $(( failures > 0 ))
