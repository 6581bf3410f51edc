//! What tests set up and take down: scratch directories and root filesystems, the
//! host's mounts watched, a stand-in for a host whose mounts are shared, the
//! course's root filesystem (and its first use), and the lock that serialises tests.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::unistd::geteuid;
use procfs::process::Process;

use crate::kernel::mounts::{detach, detach_mounts_below, mounts_below, new_mounts};
use crate::timeouts::{container_timeout, poll_until};

/// The mounts below the root filesystem in this test process's mount namespace
/// (the host's) when a test began. When dropped, it detaches those added since: a
/// wrong program leaves none on the host, even when its check fails.
pub struct HostMounts {
    before: Vec<PathBuf>,
}

impl HostMounts {
    pub fn now() -> HostMounts {
        HostMounts { before: mounts_below(std::process::id() as i32, &rootfs()) }
    }

    /// Mount points at or below the root filesystem that were not there before.
    pub fn added(&self) -> Vec<PathBuf> {
        new_mounts(&self.before, mounts_below(std::process::id() as i32, &rootfs()))
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        detach(&self.added());
    }
}

/// A directory of a test's own in the temporary directory, named after `name`, this
/// process, a counter and the clock; new when made (never one that was there), and
/// removed with what it holds when dropped, also when the test fails (a mount left
/// on it is detached first).
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static N: AtomicU32 = AtomicU32::new(0);
        // The PID alone does not make the name unique: two gradings, each in a PID
        // namespace of its own, may both run as the same PID.
        loop {
            let n = N.fetch_add(1, Ordering::Relaxed);
            let nanos =
                SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.subsec_nanos());
            let name = format!("{name}-{}-{n}-{nanos:x}", std::process::id());
            let dir = std::env::temp_dir().join(name);
            match fs::create_dir(&dir) {
                Ok(()) => return ScratchDir(dir),
                Err(err) if err.kind() == ErrorKind::AlreadyExists => continue,
                Err(err) => panic!("mkdir {}: {err}", dir.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        detach_mounts_below(&self.0);
        if let Err(err) = remove_tree(&self.0) {
            eprintln!("remove {}: {err}", self.0.display());
        }
    }
}

/// A root filesystem of a test's own, in a [`ScratchDir`]: removed when dropped.
pub struct ScratchRoot(ScratchDir);

impl ScratchRoot {
    /// A root filesystem with an empty /proc and these `files` only, each given as
    /// (its path inside, the host file to copy there). `name` starts its directory's.
    pub fn with_files(name: &str, files: &[(&str, &Path)]) -> ScratchRoot {
        let scratch = ScratchRoot(ScratchDir::new(name));
        let dir = scratch.path();
        make_dir(&dir.join("proc"));
        for (inside, from) in files {
            let to = dir.join(inside);
            make_dir(to.parent().unwrap_or(dir));
            if fs::hard_link(from, &to).is_err() {
                fs::copy(from, &to).unwrap_or_else(|err| {
                    panic!("copy {} to {}: {err}", from.display(), to.display())
                });
            }
        }
        scratch
    }

    /// A root filesystem as `CONTAINER_ROOTFS` may name one: a copy of the course's
    /// (busybox and its links, /etc, /dev, the empty /proc, /sys and /tmp, all that
    /// the contract promises a program) with a file `/marker` that names it
    /// ([`ScratchRoot::marker`]).
    pub fn copy_of_the_course_tree() -> ScratchRoot {
        let scratch = ScratchRoot(ScratchDir::new("rootfs-check"));
        // -x: not into a step 5 container's proc, mounted on the tree's /proc.
        let copied = Command::new("cp")
            .args(["-a", "-x", "--"])
            .args([rootfs().join("."), scratch.path().to_path_buf()])
            .status()
            .unwrap_or_else(|err| panic!("cannot run cp (coreutils): {err}"));
        assert!(copied.success(), "cp -a the root filesystem to {}", scratch.path().display());
        let marker = scratch.path().join("marker");
        fs::write(&marker, scratch.marker())
            .unwrap_or_else(|err| panic!("write {}: {err}", marker.display()));
        scratch
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// What `/marker` holds in a root filesystem made by
    /// [`ScratchRoot::copy_of_the_course_tree`].
    pub fn marker(&self) -> String {
        format!("the root filesystem at {}\n", self.path().display())
    }
}

/// `mkdir -p dir`.
fn make_dir(dir: &Path) {
    fs::create_dir_all(dir).unwrap_or_else(|err| panic!("mkdir {}: {err}", dir.display()));
}

/// Files and directories a test makes, or lets a container make, outside a
/// [`ScratchDir`] (in the root filesystem, say). Removed when dropped, also when the
/// test fails; those never made are fine.
pub struct TestFiles(Vec<PathBuf>);

impl TestFiles {
    pub fn at(paths: impl IntoIterator<Item = PathBuf>) -> TestFiles {
        TestFiles(paths.into_iter().collect())
    }
}

impl Drop for TestFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let removed = if path.is_dir() { remove_tree(path) } else { fs::remove_file(path) };
            match removed {
                Err(err) if err.kind() != ErrorKind::NotFound => {
                    eprintln!("remove {}: {err}", path.display())
                }
                _ => {}
            }
        }
    }
}

/// The directories made directly in a directory from now on, even those removed
/// again (inotify): what containers started at once would race for, were they to
/// share one.
pub struct DirectoriesMade(Inotify);

