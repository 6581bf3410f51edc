//! Deleting trees without ever deleting through a mount.
//!
//! A running container mounts `proc` at `<tree>/proc`; a plain `rm -r` of the tree
//! would then walk into /proc — or, with a bind mount, into someone's home directory.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// Mount points at `dir` or below it, from `/proc/self/mountinfo`.
pub(crate) fn mounts_at_or_below(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    // mountinfo shows resolved paths: resolve ours the same way (if it exists).
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = crate::mountinfo::read()?;
    Ok(mounts
        .into_iter()
        .map(|mount| mount.mount_point)
        .filter(|mount_point| mount_point.starts_with(&dir))
        .collect())
}

/// `rm -r path`, refusing to start if anything is mounted inside, and refusing to
/// enter a directory on another filesystem (another device number) just in case.
/// A missing `path` is fine.
pub(crate) fn remove_tree(path: &Path) -> Result<(), Error> {
    let top = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("lstat({})", path.display()), e)),
    };
    if let Some(mount_point) = mounts_at_or_below(path)?.first() {
        return Err(refuse(path, mount_point));
    }
    remove_on_device(path, top.dev())
}

/// Deletes `path` (a file, symlink, device node or directory) if it lives on `device`.
fn remove_on_device(path: &Path, device: u64) -> Result<(), Error> {
    let meta = fs::symlink_metadata(path)
        .map_err(|e| Error::io(format!("lstat({})", path.display()), e))?;
    if !meta.is_dir() {
        return fs::remove_file(path)
            .map_err(|e| Error::io(format!("unlink({})", path.display()), e));
    }
    if meta.dev() != device {
        return Err(refuse(path, path));
    }
    let entries =
        fs::read_dir(path).map_err(|e| Error::io(format!("readdir({})", path.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("readdir({})", path.display()), e))?;
        remove_on_device(&entry.path(), device)?;
    }
    fs::remove_dir(path).map_err(|e| Error::io(format!("rmdir({})", path.display()), e))
}

fn refuse(path: &Path, mount_point: &Path) -> Error {
    Error::new(
        format!("rm -r({})", path.display()),
        format!(
            "{} is a mount point; refusing to delete across filesystems",
            mount_point.display()
        ),
    )
}
