//! The checks of step 7's exercises (step07-cgroups/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step07-cgroups --test exercises`.

use std::fs;
use std::path::PathBuf;

use harness::escapes::{self, Host};
use harness::probes;
use harness::{
    Output, assert_option_accepted, cgroup_hierarchy, cgroup_of, cgroups_printed, claim,
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

    // PID 1, `child`, is in the namespace too, not only the command it starts.
    let script = "readlink /proc/1/ns/cgroup; readlink /proc/self/ns/cgroup";
    let out = step!().run(&["--cgroupns", "/bin/sh", "-c", script]);
    let links: Vec<&str> = out.stdout.lines().collect();
    claim(
        "with --cgroupns, PID 1 (`child`) is in the container's cgroup namespace, with the command",
    )
    .expected(format!(
        "exit code 0, and `readlink` of /proc/1/ns/cgroup and /proc/self/ns/cgroup inside printing \
             the same namespace twice, not the host's {}",
        host_namespace_link("cgroup")
    ))
    .program(&out)
    .hint(
        "unshare(CLONE_NEWCGROUP) in `child` itself, right after join_cgroup, not in a \
             pre_exec hook of the command: the namespace takes in the process that makes it, \
             and `child` is the container's PID 1",
    )
    .holds(
        out.code == 0
            && links.len() == 2
            && links[0] == links[1]
            && links[0] != host_namespace_link("cgroup"),
    );
    assert_no_cgroup_left(&out, &[], &[]);

    let out = step!().run(&["/bin/sh", "-c", script]);
    let host = host_namespace_link("cgroup");
    claim("without --cgroupns, the container keeps the host's cgroup namespace")
        .expected(format!("exit code 0, and the host's {host} twice"))
        .program(&out)
        .hint("make the cgroup namespace only when --cgroupns is given: nothing changes without it")
        .holds(
            out.code == 0
                && out.stdout.lines().all(|link| link == host)
                && out.stdout.lines().count() == 2,
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
    // Swap, where the kernel accounts it: v1 limits memory and swap together (memsw),
    // v2 swap alone.
    let (swap_file, no_swap) =
        if v2 { ("memory.swap.max", "0") } else { ("memory.memsw.limit_in_bytes", LIMIT) };
    let swap = cgroup.join(swap_file).exists().then(|| read_cgroup_file(&cgroup, swap_file));
    let out = running.finish();
    assert_eq!(
        limit,
        LIMIT,
        "expected the container's memory cgroup {} to have {file} = {LIMIT}\n\
         hint: on cgroup v1, memory has a hierarchy of its own: make a cgroup there too, \
         and have `child` join it",
        cgroup.display()
    );
    claim(format!("the container's swap is limited too: {swap_file} = {no_swap}"))
        .expected(format!("{swap_file} = {no_swap} in {}", cgroup.display()))
        .shown(format!("{swap_file} = {}", swap.as_deref().unwrap_or("(no such file)")))
        .hint(
            "with swap, a process over the limit is swapped out rather than killed: write \
             memory.swap.max = 0 on v2, memory.memsw.limit_in_bytes = the limit on v1 (after \
             memory.limit_in_bytes), where the file exists",
        )
        .holds(swap.as_ref().is_none_or(|swap| swap == no_swap));
    assert_no_cgroup_left(&out, &[cgroup], &["memory"]);
    assert_no_memory_cgroup_without_the_option();
    assert_stale_memory_cgroups_removed();

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

/// Without `--memory-max`, no memory cgroup is made: PID 1 stays in the memory
/// cgroup of `run` (v1), or, on v2, where memory shares the tree with pids, its
/// cgroup has no memory limit.
fn assert_no_memory_cgroup_without_the_option() {
    let mut running = step!().start(&["/bin/sh", "-c", "echo ready; read x"]);
    running.wait_for_line("ready");
    let (_, v2) = cgroup_hierarchy("memory");
    let (theirs, runs) = (cgroup_of(running.container_init(), "memory"), running.pid());
    let (made, shown) = if v2 {
        let max = theirs.join("memory.max");
        let limit = max.exists().then(|| read_cgroup_file(&theirs, "memory.max"));
        let limit = limit.unwrap_or_else(|| "max".into());
        (limit != "max", format!("memory.max = {limit} in {}", theirs.display()))
    } else {
        let of_run = cgroup_of(runs, "memory");
        (theirs != of_run, format!("PID 1 in {}, `run` in {}", theirs.display(), of_run.display()))
    };
    let out = running.finish();
    claim("without --memory-max, no memory cgroup is made for the container")
        .expected("PID 1 in the memory cgroup of `run`, with no memory limit")
        .program(&out)
        .shown(shown)
        .hint(
            "make the memory cgroup, and join it, only when --memory-max is given: without \
             it, nothing changes",
        )
        .holds(!made);
    assert_no_cgroup_left(&out, &[], &["memory"]);
}

/// On v1, a stale memory cgroup, `container-PID` of a `run` that no longer
/// exists (killed before it could remove it), is removed by the next `run
/// --memory-max`, as stale pids cgroups are. On v2 memory shares pids' tree.
fn assert_stale_memory_cgroups_removed() {
    let (hierarchy, v2) = cgroup_hierarchy("memory");
    if v2 {
        return;
    }
    // The PID of a process that has ended: no `run` has it.
    let mut ended = std::process::Command::new("true")
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start `true`: {err}"));
    let _ = ended.wait();
    let stale = hierarchy.join(format!("container-{}", ended.id()));
    fs::create_dir(&stale).unwrap_or_else(|err| panic!("mkdir {}: {err}", stale.display()));
    let out = step!().run(&["--memory-max", "16777216", "/bin/true"]);
    let left = stale.exists();
    let _ = fs::remove_dir(&stale);
    claim("`run --memory-max` removes stale memory cgroups, as stale pids ones")
        .expected(format!("{} (a `run` that ended without removing it) removed", stale.display()))
        .program(&out)
        .shown(format!("{} still there: {left}", stale.display()))
        .hint(
            "sweep the stale cgroups (`container-PID` of a PID that no longer exists) in the \
             memory hierarchy too, not only in pids'",
        )
        .holds(!left);
    assert_no_cgroup_left(&out, &[], &["memory"]);
}

fn cpu_max() {
    let probe = step!().run(&["--cpus", "0.1", "/bin/true"]);
    assert_option_accepted(&probe, "--cpus");
    assert_eq!(probe.code, 0, "the container failed: {probe:?}");
    for (value, why) in [
        ("0", "not a positive number"),
        ("-0.5", "not a positive number"),
        ("0.005", "500 µs a period, less than 1000"),
    ] {
        let option = format!("--cpus={value}");
        let out = step!().run(&[option.as_str(), "/bin/true"]);
        claim(format!("`run {option} /bin/true` is a usage error: {why}"))
            .expected("exit code 2, as clap reports a usage error, and the command not run")
            .program(&out)
            .hint(
                "validate N in a `value_parser` function: an Err for what is not finite and \
                 positive, or asks for a quota under 1000 µs a period; clap then reports it, \
                 exit code 2",
            )
            .holds(out.code == 2);
    }

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

// The lock-down, one part each (../../book/src/break-out.md): each check tries in a
// container the escapes that part stops, with the very scripts of `cargo course
// escape` (harness::escapes: harmless to the host, what is written is the value
// read), and requires them held; then looks for the part where the kernel shows it.

/// Try the escape `name` of the book's table with its script in a container of the
/// program under test, and require it held (or skipped, when `may_skip`: this host
/// lacks what it needs, such as a block device under its `/`).
fn assert_held(name: &str, script: fn(&Host) -> String, may_skip: bool, hint: &str) {
    let host = Host::look().unwrap_or_else(|err| panic!("cannot look at the host: {err}"));
    let out = step!().sh(&script(&host));
    let verdict = out.stdout.lines().find(|line| {
        ["held ", "escaped ", "skipped "].iter().any(|verdict| line.starts_with(verdict))
    });
    let held =
        verdict.is_some_and(|v| v.starts_with("held ") || may_skip && v.starts_with("skipped "));
    claim(format!("the `{name}` escape (book: Break out, then lock down) is held"))
        .expected("held: the kernel refuses it")
        .shown(verdict.unwrap_or("no verdict: the container did not run the escape"))
        .program(&out)
        .hint(hint)
        .holds(held);
}

/// `cat FILE; echo --; …` of `files` in a container; what each printed.
/// `why_it_may_fail`, if not empty, is what the part makes fail, for the verdict.
fn read_inside(files: &[&str], why_it_may_fail: &str) -> Vec<String> {
    let script: Vec<String> = files.iter().map(|file| format!("cat {file}")).collect();
    let out = step!().sh(&script.join("; echo --; "));
    let why = match why_it_may_fail {
        "" => String::new(),
        why => format!(" ({why})"),
    };
    claim(format!("`cat {}` inside{why}", files.join(" ")))
        .expected("exit code 0")
        .program(&out)
        .holds(out.code == 0);
    out.stdout.split("--\n").map(String::from).collect()
}

/// The value of `field` in a /proc/PID/status (`CapEff:\t00000000000405fb`).
fn status_field<'a>(status: &'a str, field: &str) -> &'a str {
    let value = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'));
    value.unwrap_or("(none)").trim()
}

/// Docker's default capabilities, less CAP_MKNOD, CAP_NET_RAW, CAP_SETFCAP and
/// CAP_AUDIT_WRITE, as /proc/PID/status shows them: CHOWN, DAC_OVERRIDE, FOWNER,
/// FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT.
const KEPT_CAPABILITIES: &str = "00000000000405fb";

fn lock_capabilities() {
    let status = read_inside(
        &["/proc/1/status", "/proc/self/status"],
        "mount and umount2 need CAP_SYS_ADMIN: drop the capabilities after /proc is mounted, \
         and leave its unmount to the end of the mount namespace",
    );
    let none = "0000000000000000";
    let expected = [
        ("CapBnd", KEPT_CAPABILITIES),
        ("CapPrm", KEPT_CAPABILITIES),
        ("CapEff", KEPT_CAPABILITIES),
        ("CapInh", none),
        ("CapAmb", none),
        ("NoNewPrivs", "1"),
    ];
    for (who, status) in ["PID 1 (`child`)", "the command"].into_iter().zip(&status) {
        for (field, value) in expected {
            let shown = status_field(status, field);
            claim(format!("{field} of {who}, in its /proc/PID/status inside"))
                .expected(format!("{field}: {value}"))
                .shown(format!("{field}: {shown}{}", capability_difference(shown, value)))
                .hint(capability_hint(field, shown, value))
                .holds(shown == value);
        }
    }
    let hint = "without CAP_SYS_ADMIN no mount works; without CAP_MKNOD no device node";
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
    assert_held("disk device", escapes::disk_device, true, hint);
}

/// What each field of /proc/PID/status is, and what sets it right; or, when a set
/// holds a few capabilities more than the ten, which.
fn capability_hint(field: &str, shown: &str, expected: &str) -> String {
    let more = match (u64::from_str_radix(shown, 16), u64::from_str_radix(expected, 16)) {
        (Ok(shown), Ok(expected)) => shown & !expected,
        _ => 0,
    };
    if field.starts_with("Cap") && (1..=3).contains(&more.count_ones()) {
        let names: Vec<String> =
            (0..64).filter(|bit| more & (1u64 << bit) != 0).map(capability_name).collect();
        return format!(
            "{field} keeps more than the ten: {}. Keep the ten only: with CAP_SYS_ADMIN, root \
             may mount (every mount escape); with CAP_MKNOD, make a node for the host's disk",
            names.join(" ")
        );
    }
    let hint = match field {
        "CapBnd" => {
            "CapBnd is the bounding set: on execve, root gets back every capability in it. \
             Drop each capability not kept from the bounding set, prctl(PR_CAPBSET_DROP, n), \
             first, while CAP_SETPCAP is still yours"
        }
        "CapPrm" | "CapEff" => {
            "keep the ten capabilities only, in the permitted and effective sets: capset(2), \
             version 3, two halves of 32 bits"
        }
        "CapInh" => {
            "CapInh is the inheritable set: execve passes it on to programs with file \
             capabilities. Clear it in the capset(2) call"
        }
        "CapAmb" => {
            "CapAmb is the ambient set: execve passes it on to every program. Clear it: \
             prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)"
        }
        _ => {
            "set no_new_privs, prctl(PR_SET_NO_NEW_PRIVS), so that no later execve (a setuid \
             program, a file with capabilities) gives any capability back"
        }
    };
    hint.to_string()
}

/// The capabilities a mask shown has more or fewer than the one expected, by name:
/// ` (more: CAP_SYS_ADMIN)`; nothing when either is not a mask.
fn capability_difference(shown: &str, expected: &str) -> String {
    let (Ok(shown), Ok(expected)) =
        (u64::from_str_radix(shown, 16), u64::from_str_radix(expected, 16))
    else {
        return String::new();
    };
    let names = |mask: u64| {
        let named = (0..64).filter(|bit| mask & (1u64 << bit) != 0).map(capability_name);
        named.collect::<Vec<_>>().join(" ")
    };
    let mut parts = Vec::new();
    if shown & !expected != 0 {
        parts.push(format!("more: {}", names(shown & !expected)));
    }
    if expected & !shown != 0 {
        parts.push(format!("fewer: {}", names(expected & !shown)));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join("; ")),
    }
}

