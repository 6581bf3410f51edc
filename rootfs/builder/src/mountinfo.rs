//! The mount table as the kernel shows it to us: `/proc/self/mountinfo`.
//!
//! Used here to never delete through a mount, and by `cargo course doctor` to read
//! the cgroup layout and how `/` propagates.

use std::fs;
use std::path::PathBuf;

use crate::Error;

/// One line of mountinfo (see proc(5)), e.g.
/// `39 31 0:36 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Which directory of its filesystem is mounted here: `/` for all of it.
    pub root: String,
    /// Where it is mounted, e.g. `/sys/fs/cgroup/pids`.
    pub mount_point: PathBuf,
    /// This mount's options, e.g. `rw`, `noexec`, `nodev`.
    pub options: Vec<String>,
    /// How mounts propagate to and from it: `shared:N`, `master:N`, `unbindable`;
    /// none means private.
    pub propagation: Vec<String>,
    /// The filesystem type, e.g. `cgroup2`.
    pub fstype: String,
    /// The filesystem's own options; for a cgroup v1 hierarchy they name its controllers.
    pub super_options: Vec<String>,
}

/// The mounts this process sees, in the kernel's order (a later mount on the same
/// point hides an earlier one).
pub fn read() -> Result<Vec<Mount>, Error> {
    let path = "/proc/self/mountinfo";
    let text = fs::read_to_string(path).map_err(|e| Error::io(format!("read({path})"), e))?;
    Ok(parse(&text))
}

/// Parses mountinfo's text; lines it does not understand are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

/// `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`.
fn parse_line(line: &str) -> Option<Mount> {
    // Spaces inside paths are escaped (\040), so " - " only ever separates the halves.
    let (mount, filesystem) = line.split_once(" - ")?;
    let fields: Vec<&str> = mount.split(' ').collect();
    let list = |field: &str| field.split(',').map(str::to_string).collect::<Vec<_>>();
    let mut filesystem = filesystem.split(' ');
    let fstype = filesystem.next()?.to_string();
    let super_options = filesystem.nth(1).map(list).unwrap_or_default();
    Some(Mount {
        root: unescape_octal(fields.get(3)?),
        mount_point: PathBuf::from(unescape_octal(fields.get(4)?)),
        options: list(fields.get(5)?),
        propagation: fields.get(6..).unwrap_or_default().iter().map(|f| f.to_string()).collect(),
        fstype,
        super_options,
    })
}

/// mountinfo writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
fn unescape_octal(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 4).and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = Result<(), &'static str>;

    #[test]
    fn a_line_splits_into_its_fields() -> Outcome {
        let line = "39 31 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev shared:15 master:2 - cgroup cgroup rw,pids";
        let mount = parse(line).pop().ok_or("no mount")?;
        assert_eq!(mount.root, "/");
        assert_eq!(mount.mount_point, PathBuf::from("/sys/fs/cgroup/pids"));
        assert_eq!(mount.options, ["rw", "nosuid", "nodev"]);
        assert_eq!(mount.propagation, ["shared:15", "master:2"]);
        assert_eq!(mount.fstype, "cgroup");
        assert_eq!(mount.super_options, ["rw", "pids"]);
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
    fn lines_without_a_separator_are_skipped() {
        assert!(parse("garbage\n\n27 1 254:0 / /").is_empty());
    }
}
