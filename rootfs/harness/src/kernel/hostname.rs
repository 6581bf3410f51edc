//! The host's hostname, which no container may change.

use std::sync::{Mutex, OnceLock};

use nix::unistd::{gethostname, sethostname};

/// The hostname of this test process's UTS namespace (the host's), as the kernel
/// shows it now.
pub fn current_hostname() -> String {
    gethostname().unwrap_or_default().to_string_lossy().into_owned()
}

/// The host's hostname, as it was before this test process started any container.
pub fn host_hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(current_hostname)
}

/// Every name the host was found renamed to, in order: containers run at once, and
/// the first to end may repair a rename another one made, so each container asks
/// whether any rename was repaired while it ran ([`renames_since`]).
static RENAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// If a container renamed the host, give it its name back and say what it had become.
pub(crate) fn restore_host_hostname() -> Option<String> {
    let mut renames = RENAMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let now = current_hostname();
    if now == host_hostname() {
        return None;
    }
    let _ = sethostname(host_hostname());
    renames.push(now.clone());
    Some(now)
}

/// How many renames have been repaired so far: a mark for [`renames_since`].
pub(crate) fn renames_so_far() -> usize {
    RENAMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
}

/// The names the host was renamed to since `mark` ([`renames_so_far`]), repairing
/// a rename still in place first.
pub(crate) fn renames_since(mark: usize) -> Vec<String> {
    restore_host_hostname();
    let renames = RENAMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    renames.get(mark..).map(<[String]>::to_vec).unwrap_or_default()
}