/// A capability's name by its number (capabilities(7), linux/capability.h).
fn capability_name(number: u32) -> String {
    const NAMES: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    match NAMES.get(number as usize) {
        Some(name) => format!("CAP_{name}"),
        None => format!("capability {number}"),
    }
}

fn lock_user_namespace() {
    let read = read_inside(
        &["/proc/self/uid_map", "/proc/self/gid_map"],
        "once `run` has written its maps, the child becomes root of its user namespace \
         (setresgid, then setresuid to 0) before it re-executes itself: execve as any other \
         user drops every capability",
    );
    for (kind, map) in ["uid", "gid"].into_iter().zip(&read) {
        // Each line: the first ID inside, the first outside, how many.
        let ranges: Vec<Vec<u64>> = map
            .lines()
            .map(|line| line.split_whitespace().filter_map(|n| n.parse().ok()).collect())
            .collect();
        let root_outside = ranges.iter().find(|r| r.len() == 3 && r[0] == 0).map(|r| r[1]);
        let maps_host_root = ranges.iter().any(|r| r.len() == 3 && r[1] == 0);
        let hint = match (root_outside, maps_host_root) {
            (_, true) if ranges == [vec![0, 0, u64::from(u32::MAX)]] => format!(
                "this is the host's own {kind} map: the container has no user namespace of its \
                 own, or one that maps every ID to itself, root included. clone (or unshare) with CLONE_NEWUSER together with the other namespaces, \
                 and have `run`, still outside, write the child's {kind}_map (user_namespaces(7))"
            ),
            (_, true) => format!(
                "the map gives the host's {kind} 0, root, to the container: root inside is root \
                 outside. Map 0 inside to an unprivileged {kind} of its own: root's range in \
                 /etc/sub{kind}, else nobody (65534); never to your own ID, when that is 0"
            ),
            (None, false) => format!(
                "{kind} 0 inside has no map: have `run`, outside, write /proc/CHILD/{kind}_map \
                 (`0 FIRST COUNT`) before the child goes on"
            ),
            (Some(_), false) if ranges.len() > 1 => format!(
                "map one range only, root's: `0 FIRST COUNT` of /etc/sub{kind}, else `0 65534 1`. \
                 Each other line gives the container some of the host's {kind}s (`1 1 65533` maps \
                 them to themselves), whose files its root may then open"
            ),
            (Some(_), false) => String::new(),
        };
        claim(format!("/proc/self/{kind}_map inside: root inside is not root outside"))
            .expected(format!(
                "{kind} 0 mapped to an unprivileged {kind} outside, and the host's 0 to none: \
                 `0 65534 1`, or a range of /etc/sub{kind} such as `0 100000 65536`"
            ))
            .shown(format!("{}\n(`0 0 4294967295` is the host's own)", map.trim_end()))
            .hint(hint)
            .holds(root_outside.is_some_and(|id| id != 0) && !maps_host_root && ranges.len() == 1);
    }
    assert_all_ids_mapped();
    let hint = "root inside must be an unprivileged user outside: the host's settings and \
                cgroup files belong to the host's root";
    assert_held("/proc/sys", escapes::proc_sys, false, hint);
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
}

