//! The mount table as the kernel shows it to us: `/proc/self/mountinfo`, read
//! with procfs.
//!
//! Used here to never delete through a mount, by `cargo course doctor` to read the
//! cgroup layout and how `/` propagates, and by the test harness for mount points.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use procfs::process::{MountInfo, MountOptFields, Process};

use crate::Error;

/// One line of mountinfo (see proc(5)), e.g.
/// `39 31 0:36 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Which directory of its filesystem is mounted here: `/` for all of it.
    pub root: String,
    /// Where it is mounted, e.g. `/sys/fs/cgroup/pids`.
    pub mount_point: PathBuf,
    /// This mount's options, e.g. `rw`, `noexec`, `nodev` (sorted: procfs keeps
    /// them in a map).
    pub options: Vec<String>,
    /// How mounts propagate to and from it: `shared:N`, `master:N`,
    /// `propagate_from:N`, `unbindable`; none means private.
    pub propagation: Vec<String>,
    /// The filesystem type, e.g. `cgroup2`.
    pub fstype: String,
    /// The filesystem's own options (sorted); for a cgroup v1 hierarchy they name
    /// its controllers.
    pub super_options: Vec<String>,
}

impl From<MountInfo> for Mount {
    fn from(mount: MountInfo) -> Mount {
        let list = |options: &std::collections::HashMap<String, Option<String>>| {
            let mut list: Vec<String> = options
                .iter()
                .map(|(name, value)| match value {
                    Some(value) => format!("{name}={value}"),
                    None => name.clone(),
                })
                .collect();
            list.sort();
            list
        };
        let propagation = mount.opt_fields.iter().map(|field| match field {
            MountOptFields::Shared(group) => format!("shared:{group}"),
            MountOptFields::Master(group) => format!("master:{group}"),
            MountOptFields::PropagateFrom(group) => format!("propagate_from:{group}"),
            MountOptFields::Unbindable => "unbindable".to_string(),
        });
        Mount {
            root: String::from_utf8_lossy(&unescape(mount.root.as_bytes())).into_owned(),
            mount_point: mount_point(&mount),
            options: list(&mount.mount_options),
            propagation: propagation.collect(),
            fstype: mount.fs_type,
            super_options: list(&mount.super_options),
        }
    }
}

/// The mounts this process sees, in the kernel's order (a later mount on the same
/// point hides an earlier one).
pub fn read() -> Result<Vec<Mount>, Error> {
    let mounts = Process::myself().and_then(|me| me.mountinfo());
    let mounts = mounts.map_err(|e| Error::new("read(/proc/self/mountinfo)", e.to_string()))?;
    Ok(mounts.into_iter().map(Mount::from).collect())
}

/// Mounts from mountinfo's text (a table some other process printed, or a test's);
/// lines procfs does not understand are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    let mounts = text.lines().filter_map(|line| MountInfo::from_line(line).ok());
    mounts.map(Mount::from).collect()
}

/// A mount point as the kernel means it. procfs hands mountinfo's field over as
/// written, where the kernel writes a space, tab, newline or backslash in a path
/// as `\040`, `\011`, `\012` or `\134`.
pub fn mount_point(mount: &MountInfo) -> PathBuf {
    PathBuf::from(OsString::from_vec(unescape(mount.mount_point.as_os_str().as_bytes())))
}

/// mountinfo's field with each `\NNN` (octal) turned back into its byte.
fn unescape(escaped: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        let octal = escaped.get(i + 1..i + 4).and_then(|digits| {
            let digits = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(digits, 8).ok()
        });
        match (escaped[i], octal) {
            (b'\\', Some(byte)) => {
                bytes.push(byte);
                i += 4;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = Result<(), &'static str>;

    #[test]
    fn a_line_gives_what_the_doctor_reads() -> Outcome {
        let line = "39 31 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev shared:15 master:2 - cgroup cgroup rw,pids";
        let mount = parse(line).pop().ok_or("no mount")?;
        assert_eq!(mount.root, "/");
        assert_eq!(mount.mount_point, PathBuf::from("/sys/fs/cgroup/pids"));
        assert_eq!(mount.options, ["nodev", "nosuid", "rw"]);
        assert_eq!(mount.propagation, ["shared:15", "master:2"]);
        assert_eq!(mount.fstype, "cgroup");
        assert_eq!(mount.super_options, ["pids", "rw"]);
        Ok(())
    }

    #[test]
    fn options_with_values_keep_them() -> Outcome {
        let line = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755";
        let mount = parse(line).pop().ok_or("no mount")?;
        assert_eq!(mount.super_options, ["mode=755", "rw"]);
        Ok(())
    }

    #[test]
    fn a_private_mount_has_no_optional_fields() -> Outcome {
        let mount =
            parse("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw").pop().ok_or("no mount")?;
        assert!(mount.propagation.is_empty());
        Ok(())
    }

    #[test]
    fn escaped_paths_are_unescaped() -> Outcome {
        let line = r"50 27 0:40 /my\040dir /mnt/a\134b\011c rw - tmpfs tmpfs rw";
        let mount = parse(line).pop().ok_or("no mount")?;
        assert_eq!(mount.root, "/my dir");
        assert_eq!(mount.mount_point, PathBuf::from("/mnt/a\\b\tc"));
        Ok(())
    }

    #[test]
    fn a_backslash_without_three_octal_digits_stays() {
        assert_eq!(unescape(br"a\b\04"), br"a\b\04");
    }

    #[test]
    fn lines_procfs_does_not_understand_are_skipped() {
        assert!(parse("garbage\n\n27 1 254:0 / /").is_empty());
    }

    #[test]
    fn this_process_reads_its_own_table() -> Result<(), Error> {
        assert!(!read()?.is_empty());
        Ok(())
    }
}
