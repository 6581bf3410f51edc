//! What the kernel shows from the host's side: processes, namespaces, mounts,
//! cgroups and the hostname.

pub mod cgroups;
pub mod hostname;
pub mod mounts;
pub mod namespaces;
pub mod processes;
