//! Processes, as /proc shows them (read through procfs): who descends from whom,
//! zombies, the PIDs a process has in each PID namespace, and the files it holds.

use std::collections::BTreeMap;

use procfs::process::{FDTarget, Process, all_processes};

/// Every process /proc lists now: its PID, state letter and parent PID.
fn processes() -> Vec<(i32, char, i32)> {
    let Ok(all) = all_processes() else { return Vec::new() };
    let stats = all.flatten().filter_map(|process| process.stat().ok());
    stats.map(|stat| (stat.pid, stat.state, stat.ppid)).collect()
}

/// PIDs of every process descended from `pid`, read from /proc.
pub fn descendants(pid: i32) -> Vec<i32> {
    let all = processes();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(all.iter().filter(|(_, _, p)| *p == parent).map(|(child, _, _)| *child));
        i += 1;
    }
    found.remove(0);
    found
}

/// The processes whose parent is `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    let all = processes().into_iter().filter(|(_, _, parent)| *parent == pid);
    all.map(|(child, _, _)| child).collect()
}

/// The zombies (`<defunct>` processes) whose parent is `pid`.
pub fn zombie_children(pid: i32) -> Vec<i32> {
    let zombies =
        processes().into_iter().filter(|(_, state, parent)| (*state, *parent) == ('Z', pid));
    zombies.map(|(zombie, _, _)| zombie).collect()
}

/// Whether /proc still lists process `pid` (a zombie included).
pub fn exists(pid: i32) -> bool {
    Process::new(pid).is_ok()
}

/// State letter and parent PID of a process, from /proc/PID/stat.
pub(crate) fn stat(pid: i32) -> Option<(char, i32)> {
    let stat = Process::new(pid).ok()?.stat().ok()?;
    Some((stat.state, stat.ppid))
}

/// The PIDs a process has in each PID namespace it is in, outermost first
/// (`NSpid:` in /proc/PID/status).
pub(crate) fn nspid(pid: i32) -> Option<Vec<i32>> {
    Process::new(pid).ok()?.status().ok()?.nspid
}

/// What each open file descriptor of process `pid` refers to.
fn open_files(pid: i32) -> BTreeMap<i32, FDTarget> {
    let Ok(fds) = Process::new(pid).and_then(|process| process.fd()) else {
        return BTreeMap::new();
    };
    fds.flatten().map(|fd| (fd.fd, fd.target)).collect()
}

/// The files process `pid` has open beyond stdin, stdout and stderr that are not
/// the same open file as this test process has under that number (inherited).
pub(crate) fn own_files(pid: i32) -> Vec<String> {
    let ours = open_files(std::process::id() as i32);
    let theirs = open_files(pid).into_iter().filter(|(fd, _)| *fd > 2);
    let own = theirs.filter(|(fd, target)| ours.get(fd) != Some(target));
    own.map(|(fd, target)| format!("{fd} -> {target:?}")).collect()
}

/// The PIDs `ps -o pid` printed (its header left out).
pub(crate) fn listed_pids(ps: &str) -> Vec<i32> {
    ps.lines().filter_map(|line| line.trim().parse().ok()).collect()
}

/// The signals process `pid` ignores (SigIgn in /proc/PID/status), as a bit mask:
/// bit n-1 for signal n. 0 when the process is gone.
pub fn ignored_signals(pid: i32) -> u64 {
    Process::new(pid).and_then(|process| process.status()).map_or(0, |status| status.sigign)
}

/// The signals process `pid` blocks (SigBlk in /proc/PID/status), as a bit mask:
/// bit n-1 for signal n. 0 when the process is gone.
pub fn blocked_signals(pid: i32) -> u64 {
    Process::new(pid).and_then(|process| process.status()).map_or(0, |status| status.sigblk)
}
