//! The job's files: the host's, read-only, but where grading writes. In the job's
//! own mount namespace (so the host never sees any of it):
//!
//! - every mount is made read-only (recursively, `mount_setattr`);
//! - the directories grading writes in — /tmp, /var/tmp, /run, /dev/shm, the home
//!   of the user who graded (`$HOME`, and `$SUDO_USER`'s), the course's `rootfs/`
//!   (the busybox tree the checks chroot into and write markers in) and its
//!   `target/` — get an overlay each: the host's files show through, read-only, and
//!   what the job writes lands in a tmpfs that goes with the job;
//! - the graded checks' records (the file `$COURSE_RESULTS` names) stay writable;
//! - the cgroup hierarchies stay writable (the job's own, in the pids hierarchy,
//!   is mounted anew later; the others are not boxed);
//! - the host's /proc is taken away, for the job's own (see `inside.rs`).
//!
//! Root inside can undo a read-only mount (`mount -o remount,rw`), write a disk
//! through a device node it makes, or write the host kernel's settings through a
//! proc it mounts itself: this stops accidents and ordinary writes, not a program
//! that breaks out on purpose (the teacher's page says so).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::libc;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use rootfs::mountinfo::Mount;

/// Where the overlays' layers are made, for a moment: a tmpfs on /proc (the host's
/// /proc goes right after, for the job's own).
const STAGING: &str = "/proc";

/// Makes the host's files read-only in this (new, private) mount namespace, gives
/// the places grading writes an overlay each, takes the host's /proc away. Then
/// the caller mounts the job's /proc.
pub(super) fn contain_files() -> Result<(), String> {
    if !overlays_work() {
        // A kernel without overlayfs (a minimal VM's): the places grading writes
        // cannot be given back writable, so the host's files stay as they are.
        eprintln!(
            "course contain: this kernel mounts no overlay filesystem: the job's files are \
             not contained (it may write the host's)"
        );
        return Ok(());
    }
    // The one host file the job writes: the graded checks' records, which the
    // grading reads once the job is done. A mount of its own, kept writable, that
    // the overlay on its directory puts back on top.
    let results = std::env::var_os(harness::results::RESULTS_VAR).map(PathBuf::from);
    let results = results.filter(|file| file.is_file());
    if let Some(file) = &results {
        mount(Some(file.as_path()), file, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| format!("cannot bind {} on itself: {e}", file.display()))?;
    }
    let mounts = rootfs::mountinfo::read().map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().ok();
    read_only(Path::new("/"), true, true, &mounts)?;
    for cgroup in mounts.iter().filter(|m| m.fstype.starts_with("cgroup")) {
        read_only(&cgroup.mount_point, false, false, &mounts)?;
    }
    if let Some(file) = &results {
        read_only(file, false, false, &mounts)?;
    }
    let places = writable_places(&mounts);
    overlays(&places, &mounts)?;
    // The staging tmpfs, then the host's /proc: a root program could otherwise
    // unmount the job's /proc and reach the host's processes (and their roots).
    for _ in 0..2 {
        umount2(STAGING, MntFlags::MNT_DETACH)
            .map_err(|e| format!("cannot unmount {STAGING}: {e}"))?;
    }
    if let Some(cwd) = cwd {
        // Where we were, seen anew: an overlay may now be mounted there.
        let _ = std::env::set_current_dir(cwd);
    }
    Ok(())
}

