//! Processes, as /proc shows them: who descends from whom, zombies, the PIDs a
//! process has in each PID namespace, and the files it holds open.

use std::fs;

/// PIDs of every process descended from `pid`, read from /proc.
pub fn descendants(pid: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> =
        all_pids().into_iter().filter_map(|p| Some((p, stat(p)?.1))).collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(child, _)| *child));
        i += 1;
    }
    found.remove(0);
    found
}

/// The zombies (`<defunct>` processes) whose parent is `pid`.
pub fn zombie_children(pid: i32) -> Vec<i32> {
    all_pids().into_iter().filter(|p| stat(*p) == Some(('Z', pid))).collect()
}

fn all_pids() -> Vec<i32> {
    let entries = fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

/// State letter and parent PID of a process, from /proc/PID/stat.
pub(crate) fn stat(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// The PIDs a process has in each PID namespace it is in, outermost first.
pub(crate) fn nspid(pid: i32) -> Option<Vec<i32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().map(|n| n.parse().ok()).collect()
}

/// The files process `pid` has open beyond stdin, stdout and stderr that are not
/// the same open file as this test process has under that number (inherited).
pub(crate) fn own_files(pid: i32) -> Vec<String> {
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).into_iter().flatten().flatten();
    let fds =
        fds.filter_map(|fd| fd.file_name().to_str()?.parse::<i32>().ok()).filter(|fd| *fd > 2);
    let target = |pid: &str, fd: i32| fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok();
    let own = fds.filter(|fd| target(&pid.to_string(), *fd) != target("self", *fd));
    own.map(|fd| format!("{fd} -> {:?}", target(&pid.to_string(), fd))).collect()
}

/// The PIDs `ps -o pid` printed (its header left out).
pub(crate) fn listed_pids(ps: &str) -> Vec<i32> {
    ps.lines().filter_map(|line| line.trim().parse().ok()).collect()
}
