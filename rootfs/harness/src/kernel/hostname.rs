//! The host's hostname, which no container may change.

use std::sync::OnceLock;

use nix::unistd::{gethostname, sethostname};

/// The hostname of this test process's UTS namespace (the host's), as the kernel
/// shows it now.
pub fn current_hostname() -> String {
    gethostname().unwrap_or_default().to_string_lossy().into_owned()
}

/// The host's hostname, as it was before this test process started any container.
pub(crate) fn host_hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(current_hostname)
}

/// If a container renamed the host, give it its name back and say what it had become.
pub(crate) fn restore_host_hostname() -> Option<String> {
    let now = current_hostname();
    if now == host_hostname() {
        return None;
    }
    let _ = sethostname(host_hostname());
    Some(now)
}