/// Makes the job's /proc/sys and /proc/sysrq-trigger read-only (the kernel's
/// settings, once the job's own PID numbering is set).
pub(super) fn read_only_kernel_settings() -> Result<(), String> {
    for path in ["/proc/sys", "/proc/sysrq-trigger"] {
        let path = Path::new(path);
        if path.exists() {
            mount(Some(path), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
                .map_err(|e| format!("cannot bind {} on itself: {e}", path.display()))?;
            let options = ["rw", "nosuid", "nodev", "noexec"].map(String::from).to_vec();
            let bound = Mount {
                root: "/".into(),
                mount_point: path.into(),
                options,
                propagation: Vec::new(),
                fstype: "proc".into(),
                super_options: Vec::new(),
            };
            read_only(path, false, true, &[bound])?;
        }
    }
    Ok(())
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const AT_RECURSIVE: libc::c_int = 0x8000;

/// Makes the mount at `path` (and every mount below it, `recursive`) read-only, or
/// writable again (`!read_only`): mount_setattr(2), else (kernels before 5.12) a
/// bind remount of each.
fn read_only(
    path: &Path,
    recursive: bool,
    read_only: bool,
    mounts: &[Mount],
) -> Result<(), String> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("a path with a NUL: {}", path.display()))?;
    let (set, clear) = match read_only {
        true => (MOUNT_ATTR_RDONLY, 0),
        false => (0, MOUNT_ATTR_RDONLY),
    };
    let attr = MountAttr { attr_set: set, attr_clr: clear, propagation: 0, userns_fd: 0 };
    let flags = if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: a NUL-terminated path and a mount_attr of the size we pass, both
    // alive for the call; the kernel only reads them.
    let done = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    let what = if read_only { "read-only" } else { "writable" };
    match Errno::result(done) {
        Ok(_) => Ok(()),
        Err(Errno::ENOSYS) => {
            let below =
                |m: &&Mount| m.mount_point == path || recursive && m.mount_point.starts_with(path);
            for m in mounts.iter().filter(below) {
                remount_bind(m, read_only)
                    .map_err(|e| format!("cannot make {} {what}: {e}", m.mount_point.display()))?;
            }
            Ok(())
        }
        Err(e) => Err(format!("cannot make {} {what}: {e}", path.display())),
    }
}

/// The old way: remount a mount (as a bind, so that only this mount changes)
/// read-only or not, keeping its nosuid, nodev and noexec.
fn remount_bind(m: &Mount, read_only: bool) -> Result<(), Errno> {
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
    for (option, flag) in [
        ("nosuid", MsFlags::MS_NOSUID),
        ("nodev", MsFlags::MS_NODEV),
        ("noexec", MsFlags::MS_NOEXEC),
    ] {
        if m.options.iter().any(|o| o == option) {
            flags |= flag;
        }
    }
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    mount(None::<&str>, &m.mount_point, None::<&str>, flags, None::<&str>)
}

/// The directories the job may write (through an overlay), as they are on this
/// machine: those that exist, are directories, and are not `/`; outermost first.
fn writable_places(mounts: &[Mount]) -> Vec<PathBuf> {
    let mut places: Vec<PathBuf> =
        ["/tmp", "/var/tmp", "/run", "/dev/shm"].iter().map(PathBuf::from).collect();
    places.extend(std::env::var_os("HOME").map(PathBuf::from));
    if let Some(user) = std::env::var_os("SUDO_USER") {
        places.extend(home_of(&user.to_string_lossy()));
    }
    let repo = crate::steps::repo();
    places.push(repo.join("rootfs"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    places.push(repo.join(target.unwrap_or_else(|| "target".into())));
    let places: BTreeSet<PathBuf> = places
        .into_iter()
        .filter_map(|place| fs::canonicalize(place).ok())
        .filter(|place| place.is_dir() && place != Path::new("/") && overlayable(place))
        // Not the staging place, nor below a filesystem the job needs as it is.
        .filter(|place| !place.starts_with(STAGING) && !place.starts_with("/sys"))
        .filter(|place| !mounts.iter().any(|m| m.mount_point == *place && m.fstype == "proc"))
        .collect();
    // Sorted paths: a directory before those below it.
    places.into_iter().collect()
}

/// A user's home, from /etc/passwd.
fn home_of(user: &str) -> Option<PathBuf> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[0] == user).then(|| PathBuf::from(fields[5]))
    })
}

/// Whether this kernel mounts an overlay (its module, if any, loads on the first
/// try): one tried on a tmpfs of the moment, taken down again.
fn overlays_work() -> bool {
    let staging = Path::new(STAGING);
    let flags = MsFlags::MS_NOSUID;
    if mount(Some("course-contain"), staging, Some("tmpfs"), flags, Some("mode=0700")).is_err() {
        return false;
    }
    let dirs = ["lower", "upper", "work", "top"].map(|name| staging.join(name));
    let made = dirs.iter().all(|dir| fs::create_dir(dir).is_ok());
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        dirs[0].display(),
        dirs[1].display(),
        dirs[2].display()
    );
    let works = made
        && mount(
            Some("course-contain"),
            &dirs[3],
            Some("overlay"),
            MsFlags::empty(),
            Some(&*options),
        )
        .is_ok();
    if works {
        let _ = umount2(&dirs[3], MntFlags::MNT_DETACH);
    }
    let _ = umount2(staging, MntFlags::MNT_DETACH);
    works
}

/// Whether overlayfs's options can name `path` (a comma or colon would split them).
fn overlayable(path: &Path) -> bool {
    let text = path.to_string_lossy();
    !text.contains([',', ':', '\\', '\n'])
}

