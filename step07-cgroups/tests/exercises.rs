//! The checks of step 7's exercises (step07-cgroups/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step07-cgroups --test exercises`.

use std::fs;
use std::path::PathBuf;

use harness::{
    Output, assert_option_accepted, cgroup_hierarchy, cgroup_of, cgroups_printed,
    host_namespace_link, pids_hierarchy, read_cgroup_file, step,
};

/// Once a container has ended, none of its cgroups is left: not `seen` (where the
/// test found its PID 1), nor one named after its `run` in the hierarchy of pids or
/// of `controllers`. Any left is removed (empty by then) before the test fails.
fn assert_no_cgroup_left(out: &Output, seen: &[PathBuf], controllers: &[&str]) {
    let name = out.cgroup_name();
    let hierarchies = controllers.iter().map(|c| cgroup_hierarchy(c).0).chain([pids_hierarchy()]);
    let mut left: Vec<PathBuf> =
        seen.iter().cloned().chain(hierarchies.map(|h| h.join(&name))).collect();
    left.sort();
    left.dedup();
    left.retain(|cgroup| cgroup.exists());
    for cgroup in &left {
        // rmdir refuses a cgroup that still has a process, or is a hierarchy's root.
        let _ = fs::remove_dir(cgroup);
    }
    assert!(left.is_empty(), "cgroups left behind after the container ended: {left:?}");
}

fn cgroup_namespace() {
    let script = "cat /proc/self/cgroup; echo --; readlink /proc/self/ns/cgroup";
    let out = step!().run(&["--cgroupns", "/bin/sh", "-c", script]);
    assert_option_accepted(&out, "--cgroupns");
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let (cgroups, namespace) = out.stdout.split_once("--\n").unwrap_or_default();
    let cgroups = cgroups_printed(cgroups);
    let host_paths: Vec<&str> =
        cgroups.iter().map(|cgroup| cgroup.pathname.as_str()).filter(|path| *path != "/").collect();
    assert!(
        !cgroups.is_empty() && host_paths.is_empty(),
        "expected every line of /proc/self/cgroup inside to end in `:/`; these show where the \
         host put the container: {host_paths:?}\n\
         hint: unshare(CLONE_NEWCGROUP) in `child`, after it has joined its cgroup"
    );
    assert_ne!(
        namespace.trim(),
        host_namespace_link("cgroup"),
        "the container's cgroup namespace is the host's"
    );
    assert_no_cgroup_left(&out, &[], &[]);
}

fn memory_max() {
    const LIMIT: &str = "16777216"; // 16 MiB
    let probe = step!().run(&["--memory-max", LIMIT, "/bin/true"]);
    assert_option_accepted(&probe, "--memory-max");
    assert_eq!(probe.code, 0, "the container failed: {probe:?}");

    let mut running =
        step!().start(&["--memory-max", LIMIT, "/bin/sh", "-c", "echo ready; read x"]);
    running.wait_for_line("ready");
    let cgroup = cgroup_of(running.container_init(), "memory");
    let (_, v2) = cgroup_hierarchy("memory");
    let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
    let limit = read_cgroup_file(&cgroup, file);
    let out = running.finish();
    assert_eq!(
        limit,
        LIMIT,
        "expected the container's memory cgroup {} to have {file} = {LIMIT}\n\
         hint: on cgroup v1, memory has a hierarchy of its own: make a cgroup there too, \
         and have `child` join it",
        cgroup.display()
    );
    assert_no_cgroup_left(&out, &[cgroup], &["memory"]);

    // dd's buffer is 64 MiB, and reading /dev/zero into it touches every page of it.
    let args = ["--memory-max", LIMIT, "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64M"];
    let out = step!().run(&[&args[..], &["count=1"]].concat());
    assert_eq!(
        out.code,
        128 + 9,
        "expected `dd bs=64M` under a 16 MiB limit to be killed by the OOM killer (137, \
         128 + SIGKILL): {out:?}\nhint: is the command in the memory cgroup? Is swap limited too?"
    );
    assert_no_cgroup_left(&out, &[], &["memory"]);
}

fn cpu_max() {
    let probe = step!().run(&["--cpus", "0.1", "/bin/true"]);
    assert_option_accepted(&probe, "--cpus");
    assert_eq!(probe.code, 0, "the container failed: {probe:?}");

    // A busy loop for one second, under a tenth of a CPU: throttled in each period.
    let script = "timeout 1 sh -c 'while :; do :; done'; echo done; read x";
    let mut running = step!().start(&["--cpus", "0.1", "/bin/sh", "-c", script]);
    running.wait_for_line("done");
    let cgroup = cgroup_of(running.container_init(), "cpu");
    let (_, v2) = cgroup_hierarchy("cpu");
    let limit = if v2 {
        read_cgroup_file(&cgroup, "cpu.max")
    } else {
        let quota = read_cgroup_file(&cgroup, "cpu.cfs_quota_us");
        format!("{quota} {}", read_cgroup_file(&cgroup, "cpu.cfs_period_us"))
    };
    let stat = read_cgroup_file(&cgroup, "cpu.stat");
    let out = running.finish();
    assert_eq!(
        limit,
        "10000 100000",
        "expected the container's cpu cgroup {} to allow 10000 µs each 100000 µs (quota, \
         period)\nhint: on cgroup v1, cpu has a hierarchy of its own: make a cgroup there \
         too, and have `child` join it",
        cgroup.display()
    );
    let throttled = stat.lines().find_map(|line| line.strip_prefix("nr_throttled "));
    assert!(
        throttled.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0),
        "a busy loop of one second under --cpus 0.1 was never throttled; cpu.stat:\n{stat}"
    );
    assert_no_cgroup_left(&out, &[cgroup], &["cpu"]);
}

harness::tests!(cgroup_namespace, memory_max, cpu_max);