/// Started by a `run` that belongs to the host's group 0 too (as sudo gives it), the
/// command is root of its user namespace in every ID, and keeps no group of the
/// host's: an ID the namespace does not map shows inside as 65534 (overflow), and
/// still counts outside (a root:root 0660 file of the host opens).
fn assert_all_ids_mapped() {
    let out = step!().sh_through(&["setpriv", "--groups", "0", "--"], "cat /proc/self/status");
    for (field, expected) in [("Uid", "0 0 0 0"), ("Gid", "0 0 0 0"), ("Groups", "")] {
        let shown = status_field(&out.stdout, field).split_whitespace().collect::<Vec<_>>();
        let hint = match field {
            "Groups" => {
                "the child drops the supplementary groups it inherited from `run` (here the \
                 host's group 0), setgroups([]), before setresgid and setresuid"
            }
            _ => {
                "the child becomes root of its user namespace in every ID: setresgid(0, 0, 0), \
                  then setresuid(0, 0, 0), before it re-executes itself"
            }
        };
        claim(format!(
            "{field} of the command, in /proc/self/status inside (`run` in the host's group 0)"
        ))
        .expected(format!("{field}: {expected}"))
        .shown(format!("{field}: {}", shown.join(" ")))
        .program(&out)
        .hint(hint)
        .holds(shown.join(" ") == expected);
    }
}

