//! Namespaces: whether a container's are the host's or new.

use std::collections::BTreeMap;
use std::fs;

/// The namespace kinds the tests compare, as named in /proc/PID/ns.
pub const NAMESPACES: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// A shell loop that prints the container's namespace links, one a line
/// (`uts:[4026531838]`), of every kind in [`NAMESPACES`].
pub(crate) fn print_namespaces() -> String {
    format!("for n in {}; do readlink /proc/self/ns/$n; done", NAMESPACES.join(" "))
}

/// The table [`crate::Step::namespaces`] shows for a container whose namespaces of
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
        let ours = fs::read_link(format!("/proc/self/ns/{kind}")).unwrap_or_default();
        let ours = ours.to_string_lossy();
        let verdict = match inside.get(kind) {
            None => "not printed",
            Some(theirs) if ours.ends_with(theirs) => "host",
            Some(_) => "new",
        };
        report.push_str(&format!("{kind}: {verdict}\n"));
    }
    report
}
