//! The crate's single error type: which operation failed, on which path, and why.

use std::fmt;
use std::io;

use nix::errno::Errno;

/// Why the root filesystem could not be found, built or replaced.
///
/// `Display` is one line: the operation with its path, then the reason, e.g.
/// `mknod(/…/fs/dev/null): Operation not permitted — building the root filesystem needs root`.
#[derive(Debug)]
pub struct Error {
    /// The operation and its path, e.g. `mknod(/…/fs/dev/null)`.
    what: String,
    /// Why it failed, plus a hint when we know one.
    why: String,
}

impl Error {
    /// An error with a reason we wrote ourselves.
    pub(crate) fn new(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self { what: what.into(), why: why.into() }
    }

    /// A failed syscall made through nix.
    pub(crate) fn sys(what: impl Into<String>, errno: Errno) -> Self {
        let hint = match errno {
            Errno::EPERM | Errno::EACCES => " — building the root filesystem needs root",
            _ => "",
        };
        Self::new(what, format!("{}{hint}", errno.desc()))
    }

    /// Appends advice on what to do about it.
    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        self.why = format!("{} — {hint}", self.why);
        self
    }

    /// A failed std I/O call; errors from the kernel read like [`Error::sys`].
    pub(crate) fn io(what: impl Into<String>, err: io::Error) -> Self {
        match err.raw_os_error() {
            Some(code) => Self::sys(what, Errno::from_raw(code)),
            None => Self::new(what, err.to_string()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.why)
    }
}

impl std::error::Error for Error {}
