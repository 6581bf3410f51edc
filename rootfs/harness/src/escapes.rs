//! The escapes that busybox's shell can try from inside a container, one script
//! each: `cargo course escape` runs them all, and step 7's lock-down exercises
//! the ones their part stops. Each script ends by printing its verdict (`held
//! WHY`, `escaped WHAT`, `skipped WHY`: [`PRELUDE`]), with what the kernel said,
//! and undoes what it did on the way out (a trap on EXIT): what it mounted is
//! unmounted, the nodes it made are removed, what it wrote was the value it read.
//! Its scratch names are its own (mktemp): containers may share one root
//! filesystem. Values from the host come in as shell variables.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use nix::sys::stat::{SFlag, major, makedev, minor, stat};
use nix::unistd::getpid;

/// What the scripts are told about the host, to judge what they reach.
pub struct Host {
    /// This process's PID, as the host numbers it.
    pub pid: i32,
    /// The host's network namespace, as /proc/self/ns/net names it: `net:[4026531840]`.
    pub net_namespace: String,
    /// The block device the host's `/` is on, if it is on one.
    pub root: Option<RootDevice>,
}

/// The device of the host's root filesystem, e.g. 254:0, ext4, mounted read-write.
pub struct RootDevice {
    pub major: u64,
    pub minor: u64,
    pub fstype: String,
    pub read_only: bool,
    /// Why even the host, root outside any container, cannot read the device, if
    /// it cannot (a security module, a sandbox): then no container's refusal says
    /// anything.
    pub host_cannot_read: Option<String>,
}

impl Host {
    pub fn look() -> Result<Host, String> {
        let net_namespace = fs::read_link("/proc/self/ns/net")
            .map_err(|err| format!("readlink /proc/self/ns/net: {err}"))?;
        Ok(Host {
            pid: getpid().as_raw(),
            net_namespace: net_namespace.display().to_string(),
            root: root_device()?,
        })
    }
}

/// The device `/` is on (st_dev), with its type and whether its superblock is
/// read-only, from mountinfo; none when it is no block device (major 0: overlay,
/// tmpfs, btrfs).
fn root_device() -> Result<Option<RootDevice>, String> {
    let root = stat("/").map_err(|err| format!("stat(/): {}", err.desc()))?;
    let (major, minor) = (major(root.st_dev), minor(root.st_dev));
    let mounts = rootfs::mountinfo::read().map_err(|err| err.to_string())?;
    let Some(mount) = mounts.iter().rev().find(|mount| mount.mount_point == Path::new("/")) else {
        return Err("/proc/self/mountinfo lists no mount on /".into());
    };
    if major == 0 {
        return Ok(None);
    }
    let read_only = mount.super_options.iter().any(|option| option == "ro");
    let host_cannot_read = first_sector(major, minor).err();
    Ok(Some(RootDevice { major, minor, fstype: mount.fstype.clone(), read_only, host_cannot_read }))
}

/// Read the first sector of device `major:minor` through its node in /dev (a
/// device without one is not checked).
fn first_sector(major: u64, minor: u64) -> Result<(), String> {
    let Some(node) = device_node(major, minor) else { return Ok(()) };
    let mut sector = [0u8; 512];
    let read = fs::File::open(&node).and_then(|mut device| device.read_exact(&mut sector));
    read.map_err(|err| format!("reading {} on the host: {err}", node.display()))
}

/// The block device node for `major:minor`: udev's /dev/block link, or the node
/// in /dev itself (/dev/vda).
fn device_node(major: u64, minor: u64) -> Option<PathBuf> {
    let link = PathBuf::from(format!("/dev/block/{major}:{minor}"));
    if link.exists() {
        return Some(link);
    }
    let is_it = |path: &PathBuf| {
        stat(path).is_ok_and(|node| {
            SFlag::from_bits_truncate(node.st_mode) & SFlag::S_IFMT == SFlag::S_IFBLK
                && node.st_rdev == makedev(major, minor)
        })
    };
    let entries = fs::read_dir("/dev").into_iter().flatten().flatten();
    entries.map(|entry| entry.path()).find(is_it)
}

