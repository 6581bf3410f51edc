//! The learner's clone stays theirs.
//!
//! A learner who is not root builds the tree through sudo, so everything the build
//! makes would belong to root, and `rm -rf` of their own clone (or `git clean -fdx`)
//! would fail with "Permission denied". So what we make as root inside a directory
//! that belongs to someone else is handed to that someone: the owner of the
//! directory it was made in. That covers sudo, a root shell (`sudo -i`, `su`) and
//! doas alike, and leaves a tree made in a root-owned place (`--rootfs /srv/x`) to root.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::fcntl::{AT_FDCWD, AtFlags};
use nix::unistd::{Gid, Uid, fchownat, geteuid};

use crate::Error;

/// Who should own what we make in a directory.
#[derive(Clone, Copy)]
struct Owner {
    uid: Uid,
    gid: Gid,
}

impl Owner {
    /// `dir`'s owner, when we are root and `dir` is not root's; otherwise nothing to do.
    fn of(dir: &Path) -> Option<Self> {
        if !geteuid().is_root() {
            return None;
        }
        let meta = fs::metadata(dir).ok()?;
        (meta.uid() != 0)
            .then(|| Self { uid: Uid::from_raw(meta.uid()), gid: Gid::from_raw(meta.gid()) })
    }
}

/// Gives `path` (made by us inside `parent`), and everything below it on the same
/// filesystem, to `parent`'s owner — if we are root and `parent` is someone else's.
pub(crate) fn hand_over(parent: &Path, path: &Path) -> Result<(), Error> {
    let Some(owner) = Owner::of(parent) else {
        return Ok(());
    };
    match fs::symlink_metadata(path) {
        Ok(top) => hand_over_on_device(path, top.dev(), owner),
        Err(_) => Ok(()), // nothing was made
    }
}

/// `chown -hR` that never follows a symlink and never enters another filesystem
/// (such as a container's /proc mounted inside the tree).
fn hand_over_on_device(path: &Path, device: u64, owner: Owner) -> Result<(), Error> {
    let meta = fs::symlink_metadata(path)
        .map_err(|e| Error::io(format!("lstat({})", path.display()), e))?;
    if meta.dev() != device {
        return Ok(());
    }
    // AT_SYMLINK_NOFOLLOW: a symlink itself changes owner, not what it points to.
    fchownat(AT_FDCWD, path, Some(owner.uid), Some(owner.gid), AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|errno| Error::sys(format!("chown({})", path.display()), errno))?;
    if meta.is_dir() {
        let entries =
            fs::read_dir(path).map_err(|e| Error::io(format!("readdir({})", path.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("readdir({})", path.display()), e))?;
            hand_over_on_device(&entry.path(), device, owner)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    type Outcome = Result<(), Box<dyn std::error::Error>>;

    /// A directory of root's, removed at the end of the test.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> std::io::Result<Scratch> {
        assert!(
            geteuid().is_root(),
            "this test needs root (chown): run it through cargo, which uses sudo"
        );
        let dir = std::env::temp_dir().join(format!("rootfs-owner-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    fn owner_of(path: &Path) -> std::io::Result<(u32, u32)> {
        let meta = fs::symlink_metadata(path)?;
        Ok((meta.uid(), meta.gid()))
    }

    #[test]
    fn what_root_makes_in_someone_elses_directory_becomes_theirs() -> Outcome {
        let scratch = scratch("theirs")?;
        let clone = scratch.0.join("clone");
        fs::create_dir(&clone)?;
        nix::unistd::chown(&clone, Some(Uid::from_raw(65534)), Some(Gid::from_raw(65533)))?;
        let made = clone.join("fs");
        fs::create_dir_all(made.join("bin"))?;
        fs::write(made.join("bin/busybox"), "x")?;
        // A dangling link: following it would fail; lchown must not follow it.
        symlink("/nonexistent/target", made.join("bin/sh"))?;

        hand_over(&clone, &made)?;

        for path in [&made, &made.join("bin"), &made.join("bin/busybox"), &made.join("bin/sh")] {
            assert_eq!(owner_of(path)?, (65534, 65533), "{} was not handed over", path.display());
        }
        Ok(())
    }

    #[test]
    fn what_root_makes_in_its_own_directory_stays_roots() -> Outcome {
        let scratch = scratch("roots")?;
        let made = scratch.0.join("fs");
        fs::create_dir(&made)?;
        hand_over(&scratch.0, &made)?;
        assert_eq!(owner_of(&made)?, (0, 0));
        Ok(())
    }
}