/// runc's read-only paths of /proc, and its masked ones (each where this kernel has it).
const READ_ONLY: [&str; 5] =
    ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
const MASKED: [&str; 9] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
];

fn lock_masked_paths() {
    let paths = READ_ONLY.iter().chain(&MASKED).copied().collect::<Vec<_>>().join(" ");
    // Each path there, then `d` for a directory, `f` for anything else.
    let script = format!(
        "cat /proc/self/mountinfo; echo --; \
         for f in {paths}; do [ -e $f ] && {{ [ -d $f ] && echo $f d || echo $f f; }}; done; true"
    );
    let out = step!().sh(&script);
    claim("the container runs").expected("exit code 0").program(&out).holds(out.code == 0);
    let (mountinfo, present) = out.stdout.split_once("--\n").unwrap_or_default();
    // The last mount at a mount point is the one seen there: its options (field 6).
    let options_at = |path: &str| {
        let fields = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        mountinfo.lines().map(fields).rfind(|f| f.len() > 5 && f[4] == path).map(|f| f[5].clone())
    };
    // And its filesystem's type, the first word after ` - `.
    let type_at = |path: &str| {
        let line = mountinfo.lines().rfind(|line| line.split(' ').nth(4) == Some(path))?;
        Some(line.split_once(" - ")?.1.split(' ').next()?.to_string())
    };
    let kinds: Vec<(&str, &str)> =
        present.lines().filter_map(|line| line.split_once(' ')).collect();
    let present: Vec<&str> = kinds.iter().map(|(path, _)| *path).collect();
    for path in READ_ONLY.into_iter().filter(|path| *path == "/proc/sys" || present.contains(path))
    {
        let options = options_at(path);
        let read_only = options.as_deref().is_some_and(|o| o.split(',').any(|o| o == "ro"));
        let hint = match options {
            None => format!(
                "no mount at {path}: after /proc is mounted (not before: the proc mount would \
                 cover it), bind-mount {path} on itself, then remount that bind mount read-only"
            ),
            Some(_) => format!(
                "the mount at {path} is there, but read-write: the kernel ignores MS_RDONLY in \
                 the call that makes a bind mount (it takes the flags of the mount it copies). \
                 Remount it: mount(NULL, {path}, MS_BIND | MS_REMOUNT | MS_RDONLY)"
            ),
        };
        claim(format!("{path} is a read-only mount in /proc/self/mountinfo inside"))
            .expected(format!("a mount at {path} whose options start with `ro`"))
            .shown(
                options
                    .as_deref()
                    .map_or(format!("no mount at {path}"), |o| format!("options {o}")),
            )
            .hint(hint)
            .holds(read_only);
    }
    for (path, kind) in kinds.iter().filter(|(path, _)| MASKED.contains(path)) {
        let (options, fs_type) = (options_at(path), type_at(path));
        let directory = *kind == "d";
        let read_only = options.as_deref().is_some_and(|o| o.split(',').any(|o| o == "ro"));
        let (hidden, hint) = match (&fs_type, directory) {
            (None, _) => (false, "after /proc is mounted: mount /dev/null (MS_BIND) over each such file, an empty tmpfs (MS_RDONLY) over each such directory".to_string()),
            (Some(proc), _) if proc == "proc" => (false, format!("the mount at {path} is proc's own (a bind of {path} itself): what it shows is still the host's, only read-only. Hide it: /dev/null over a file, an empty tmpfs over a directory")),
            (Some(_), true) if !read_only => (false, format!("the tmpfs over {path} is writable: mount it MS_RDONLY, so nothing can be put there")),
            _ => (true, String::new()),
        };
        let shown = match (fs_type, options) {
            (Some(fs_type), Some(options)) => format!("a mount of {fs_type}, options {options}"),
            _ => format!("no mount at {path}: the host's, readable"),
        };
        claim(format!("{path} is hidden inside"))
            .expected(format!("a mount at {path}: /dev/null bound on a file, an empty read-only tmpfs on a directory"))
            .shown(shown)
            .hint(hint)
            .holds(hidden);
    }
    let hint = "/proc/sys must be mounted read-only in the container";
    assert_held("/proc/sys", escapes::proc_sys, false, hint);
}