/// The verdict, printed and final; and `first`, the first line of a message.
const PRELUDE: &str = r#"
held() { echo "held $*"; exit 0; }
escaped() { echo "escaped $*"; exit 0; }
skipped() { echo "skipped $*"; exit 0; }
first() { echo "$1" | head -n 1; }
"#;

/// `script` after the prelude and the variables `vars` (name, value).
fn with_prelude(vars: &[(&str, String)], script: &str) -> String {
    let vars: String =
        vars.iter().map(|(name, value)| format!("{name}={}\n", quoted(value))).collect();
    format!("{PRELUDE}{vars}{script}")
}

/// `value` as one word for the shell, in single quotes.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Mount the hierarchy of the pids controller (cgroup v1, else cgroup2), find the
/// container's own cgroup in /proc/self/cgroup, write its pids.max back.
pub fn cgroup_limit(_: &Host) -> String {
    with_prelude(
        &[],
        r#"
[ -r /proc/self/cgroup ] || skipped "no /proc/self/cgroup in the container to find its cgroup"
m=$(mktemp -d /tmp/escape-cgroup.XXXXXX) || skipped "cannot make a directory in /tmp"
trap 'umount $m 2>/dev/null; rmdir $m 2>/dev/null' EXIT
own=$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup)
if [ -n "$own" ]; then
    kind="the cgroup v1 pids hierarchy"; out=$(mount -t cgroup -o pids cgroup $m 2>&1)
else
    own=$(sed -n 's/^0:://p' /proc/self/cgroup)
    kind="the cgroup2 tree"; out=$(mount -t cgroup2 cgroup2 $m 2>&1)
fi || held "mount of $kind refused: $(first "$out")"
f=$m$own/pids.max
[ -e "$f" ] || escaped "mounted $kind; the container's cgroup ($own) has no pids.max: no limit to lift"
v=$(cat "$f")
out=$({ printf '%s\n' "$v" > "$f"; } 2>&1) || held "mounted $kind, but writing $own/pids.max was refused: $(first "$out")"
escaped "mounted $kind and wrote pids.max of the container's own cgroup $own (wrote back $v)"
"#,
    )
}

/// Write the host kernel's core_pattern back, through the container's /proc.
pub fn proc_sys(_: &Host) -> String {
    let vars = [("f", "/proc/sys/kernel/core_pattern".into()), ("how", "wrote".into())];
    with_prelude(&vars, WRITE_BACK_CORE_PATTERN)
}

const WRITE_BACK_CORE_PATTERN: &str = r#"
[ -e $f ] || skipped "no $f in the container (no /proc mounted?)"
v=$(cat $f)
out=$({ printf '%s\n' "$v" > $f; } 2>&1) || held "writing $f refused: $(first "$out")"
[ "$(cat $f)" = "$v" ] || held "wrote $f, and it now reads $(cat $f), not $v"
escaped "$how $f, a setting of the host's kernel (wrote back \"$v\")"
"#;

/// Mount a sysfs and open one of its files for writing, without writing.
pub fn sysfs(_: &Host) -> String {
    with_prelude(
        &[],
        r#"
m=$(mktemp -d /tmp/escape-sysfs.XXXXXX) || skipped "cannot make a directory in /tmp"
trap 'umount $m 2>/dev/null; rmdir $m 2>/dev/null' EXIT
out=$(mount -t sysfs sysfs $m 2>&1) || held "mount -t sysfs refused: $(first "$out")"
for f in kernel/uevent_helper kernel/mm/ksm/run power/state; do [ -e $m/$f ] && break; done
[ -e $m/$f ] || escaped "mounted sysfs at $m (none of its usual writable files to open)"
out=$({ : >> $m/$f; } 2>&1) || held "mounted sysfs, but opening /sys/$f for writing was refused: $(first "$out")"
escaped "mounted sysfs read-write and opened /sys/$f for writing (nothing written)"
"#,
    )
}

/// Mount a proc of our own elsewhere and write core_pattern back through it.
pub fn fresh_proc(_: &Host) -> String {
    let mount = r#"
m=$(mktemp -d /tmp/escape-proc.XXXXXX) || skipped "cannot make a directory in /tmp"
trap 'umount $m 2>/dev/null; rmdir $m 2>/dev/null' EXIT
out=$(mount -t proc proc $m 2>&1) || held "mount -t proc refused: $(first "$out")"
f=$m/sys/kernel/core_pattern
how="mounted a fresh proc at $m and wrote"
"#;
    with_prelude(&[], &format!("{mount}{WRITE_BACK_CORE_PATTERN}"))
}

