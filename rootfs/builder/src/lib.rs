//! The container's root filesystem: a tiny busybox tree, built offline on first use.
//!
//! Every step of the course chroots into the same tree, `rootfs/fs`. Nobody builds
//! it by hand: [`ensure`] builds it the first time it is needed.
//!
//! How a build stays safe when several tests start containers at once, or when a
//! build is killed halfway:
//! 1. take an exclusive lock, `<parent>/.<name>.lock`, and look again: maybe another
//!    process finished the tree while we waited;
//! 2. build in a temporary sibling, `<parent>/.<name>.tmp-<pid>-<n>`;
//! 3. `rename` it to `<name>`, atomically. So `<name>` exists only when complete,
//!    and a leftover `.tmp-` directory is junk from a dead build: we delete it.

mod busybox;
mod elf;
mod error;
mod lock;
pub mod mountinfo;
mod owner;
mod remove;
mod tree;

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};

pub use error::Error;

use nix::fcntl::Flock;

use busybox::Source;
use lock::lock_exclusive;
use remove::{mounts_at_or_below, remove_tree};

/// Where the course keeps its root filesystem: `<repo>/rootfs/fs` (gitignored), beside this
/// package (`rootfs/builder`).
pub fn default_dir() -> PathBuf {
    let builder = Path::new(env!("CARGO_MANIFEST_DIR"));
    builder.parent().unwrap_or(builder).join("fs")
}

/// The default tree, built if missing: same as [`ensure_at`]`(&default_dir())`.
pub fn ensure() -> Result<PathBuf, Error> {
    ensure_at(&default_dir())
}

/// Returns `dir` (made absolute) once it holds a complete root filesystem.
///
/// Builds it on first use, printing one line to stderr; silent when it already
/// exists. Safe to call from many threads and processes at once.
pub fn ensure_at(dir: &Path) -> Result<PathBuf, Error> {
    let place = Place::new(dir)?;
    // Only a finished build is ever renamed to `dir`: if it exists, it is complete.
    if place.dir.is_dir() {
        return Ok(place.dir);
    }
    let _lock = place.lock()?;
    if place.dir.is_dir() {
        return Ok(place.dir); // built by someone else while we waited for the lock
    }
    let source = Source::choose()?;
    eprintln!(
        "rootfs: building the root filesystem in {} from {source} (first use)",
        place.dir.display()
    );
    let fresh = place.build_fresh(&source)?;
    rename(&fresh, &place.dir)?;
    Ok(place.dir)
}

/// Where the tree at `dir` comes from, found without building or downloading
/// anything: for `cargo course doctor`.
#[derive(Debug)]
pub enum Plan {
    /// `dir` holds a finished tree already.
    Built(PathBuf),
    /// A build copies this statically linked busybox, installed on this machine.
    Installed(PathBuf),
    /// A build fetches Debian's `busybox-static` package with `apt-get download`
    /// into `cache`; `cached` when it was fetched before (no network needed).
    AptDownload { cache: PathBuf, cached: bool },
}

/// What [`ensure_at`] would do for `dir`, or why it could not build it.
pub fn plan_at(dir: &Path) -> Result<Plan, Error> {
    let what = format!("use {} as root filesystem", dir.display());
    let dir = std::path::absolute(dir).map_err(|e| Error::io(what, e))?;
    if dir.is_dir() {
        return Ok(Plan::Built(dir));
    }
    let cache = dir.parent().unwrap_or(&dir).join("cache");
    Ok(match Source::choose()? {
        Source::Installed(busybox) => Plan::Installed(busybox),
        Source::AptDownload => Plan::AptDownload { cached: busybox::is_cached(&cache), cache },
    })
}

/// Builds a fresh tree and swaps it in for `dir` (whether or not `dir` exists).
///
/// Refuses while anything is mounted at or below `dir`: a container is using it.
pub fn rebuild_at(dir: &Path) -> Result<PathBuf, Error> {
    let place = Place::new(dir)?;
    let _lock = place.lock()?;
    place.refuse_if_in_use()?;
    let fresh = place.build_fresh(&Source::choose()?)?;
    if place.dir.symlink_metadata().is_ok() {
        // Move the old tree aside (under a temporary name, cleaned up if we die).
        let old = place.temporary_name();
        rename(&place.dir, &old)?;
        if let Err(err) = rename(&fresh, &place.dir) {
            let _ = fs::rename(&old, &place.dir); // put the old tree back
            return Err(err);
        }
        remove_tree(&old)?;
    } else {
        rename(&fresh, &place.dir)?;
    }
    Ok(place.dir)
}