fn lock_seccomp() {
    let status = read_inside(
        &["/proc/1/status", "/proc/self/status"],
        "the filter refuses mount and umount2: install it after /proc is mounted, and leave \
         its unmount to the end of the mount namespace",
    );
    for (who, status) in ["PID 1 (`child`)", "the command"].into_iter().zip(&status) {
        let shown = status_field(status, "Seccomp");
        claim(format!("Seccomp of {who}, in its /proc/PID/status inside"))
            .expected("Seccomp: 2 (a filter: SECCOMP_MODE_FILTER)")
            .shown(format!("Seccomp: {shown}"))
            .hint(
                "in `child`, before the command starts: install a BPF filter with \
                 prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, …) (seccomp(2)); the command \
                 inherits it",
            )
            .holds(shown == "2");
    }
    let hint = "the filter must refuse mount(2) (and the new mount API) with EPERM, whatever \
                the capabilities";
    assert_held("fresh proc", escapes::fresh_proc, false, hint);
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
    assert_more_calls_refused();
    assert_calls_only_a_program_makes_refused();
}

/// Beyond mount(2): a new namespace (unshare) and an unmount (umount2, lazy: it
/// would detach /proc and what is mounted on it) must be refused too.
fn assert_more_calls_refused() {
    let script = "busybox unshare -n true 2>&1 && echo 'unshare: made a network namespace'; \
                  echo --; umount -l /proc 2>&1 && echo 'umount: detached /proc'; true";
    let out = step!().sh(script);
    let (unshare, umount) = out.stdout.split_once("--\n").unwrap_or_default();
    for (call, tried, said) in
        [("unshare", "busybox unshare -n true", unshare), ("umount2", "umount -l /proc", umount)]
    {
        let said = said.trim();
        claim(format!("`{tried}` inside is refused"))
            .expected("Operation not permitted (EPERM)")
            .shown(if said.is_empty() { "it worked" } else { said })
            .program(&out)
            .hint(format!(
                "the filter refuses {call} with EPERM as well as mount: no new namespace, no \
                 unmount, whatever the capabilities (see the list in the statement)"
            ))
            .holds(said.contains("not permitted"));
    }
}