/// Mounts an overlay on each place: the host's files (read-only, as they were
/// before any overlay, so overlays never stack on overlays) below a tmpfs layer of
/// the job's own. The mounts that were below a place are put back on top of it,
/// read-only.
fn overlays(places: &[PathBuf], mounts: &[Mount]) -> Result<(), String> {
    // Not nodev: the copies of the busybox tree the checks make hold /dev/null.
    let flags = MsFlags::MS_NOSUID;
    mount(Some("course-contain"), STAGING, Some("tmpfs"), flags, Some("mode=0700"))
        .map_err(|e| format!("cannot mount a tmpfs on {STAGING}: {e}"))?;
    let staging = Path::new(STAGING);
    // Every lower layer first, while the places are still the host's.
    for (n, place) in places.iter().enumerate() {
        let lower = staging.join(format!("lower-{n}"));
        mkdir(&lower)?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
        mount(Some(place.as_path()), &lower, None::<&str>, flags, None::<&str>)
            .map_err(|e| format!("cannot bind {} on {}: {e}", place.display(), lower.display()))?;
    }
    for (n, place) in places.iter().enumerate() {
        let (lower, upper, work) = (
            staging.join(format!("lower-{n}")),
            staging.join(format!("upper-{n}")),
            staging.join(format!("work-{n}")),
        );
        mkdir(&upper)?;
        mkdir(&work)?;
        // The overlay's top directory looks as its upper one does: as the host's.
        let meta = fs::metadata(&lower).map_err(|e| format!("{}: {e}", place.display()))?;
        fs::set_permissions(&upper, meta.permissions())
            .and_then(|()| std::os::unix::fs::chown(&upper, Some(meta.uid()), Some(meta.gid())))
            .map_err(|e| format!("cannot give {} its mode and owner: {e}", upper.display()))?;
        let options = format!(
            "lowerdir={},upperdir={},workdir={},redirect_dir=on",
            lower.display(),
            upper.display(),
            work.display()
        );
        mount(Some("course-contain"), place, Some("overlay"), MsFlags::empty(), Some(&*options))
            .map_err(|e| format!("cannot mount an overlay on {}: {e}", place.display()))?;
        for below in outermost_below(place, mounts) {
            let from = lower.join(below.strip_prefix(place).unwrap_or(&below));
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            mount(Some(&from), &below, None::<&str>, flags, None::<&str>)
                .map_err(|e| format!("cannot put {} back: {e}", below.display()))?;
        }
    }
    Ok(())
}

/// The mount points below `place` (not itself) that no other one below it holds.
fn outermost_below(place: &Path, mounts: &[Mount]) -> Vec<PathBuf> {
    let below: BTreeSet<&Path> = mounts
        .iter()
        .map(|m| m.mount_point.as_path())
        .filter(|point| *point != place && point.starts_with(place))
        .collect();
    let inside =
        |point: &Path| below.iter().any(|other| *other != point && point.starts_with(other));
    below.iter().filter(|point| !inside(point)).map(|point| point.to_path_buf()).collect()
}

fn mkdir(dir: &Path) -> Result<(), String> {
    fs::create_dir(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount_at(point: &str) -> Mount {
        Mount {
            root: "/".into(),
            mount_point: point.into(),
            options: vec!["rw".into()],
            propagation: Vec::new(),
            fstype: "tmpfs".into(),
            super_options: Vec::new(),
        }
    }

    #[test]
    fn the_mounts_put_back_on_a_place_are_the_outermost_below_it() {
        let mounts: Vec<Mount> =
            ["/", "/run", "/run/lock", "/run/user/0", "/run/user/0/gvfs", "/runner"]
                .into_iter()
                .map(mount_at)
                .collect();
        let below = outermost_below(Path::new("/run"), &mounts);
        assert_eq!(below, [PathBuf::from("/run/lock"), PathBuf::from("/run/user/0")]);
        assert!(outermost_below(Path::new("/tmp"), &mounts).is_empty());
    }

    #[test]
    fn a_path_with_a_comma_or_colon_gets_no_overlay() {
        assert!(overlayable(Path::new("/home/ann/course/target")));
        assert!(!overlayable(Path::new("/home/ann/a,b")));
        assert!(!overlayable(Path::new("/home/ann/a:b")));
    }

    #[test]
    fn a_home_is_read_from_passwd() {
        assert_eq!(home_of("root"), Some(PathBuf::from("/root")));
        assert_eq!(home_of("no-such-user-here"), None);
    }
}
