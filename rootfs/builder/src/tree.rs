//! What goes into the root filesystem: the smallest tree in which busybox feels at home.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use nix::sys::stat::{Mode, SFlag, makedev, mknod};

use crate::Error;

/// Directories and their modes. Modes are set explicitly afterwards: the umask would
/// otherwise decide them.
const DIRECTORIES: [(&str, u32); 11] = [
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("dev", 0o755),
    // Mount points: a container mounts proc (for ps) and maybe sysfs here.
    ("proc", 0o555),
    ("sys", 0o555),
    // Everyone may create files in /tmp; the sticky bit (1000) stops them deleting others'.
    ("tmp", 0o1777),
    // root's home directory, private like on any distribution.
    ("root", 0o700),
];

/// Character devices (name, major, minor). `busybox sh` needs /dev/null for background
/// jobs and redirections; programs read randomness from /dev/urandom; /dev/tty is
/// "my terminal".
const CHAR_DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Users: `ps`, `ls -l` and `id` map uid 0 to the name "root" through /etc/passwd,
/// and the shell starts in root's home directory. 65534 is the traditional "nobody".
const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

/// Groups, for the same reason: gid 0 shows as "root".
const GROUP: &str = "\
root:x:0:
nogroup:x:65534:
";

/// Fills the empty directory `root` with a busybox system, copying busybox from `busybox`.
pub(crate) fn populate(root: &Path, busybox: &Path) -> Result<(), Error> {
    for (dir, mode) in DIRECTORIES {
        make_dir(&root.join(dir), mode)?;
    }
    install_busybox(root, busybox)?;
    link_applets(root)?;
    for (name, major, minor) in CHAR_DEVICES {
        make_char_device(&root.join("dev").join(name), major, minor)?;
    }
    write_file(&root.join("etc/passwd"), PASSWD, 0o644)?;
    write_file(&root.join("etc/group"), GROUP, 0o644)
}

/// One binary that is ~300 programs: it looks at the name it was called by (argv[0]).
fn install_busybox(root: &Path, busybox: &Path) -> Result<(), Error> {
    let target = root.join("bin/busybox");
    fs::copy(busybox, &target).map_err(|e| {
        Error::io(format!("copy({} -> {})", busybox.display(), target.display()), e)
    })?;
    set_mode(&target, 0o755)
}

/// A symlink per applet, e.g. `usr/bin/awk -> ../../bin/busybox`. Relative links
/// resolve to /bin/busybox inside the chroot and to the tree's busybox from the host.
fn link_applets(root: &Path) -> Result<(), Error> {
    for applet in list_applets(&root.join("bin/busybox"))? {
        // Skip busybox itself, odd paths, and /linuxrc (for initrds; it only clutters `ls /`).
        let top_level = applet.parent() == Some(Path::new(""));
        if applet == Path::new("bin/busybox") || !is_plain_relative(&applet) || top_level {
            continue;
        }
        let link = root.join(&applet);
        if let Some(parent) = link.parent() {
            make_dirs_within(root, parent)?;
        }
        if link.symlink_metadata().is_ok() {
            continue; // listed twice
        }
        let target = busybox_relative_to(&applet);
        symlink(&target, &link).map_err(|e| {
            Error::io(format!("symlink({} -> {})", link.display(), target.display()), e)
        })?;
    }
    Ok(())
}

/// Install paths of all applets, e.g. `usr/bin/awk`. Old busybox versions lack
/// `--list-full`; then every applet goes into bin/.
fn list_applets(busybox: &Path) -> Result<Vec<PathBuf>, Error> {
    if let Some(full) = run_busybox(busybox, "--list-full")? {
        return Ok(full.lines().map(PathBuf::from).collect());
    }
    match run_busybox(busybox, "--list")? {
        Some(names) => Ok(names.lines().map(|n| Path::new("bin").join(n)).collect()),
        None => Err(Error::new(format!("{} --list", busybox.display()), "printed no applets")),
    }
}

/// Stdout of `busybox <option>` if it succeeded and printed something.
fn run_busybox(busybox: &Path, option: &str) -> Result<Option<String>, Error> {
    let what = format!("{} {option}", busybox.display());
    let mut attempts = 0;
    let output = loop {
        match Command::new(busybox).arg(option).output() {
            // "Text file busy": another thread of this process forked while our copy of
            // busybox was still open for writing; the fork closes it when it execs.
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            result => break result.map_err(|e| Error::io(what, e))?,
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok((output.status.success() && !stdout.is_empty()).then_some(stdout))
}

/// Only `a/b/c`-style paths: nothing absolute, no `..`, so links stay inside the tree.
fn is_plain_relative(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// `bin/busybox` as seen from the directory holding `applet`: one `..` per level.
fn busybox_relative_to(applet: &Path) -> PathBuf {
    let depth = applet.components().count().saturating_sub(1);
    let mut target: PathBuf = std::iter::repeat_n("..", depth).collect();
    target.push("bin/busybox");
    target
}

/// `mkdir -p dir` (mode 0755) for a `dir` inside `root` whose parents may be missing.
fn make_dirs_within(root: &Path, dir: &Path) -> Result<(), Error> {
    if dir == root || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        make_dirs_within(root, parent)?;
    }
    make_dir(dir, 0o755)
}

fn make_dir(dir: &Path, mode: u32) -> Result<(), Error> {
    fs::create_dir(dir).map_err(|e| Error::io(format!("mkdir({})", dir.display()), e))?;
    set_mode(dir, mode)
}

/// A device node is a name for a driver (major number) and one of its devices (minor).
fn make_char_device(path: &Path, major: u64, minor: u64) -> Result<(), Error> {
    let mode = Mode::from_bits_truncate(0o666);
    mknod(path, SFlag::S_IFCHR, mode, makedev(major, minor))
        .map_err(|errno| Error::sys(format!("mknod({})", path.display()), errno))?;
    set_mode(path, 0o666)
}

fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    fs::write(path, contents).map_err(|e| Error::io(format!("write({})", path.display()), e))?;
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(format!("chmod({:o}, {})", mode, path.display()), e))
}