/// Counts temporary directories made by this process, to keep their names unique.
static TEMPORARIES: AtomicU64 = AtomicU64::new(0);

/// A tree's directory and the names of its siblings: lock file, temporaries, cache.
struct Place {
    /// The tree, absolute, e.g. `/work/rootfs/fs`.
    dir: PathBuf,
    /// Its parent directory, e.g. `/work/rootfs`.
    parent: PathBuf,
    /// Its name, e.g. `fs`.
    name: String,
}

impl Place {
    fn new(dir: &Path) -> Result<Self, Error> {
        let what = format!("use {} as root filesystem", dir.display());
        let dir = std::path::absolute(dir).map_err(|e| Error::io(what.clone(), e))?;
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(Error::new(what, "the path needs a parent and a name"));
        };
        let name = name.to_string_lossy().into_owned();
        fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("mkdir({})", parent.display()), e))?;
        // Resolve `..` and symlinks, as /proc/self/mountinfo does.
        let parent = fs::canonicalize(parent)
            .map_err(|e| Error::io(format!("realpath({})", parent.display()), e))?;
        let dir = parent.join(&name);
        Ok(Self { dir, parent, name })
    }

    /// Serializes builds of this tree: `<parent>/.<name>.lock`.
    fn lock(&self) -> Result<Flock<File>, Error> {
        lock_exclusive(&self.parent.join(format!(".{}.lock", self.name)))
    }

    /// Where downloads are kept: `<parent>/cache`.
    fn cache(&self) -> PathBuf {
        self.parent.join("cache")
    }

    /// `.<name>.tmp-`: the prefix of every temporary sibling.
    fn temporary_prefix(&self) -> String {
        format!(".{}.tmp-", self.name)
    }

    /// A new, unused name: `<parent>/.<name>.tmp-<pid>-<n>`.
    fn temporary_name(&self) -> PathBuf {
        let n = TEMPORARIES.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}{}-{n}", self.temporary_prefix(), process::id());
        self.parent.join(name)
    }

    /// Builds a complete tree under a temporary name and returns that name.
    /// Call with the lock held.
    fn build_fresh(&self, source: &Source) -> Result<PathBuf, Error> {
        self.remove_dead_temporaries()?;
        let busybox = source.busybox(&self.cache())?;
        let fresh = self.temporary_name();
        let populated = fs::create_dir(&fresh)
            .and_then(|()| fs::set_permissions(&fresh, fs::Permissions::from_mode(0o755)))
            .map_err(|e| Error::io(format!("mkdir({})", fresh.display()), e))
            .and_then(|()| tree::populate(&fresh, &busybox));
        // Built through sudo in a learner's clone: the tree becomes the learner's.
        let handed_over = populated.and_then(|()| owner::hand_over(&self.parent, &fresh));
        if let Err(err) = handed_over {
            let _ = remove_tree(&fresh);
            return Err(err);
        }
        Ok(fresh)
    }

    /// With the lock held, nobody is building: any temporary sibling was left by a
    /// build that died (or a rebuild that died before deleting the old tree).
    fn remove_dead_temporaries(&self) -> Result<(), Error> {
        let prefix = self.temporary_prefix();
        let entries = fs::read_dir(&self.parent)
            .map_err(|e| Error::io(format!("readdir({})", self.parent.display()), e))?;
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                remove_tree(&entry.path())?;
            }
        }
        Ok(())
    }

    /// A running container has mounted something (proc, usually) inside the tree.
    fn refuse_if_in_use(&self) -> Result<(), Error> {
        match mounts_at_or_below(&self.dir)?.first() {
            None => Ok(()),
            Some(mount_point) => Err(Error::new(
                format!("rebuild({})", self.dir.display()),
                format!(
                    "{} is mounted, so a container is using it; stop the container (or umount) and retry",
                    mount_point.display()
                ),
            )),
        }
    }
}

/// `mv from to`; `to` must be on the same filesystem and, if a directory, empty.
fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to)
        .map_err(|e| Error::io(format!("rename({} -> {})", from.display(), to.display()), e))
}
