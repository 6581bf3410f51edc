#!/usr/bin/env bash
# Does step07-cgroups work on a pure cgroup v2 kernel, and on a pure cgroup v1 one?
#
# A machine has one cgroup layout (this one is "hybrid": v1 controllers plus an
# empty cgroup2), so `cargo test` sees only that one. Here we boot a real Debian
# kernel twice under QEMU (TCG, no KVM needed), each time with an initramfs whose
# /init (rootfs/vm/init.sh) mounts one layout and tries the container in it:
#
#   v2: kernel command line cgroup_no_v1=all; init mounts cgroup2 on /sys/fs/cgroup
#   v1: init mounts only a v1 pids hierarchy on /sys/fs/cgroup/pids
#
# Run it from the repository root, as root:  bash rootfs/vm/cgroup-layouts.sh
# It prints the VM's output, one summary line per layout, and exits 0 only when
# both layouts pass every check. The kernel is downloaded once into
# rootfs/cache/vm/; the work files go to target/vm/.
set -euo pipefail

cd "$(dirname "$0")/../.."                # the repository root
cache=rootfs/cache/vm                     # the kernel, kept between runs
work=target/vm                            # the binary, the initramfs, the logs
mkdir -p "$cache" "$work"
[[ $(id -u) == 0 ]] || { echo "cgroup-layouts: run as root (apt-get, mknod)" >&2; exit 1; }

now() { date +%s%N; }                      # nanoseconds, for timings
since() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }

# 1. Tools: qemu and cpio, installed on first use. A fresh machine may have no
#    package lists yet, hence the update.
apt_update_once() { [[ -n ${apt_updated:-} ]] || { apt-get update -q; apt_updated=1; }; }
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null; then
    apt-get install -y -q qemu-system-x86 cpio || { apt_update_once; apt-get install -y -q qemu-system-x86 cpio; }
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

# 3. step07, linked statically: the initramfs has no C library for it to load.
t=$(now)
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release -p step07-cgroups \
    --target x86_64-unknown-linux-gnu --target-dir "$work"
binary=$work/x86_64-unknown-linux-gnu/release/step07-cgroups
ldd "$binary" 2>&1 | grep -qE 'statically linked|not a dynamic executable' \
    || { echo "cgroup-layouts: $binary is not static" >&2; exit 1; }
echo "cgroup-layouts: built $binary in $(since "$t")"

# 4. The initramfs: the busybox tree as the VM's / (with step07 and our init),
#    and a second copy at /rootfs for the container. cpio keeps device nodes.
busybox_tree=$(cargo run -q -p rootfs -- --path)
initramfs=$work/initramfs
rm -rf "$initramfs"
cp -a "$busybox_tree" "$initramfs"
cp -a "$busybox_tree" "$initramfs/rootfs"
cp "$binary" "$initramfs/bin/step07-cgroups"
cp rootfs/vm/init.sh "$initramfs/init"
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
