//! The course's workspace, as this harness was built from it.

use std::path::{Path, PathBuf};

/// The workspace's top directory: two above this package (`rootfs/harness`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