/// Two calls busybox cannot make, each by a tiny program (harness::probes): fsopen,
/// the way into the new mount API, which a filter that refuses mount(2) alone lets
/// through; and an i386 mount(2), through `int 0x80`, whose number (21) is another
/// call's on x86_64 (access): a filter that does not check the architecture lets
/// it through. Each must be refused (EPERM: exit code 1) or killed (SIGSYS: 159).
/// A kernel without the call (ENOSYS) or without IA32 emulation is not checked.
fn assert_calls_only_a_program_makes_refused() {
    let probes = [
        (
            "fsopen(\"proc\"), the new mount API's first call",
            probes::x86_64_fsopen(),
            "the filter refuses the new mount API too (fsopen, fsconfig, fsmount, move_mount, \
             open_tree, fspick, mount_setattr): through it a program mounts without mount(2)",
        ),
        (
            "a 32-bit (i386) mount(2), made through `int 0x80`",
            probes::i386_mount(),
            "the filter checks the architecture first (offset 4 of seccomp_data, \
             AUDIT_ARCH_X86_64 = 0xc000003e) and kills any other: an i386 call has other \
             numbers, and mount is 21 there, x86_64's access, which the filter lets through",
        ),
    ];
    for (what, program, hint) in probes {
        let out = step!().sh(&probes::script_running(&program));
        let code = probes::exit_code_printed(&out.stdout);
        if !matches!(code, Some(0 | 1 | 159)) {
            continue; // not on this kernel
        }
        claim(format!("{what} inside is refused"))
            .expected("killed by SIGSYS (exit code 159), or refused with EPERM (exit code 1)")
            .shown(match code {
                Some(0) => "exit code 0: the kernel allowed it".to_string(),
                other => format!("exit code {other:?}"),
            })
            .hint(hint)
            .holds(code != Some(0));
    }
}