/// The host's root device as shell variables, or a script that skips (when there
/// is none, or when `reads` and the host itself cannot read it).
fn device_vars(host: &Host, reads: bool) -> Result<Vec<(&'static str, String)>, String> {
    let Some(root) = &host.root else {
        return Err(with_prelude(&[], "skipped \"the host's / is on no block device\"\n"));
    };
    if let Some(why) = root.host_cannot_read.as_ref().filter(|_| reads) {
        let skip = format!("skipped even the host's root cannot: {why}");
        return Err(with_prelude(&[("verdict", skip)], "echo \"$verdict\"\n"));
    }
    let mode = if root.read_only { "ro" } else { "rw" };
    Ok(vec![
        ("maj", root.major.to_string()),
        ("min", root.minor.to_string()),
        ("fstype", root.fstype.clone()),
        ("mode", mode.into()),
    ])
}

/// mknod the host root filesystem's device and read its first sector.
pub fn disk_device(host: &Host) -> String {
    let vars = match device_vars(host, true) {
        Ok(vars) => vars,
        Err(skip) => return skip,
    };
    with_prelude(
        &vars,
        r#"
n=$(mktemp -u /tmp/escape-disk-node.XXXXXX)
trap 'rm -f $n' EXIT
out=$(mknod $n b $maj $min 2>&1) || held "mknod of the host's root device $maj:$min refused: $(first "$out")"
out=$(dd if=$n of=/dev/null bs=512 count=1 2>&1) || held "made a node for $maj:$min, but reading it was refused: $(first "$out")"
bytes=$(dd if=$n bs=512 count=1 2>/dev/null | wc -c)
escaped "made a node for the host's root filesystem's device ($maj:$min) and read its first sector ($bytes bytes)"
"#,
    )
}

/// mknod the host root filesystem's device and mount it as the host has it (the
/// same superblock, so nothing is replayed or written), list it, unmount it.
pub fn disk_mount(host: &Host) -> String {
    let vars = match device_vars(host, false) {
        Ok(vars) => vars,
        Err(skip) => return skip,
    };
    with_prelude(
        &vars,
        r#"
m=$(mktemp -d /tmp/escape-mount.XXXXXX) || skipped "cannot make a directory in /tmp"
n=$m.node
trap 'umount $m 2>/dev/null; rmdir $m 2>/dev/null; rm -f $n' EXIT
out=$(mknod $n b $maj $min 2>&1) || held "mknod of the host's root device $maj:$min refused: $(first "$out")"
out=$(mount -t $fstype -o $mode $n $m 2>&1) || held "made a node for $maj:$min, but mount -t $fstype of it was refused: $(first "$out")"
escaped "mounted the host's root filesystem ($fstype on $maj:$min, $mode) at $m; its top holds: $(echo $(ls $m | head -n 8)) …"
"#,
    )
}

/// Mount the cgroup v1 pids hierarchy and write its release_agent back.
pub fn release_agent(_: &Host) -> String {
    with_prelude(
        &[],
        r#"
grep -q '^[0-9]*:pids:' /proc/self/cgroup 2>/dev/null || skipped "no cgroup v1 pids hierarchy here (release_agent is cgroup v1's)"
m=$(mktemp -d /tmp/escape-release-agent.XXXXXX) || skipped "cannot make a directory in /tmp"
trap 'umount $m 2>/dev/null; rmdir $m 2>/dev/null' EXIT
out=$(mount -t cgroup -o pids cgroup $m 2>&1) || held "mount of the cgroup v1 pids hierarchy refused: $(first "$out")"
v=$(cat $m/release_agent)
out=$({ printf '%s\n' "$v" > $m/release_agent; } 2>&1) || held "mounted the pids hierarchy, but writing its release_agent was refused: $(first "$out")"
escaped "mounted the pids hierarchy and wrote its release_agent, the program the host's kernel runs as root when a cgroup empties (wrote back \"$v\")"
"#,
    )
}

