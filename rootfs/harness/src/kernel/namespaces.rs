//! Namespaces: whether a container's are the host's or new. The host's are this
//! test process's, read through procfs; the container's, what `readlink
//! /proc/self/ns/KIND` printed inside (`uts:[4026531838]`: the kind and the
//! namespace's inode number, the same in every process that shares it).

use std::collections::BTreeMap;
use std::ffi::OsStr;

use procfs::process::Process;

/// The namespace kinds the tests compare, as named in /proc/PID/ns.
pub const NAMESPACES: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// The inode number of process `pid`'s namespace of this `kind`; None once it has
/// ended.
pub fn namespace_of(pid: i32, kind: &str) -> Option<u64> {
    let namespaces = Process::new(pid).and_then(|process| process.namespaces()).ok()?;
    namespaces.0.get(OsStr::new(kind)).map(|namespace| namespace.identifier)
}

/// What `readlink /proc/self/ns/KIND` prints in this test process (the host):
/// `uts:[4026531838]`.
pub fn host_namespace_link(kind: &str) -> String {
    // A check compares a container's with it before it does anything a host must not
    // see (step 2 renames only once the UTS namespace is not the host's): never guess.
    let inode = namespace_of(std::process::id() as i32, kind)
        .unwrap_or_else(|| panic!("cannot read this test process's {kind} namespace"));
    format!("{kind}:[{inode}]")
}

/// A shell loop that prints the container's namespace links, one a line
/// (`uts:[4026531838]`), of every kind in [`NAMESPACES`].
pub(crate) fn print_namespaces() -> String {
    format!("for n in {}; do readlink /proc/self/ns/$n; done", NAMESPACES.join(" "))
}

/// The table [`crate::StepProgram::namespaces`] shows for a container whose namespaces of
/// these `kinds` are new, and every other the host's.
pub(crate) fn namespace_table(kinds: &[&str]) -> String {
    let verdict = |kind| if kinds.contains(&kind) { "new" } else { "host" };
    NAMESPACES.iter().map(|kind| format!("{kind}: {}\n", verdict(*kind))).collect()
}

/// For each namespace link printed inside the container (`uts:[4026531838]`),
/// whether it is the host's (this test process's) or a new one: `uts: new`.
pub(crate) fn compare_namespaces(printed: &str) -> String {
    let inside: BTreeMap<&str, &str> = printed.lines().filter_map(|l| l.split_once(':')).collect();
    let mut report = String::new();
    for kind in NAMESPACES {
        let host = host_namespace_link(kind);
        let verdict = match inside.get(kind) {
            None => "not printed",
            Some(theirs) if host == format!("{kind}:{theirs}") => "host",
            Some(_) => "new",
        };
        report.push_str(&format!("{kind}: {verdict}\n"));
    }
    report
}