impl DirectoriesMade {
    pub fn watch(dir: &Path) -> DirectoriesMade {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .unwrap_or_else(|err| panic!("inotify_init: {err}"));
        inotify
            .add_watch(dir, AddWatchFlags::IN_CREATE)
            .unwrap_or_else(|err| panic!("inotify_add_watch({}): {err}", dir.display()));
        DirectoriesMade(inotify)
    }

    /// Their names, in the order they were made.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(events) = self.0.read_events() {
            let made = events.into_iter().filter(|e| e.mask.contains(AddWatchFlags::IN_ISDIR));
            names.extend(made.filter_map(|e| Some(e.name?.to_string_lossy().into_owned())));
        }
        names
    }
}

/// The names in a directory, sorted as `ls` sorts them.
pub fn dir_listing(dir: &Path) -> Vec<String> {
    let entries = fs::read_dir(dir).into_iter().flatten().flatten();
    let mut names: Vec<String> =
        entries.map(|entry| entry.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Fail the test at once, in one line, unless we are root.
pub fn require_root() {
    if !geteuid().is_root() {
        panic!(
            "these tests need root (namespaces, chroot, cgroups): run them as root, or \
             install sudo and let .cargo/runner elevate them"
        );
    }
}

/// The course's root filesystem, built on first use.
pub fn rootfs() -> PathBuf {
    rootfs::ensure().unwrap_or_else(|err| panic!("{err}"))
}

/// The root filesystem's busybox, as a host path (for steps without a chroot).
pub fn busybox() -> String {
    rootfs().join("bin/busybox").display().to_string()
}

/// The course's root filesystem moved aside, so that the next container finds none
/// and builds it, as on a learner's first run. Put back when dropped, even when the
/// test fails. Hold [`serial`] meanwhile, so that no other container needs it.
pub struct FirstUse {
    aside: PathBuf,
}

impl FirstUse {
    pub fn start() -> FirstUse {
        let dir = rootfs();
        let aside = dir.with_file_name(format!(".fs.aside-{}", std::process::id()));
        fs::rename(&dir, &aside)
            .unwrap_or_else(|err| panic!("move {} aside: {err}", dir.display()));
        FirstUse { aside }
    }
}

impl Drop for FirstUse {
    fn drop(&mut self) {
        let dir = rootfs::default_dir();
        if let Err(err) = remove_tree(&dir) {
            eprintln!("remove the tree the test built at {}: {err}", dir.display());
        }
        let _ = fs::rename(&self.aside, &dir);
    }
}

/// Tests that must not run at the same time as each other take this lock (for
/// example step 5's, whose containers share the host's mount table).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A stand-in for a systemd host: a process in a mount namespace of its own
/// whose mounts are all *shared*, where this machine's `/` is private. Containers
/// started in it with [`crate::StepProgram::start_sh_in`] show whether their mounts leak out.
pub struct SharedMountHost {
    holder: Child,
}

impl SharedMountHost {
    pub fn start() -> SharedMountHost {
        SharedMountHost::holding(&format!("exec {} sleep 3600", busybox()))
    }

    /// The same host, with the root filesystem on a mount of its own (a bind mount,
    /// as when /home is a filesystem of its own), shared with `/`: a program that
    /// makes only `/` private (MS_PRIVATE without MS_REC) leaves that mount shared,
    /// and its proc mount reaches this host through it.
    pub fn with_rootfs_on_its_own_mount() -> SharedMountHost {
        let (busybox, tree) = (busybox(), rootfs().display().to_string());
        SharedMountHost::holding(&format!(
            "{busybox} mount --bind {tree} {tree} && exec {busybox} sleep 3600"
        ))
    }

    /// A mount namespace whose mounts are all shared, held by a shell running `script`,
    /// which ends by exec'ing busybox's sleep.
    fn holding(script: &str) -> SharedMountHost {
        require_root();
        let holder = Command::new("unshare")
            .args(["--mount", "--propagation", "shared", "--"])
            .args([busybox().as_str(), "sh", "-c", script])
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start `unshare` (util-linux): {err}"));
        let host = SharedMountHost { holder };
        // unshare(1) makes the namespace, then execs the shell, which sets the host up
        // and execs the sleeper: wait for that.
        let command = |pid| Process::new(pid).and_then(|process| process.cmdline()).ok();
        let started = poll_until(container_timeout(), || {
            command(host.pid())
                .is_some_and(|words| words.ends_with(&["sleep".into(), "3600".into()]))
        });
        assert!(started, "the stand-in shared host never started: {script}");
        host
    }

    pub fn pid(&self) -> i32 {
        self.holder.id() as i32
    }

    /// Mount points at or below `dir`, as this host sees them.
    pub fn mounts_below(&self, dir: &Path) -> Vec<PathBuf> {
        mounts_below(self.pid(), dir)
    }
}

impl Drop for SharedMountHost {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// `rm -r path` once nothing is mounted at or below it (what is, is detached first),
/// so that it never deletes through a mount. A missing `path` is fine.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    detach_mounts_below(path);
    let left = mounts_below(std::process::id() as i32, path);
    if !left.is_empty() {
        let message = format!("{} still has mounts: {left:?}", path.display());
        return Err(std::io::Error::other(message));
    }
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        done => done,
    }
}
