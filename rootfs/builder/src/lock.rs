//! An exclusive lock that serializes builds, across threads and processes.

use std::fs::{File, OpenOptions};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use crate::Error;

/// Opens (creating if needed) the lock file `path` and waits for an exclusive `flock`.
/// Dropping the returned value unlocks; so does the process dying.
///
/// Each call opens the file anew, so two threads of one process exclude each other
/// too (`flock` locks belong to the open file, not to the process).
pub(crate) fn lock_exclusive(path: &Path) -> Result<Flock<File>, Error> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(format!("open({})", path.display()), e))?;
    if let Some(parent) = path.parent() {
        crate::owner::hand_over(parent, path)?;
    }
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| Error::sys(format!("flock({})", path.display()), errno))
}