/// Open /proc/sysrq-trigger for writing, without writing.
pub fn sysrq_trigger(_: &Host) -> String {
    with_prelude(
        &[("f", "/proc/sysrq-trigger".into())],
        r#"
[ -e $f ] || skipped "no $f in the container (no /proc mounted, or a kernel without magic SysRq)"
out=$({ : >> $f; } 2>&1) || held "opening $f for writing refused: $(first "$out")"
escaped "opened $f for writing (nothing written): one letter written there reboots or crashes the host"
"#,
    )
}

/// Read the first bytes of /proc/kcore, the host kernel's memory as an ELF core.
pub fn kcore(_: &Host) -> String {
    with_prelude(
        &[("f", "/proc/kcore".into())],
        r#"
[ -e $f ] || skipped "no $f (this kernel has none, or no /proc is mounted)"
out=$(dd if=$f of=/dev/null bs=4 count=1 2>&1) || held "reading $f refused: $(first "$out")"
magic=$(dd if=$f bs=4 count=1 2>/dev/null | od -An -c | tr -d ' ')
[ "$magic" = 177ELF ] || held "read $f, but it is no memory image (it starts with \"$magic\": masked?)"
escaped "read $f, the host kernel's memory as an ELF core file (its header, 4 bytes)"
"#,
    )
}

/// `kill -0` this suite's own PID on the host: signal 0 only asks whether it exists.
pub fn host_process(host: &Host) -> String {
    with_prelude(
        &[("pid", host.pid.to_string())],
        r#"
out=$(kill -0 $pid 2>&1) || held "kill -0 $pid (this suite's PID on the host): $(first "$out")"
cmd=$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)
case "$cmd" in
*escape*|"") escaped "kill -0 $pid reached the host's process $pid (cargo course escape): any signal would" ;;
esac
held "PID $pid exists in here, but it is the container's own ($cmd)"
"#,
    )
}

/// Compare the container's network namespace with the host's.
pub fn network(host: &Host) -> String {
    with_prelude(
        &[("host", host.net_namespace.clone())],
        r#"
mine=$(readlink /proc/self/ns/net) || skipped "cannot read /proc/self/ns/net (no /proc in the container?)"
pid1=$(readlink /proc/1/ns/net 2>/dev/null)
[ "$mine" != "$host" ] && [ "$pid1" = "$host" ] && escaped "the command has a network namespace of its own, but the container's PID 1 is in the host's ($host): nsenter --net=/proc/1/ns/net joins it"
[ "$mine" = "$host" ] || held "the container has a network namespace of its own ($mine; the host's is $host)"
ifs=$(sed -n '3,$s/:.*//p' /proc/net/dev)
escaped "shares the host's network namespace $host: sees its interfaces ($(echo $ifs)) and can use its ports"
"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_value_is_one_word_for_the_shell() {
        assert_eq!(quoted("net:[4026531840]"), "'net:[4026531840]'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_host_without_a_root_device_skips_the_disk_escapes() {
        let host = Host { pid: 1, net_namespace: "net:[1]".into(), root: None };
        assert!(disk_device(&host).ends_with("skipped \"the host's / is on no block device\"\n"));
        assert!(disk_mount(&host).contains("skipped"));
    }

    #[test]
    fn a_device_the_host_cannot_read_is_skipped_for_reading_only() {
        let why = Some("reading /dev/block/254:0 on the host: EPERM".to_string());
        let (fstype, major, minor) = ("ext4".to_string(), 254, 0);
        let root = RootDevice { major, minor, fstype, read_only: false, host_cannot_read: why };
        let host = Host { pid: 1, net_namespace: "net:[1]".into(), root: Some(root) };
        assert!(disk_device(&host).contains("verdict='skipped even the host'\\''s root cannot"));
        assert!(disk_mount(&host).contains("mount -t $fstype"));
    }

    #[test]
    fn the_proc_sys_script_says_how_it_wrote() {
        let host = Host { pid: 1, net_namespace: "net:[1]".into(), root: None };
        assert!(fresh_proc(&host).contains("how=\"mounted a fresh proc"));
        assert!(proc_sys(&host).starts_with(PRELUDE));
    }
}
