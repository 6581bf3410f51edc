//! Builds real trees in temporary directories. Needs root (mknod, mount, chroot).

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{major, minor};
use nix::unistd::geteuid;

fn require_root() {
    assert!(
        geteuid().is_root(),
        "the rootfs tests need root (mknod, mount, chroot): run them with sudo"
    );
}

/// Tests of this process share one parent directory, so they share its `cache/` and
/// fetch busybox-static only once; each test gets its own `fs-<n>` inside it.
fn shared_parent() -> PathBuf {
    std::env::temp_dir().join(format!("rootfs-tests-{}", std::process::id()))
}

/// How many tests use the shared parent right now; the last one out deletes it.
static USERS: Mutex<usize> = Mutex::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, not yet existing tree path, deleted (with its siblings) on drop.
struct Scratch {
    fs: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        require_root();
        *USERS.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let fs = shared_parent().join(format!("fs-{n}"));
        Scratch { fs }
    }

    fn name(&self) -> String {
        self.fs.file_name().unwrap().to_string_lossy().into_owned()
    }

    /// Siblings named `.fs-<n>.tmp-*`: there must be none after a call returns.
    fn temporaries(&self) -> Vec<PathBuf> {
        let prefix = format!(".{}.tmp-", self.name());
        fs::read_dir(shared_parent())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect()
    }

    fn busybox_inode(&self) -> u64 {
        fs::metadata(self.fs.join("bin/busybox")).unwrap().ino()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.fs);
        let mut users = USERS.lock().unwrap_or_else(|e| e.into_inner());
        *users -= 1;
        if *users == 0 {
            let _ = fs::remove_dir_all(shared_parent());
        }
    }
}

/// A tmpfs mounted for the duration of a test, unmounted even if the test fails.
struct Mounted(PathBuf);

impl Mounted {
    fn tmpfs(at: &Path) -> Self {
        mount(Some("tmpfs"), at, Some("tmpfs"), MsFlags::empty(), None::<&str>).unwrap();
        Mounted(at.to_path_buf())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

#[test]
fn builds_a_tree_busybox_can_run_in() {
    let scratch = Scratch::new();
    let dir = rootfs::ensure_at(&scratch.fs).unwrap();
    assert_eq!(dir, scratch.fs);

    let busybox = dir.join("bin/busybox");
    let meta = fs::metadata(&busybox).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
    assert!(fs::read(&busybox).unwrap().starts_with(b"\x7fELF"));

    // Applet links resolve to the tree's own busybox (relative links).
    for applet in ["bin/sh", "bin/ps", "usr/bin/awk"] {
        assert_eq!(fs::canonicalize(dir.join(applet)).unwrap(), busybox, "{applet}");
    }

    let null = fs::metadata(dir.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!((major(null.rdev()), minor(null.rdev())), (1, 3));
    assert_eq!(null.permissions().mode() & 0o777, 0o666);

    let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("tmp"), 0o1777);
    assert_eq!(mode("root"), 0o700);
    assert!(dir.join("proc").is_dir() && dir.join("sys").is_dir());

    let passwd = fs::read_to_string(dir.join("etc/passwd")).unwrap();
    assert!(passwd.contains("root:x:0:0:root:/root:/bin/sh\n"), "{passwd}");
    let group = fs::read_to_string(dir.join("etc/group")).unwrap();
    assert!(group.contains("root:x:0:\n"), "{group}");

    // The real proof it is static: it runs where there is no libc and no loader.
    let output = Command::new("chroot")
        .arg(&dir)
        .args(["/bin/sh", "-c", "id -un; id -gn"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "root\nroot\n");
}

#[test]
fn four_threads_at_once_build_one_tree() {
    let scratch = Scratch::new();
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (fs, start) = (scratch.fs.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let dir = rootfs::ensure_at(&fs).unwrap();
                // Seen by this thread right after its call returned.
                fs::metadata(dir.join("bin/busybox")).unwrap().ino()
            })
        })
        .collect();
    let inodes: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(inodes.iter().all(|&i| i == inodes[0]), "{inodes:?}");
    assert_eq!(scratch.busybox_inode(), inodes[0]);
    assert_eq!(scratch.temporaries(), Vec::<PathBuf>::new());
}

#[test]
fn second_call_reuses_the_tree() {
    let scratch = Scratch::new();
    rootfs::ensure_at(&scratch.fs).unwrap();
    let before = scratch.busybox_inode();
    let started = std::time::Instant::now();
    rootfs::ensure_at(&scratch.fs).unwrap();
    assert!(started.elapsed().as_millis() < 500, "{:?}", started.elapsed());
    assert_eq!(scratch.busybox_inode(), before);
}

#[test]
fn leftovers_of_a_killed_build_are_ignored_and_removed() {
    let scratch = Scratch::new();
    // What a build killed halfway leaves behind: a temporary sibling, never `fs` itself.
    let dead = shared_parent().join(format!(".{}.tmp-999999-0", scratch.name()));
    fs::create_dir_all(dead.join("bin")).unwrap();
    fs::write(dead.join("bin/half-copied"), b"\x7fEL").unwrap();

    rootfs::ensure_at(&scratch.fs).unwrap();
    assert!(scratch.fs.join("bin/sh").symlink_metadata().is_ok());
    assert_eq!(scratch.temporaries(), Vec::<PathBuf>::new());
}

#[test]
fn rebuild_swaps_in_a_fresh_tree() {
    let scratch = Scratch::new();
    rootfs::ensure_at(&scratch.fs).unwrap();
    let before = scratch.busybox_inode();
    fs::write(scratch.fs.join("tmp/old-file"), "x").unwrap();

    assert_eq!(rootfs::rebuild_at(&scratch.fs).unwrap(), scratch.fs);
    assert_ne!(scratch.busybox_inode(), before);
    assert!(!scratch.fs.join("tmp/old-file").exists());
    assert_eq!(scratch.temporaries(), Vec::<PathBuf>::new());
}

#[test]
fn rebuild_refuses_while_something_is_mounted_inside() {
    let scratch = Scratch::new();
    rootfs::ensure_at(&scratch.fs).unwrap();
    let before = scratch.busybox_inode();
    let mounted_at = scratch.fs.join("tmp");
    let mounted = Mounted::tmpfs(&mounted_at);

    let err = rootfs::rebuild_at(&scratch.fs).unwrap_err().to_string();
    assert!(err.contains("container is using it"), "{err}");
    assert!(err.contains(&mounted_at.display().to_string()), "{err}");
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(scratch.busybox_inode(), before);

    drop(mounted);
    rootfs::rebuild_at(&scratch.fs).unwrap();
}