fn lock_network() {
    let script = "readlink /proc/self/ns/net; echo --; readlink /proc/1/ns/net; echo --; \
                  sed -n '3,$s/:.*//p' /proc/net/dev";
    let out = step!().sh(script);
    claim("the container runs").expected("exit code 0").program(&out).holds(out.code == 0);
    let parts: Vec<&str> = out.stdout.split("--\n").collect();
    let [namespace, pid1_namespace, interfaces] = parts[..] else { return };
    let host = host_namespace_link("net");
    let hint = "add CLONE_NEWNET to the namespaces `run` makes";
    claim("the `network` escape (book: Break out, then lock down) is held: readlink /proc/self/ns/net inside")
        .expected(format!("a network namespace other than the host's {host}"))
        .shown(namespace.trim())
        .hint(hint)
        .holds(namespace.trim() != host);
    claim("PID 1 (`child`) is in the container's network namespace too: readlink /proc/1/ns/net inside")
        .expected(format!("a network namespace other than the host's {host}"))
        .shown(pid1_namespace.trim())
        .hint(
            "make the network namespace with the others, in `run` (not for the command alone): \
             PID 1 in the host's namespace can be joined (nsenter --net=/proc/1/ns/net) back to \
             the host's network",
        )
        .holds(pid1_namespace.trim() != host);
    let interfaces: Vec<&str> = interfaces.split_whitespace().collect();
    claim("the interfaces inside (/proc/net/dev)")
        .expected("lo only")
        .shown(interfaces.join(" "))
        .hint(hint)
        .holds(interfaces == ["lo"]);
}

harness::tests!(
    cgroup_namespace,
    memory_max,
    cpu_max,
    lock_capabilities,
    lock_user_namespace,
    lock_masked_paths,
    lock_seccomp,
    lock_network
);
