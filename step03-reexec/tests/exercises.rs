//! The checks of step 3's exercises (step03-reexec/exercises/README.md). Each fails
//! on the step as it is, and passes once the exercise is solved.
//!
//!     cargo test -p step03-reexec --test exercises -- NAME

use std::fs;

use rootfs::harness::{NAMESPACES, Step, busybox};

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step03-reexec"))
}

fn host_hostname() -> String {
    nix::unistd::gethostname().unwrap_or_default().to_string_lossy().into_owned()
}

#[test]
fn hostname_flag() {
    let before = host_hostname();
    let name = format!("exercise-{}", std::process::id());
    let out = step().run(&["--hostname", &name, &busybox(), "hostname"]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, name.as_str()),
        "`run --hostname {name} hostname` should print {name} and exit 0; it printed and \
         exited as on the right.\nstderr: {}\nhint: `run` reads the option, `child` sets \
         the hostname: pass it on the child's command line, `child --hostname NAME CMD...`",
        out.stderr.trim()
    );
    let out = step().run(&[&busybox(), "hostname"]);
    assert_eq!(
        out.stdout.trim(),
        "container",
        "without --hostname the hostname should stay `container`\nstderr: {}",
        out.stderr.trim()
    );
    assert_eq!(host_hostname(), before, "the host's hostname changed");
}

/// For each kind of namespace, `host` or `new`: the container's (printed by
/// `readlink /proc/self/ns/KIND` inside) compared with this test process's.
fn namespace_table(printed: &str) -> String {
    let mut table = String::new();
    for kind in NAMESPACES {
        let ours = fs::read_link(format!("/proc/self/ns/{kind}")).unwrap_or_default();
        let ours = ours.to_string_lossy();
        let theirs = printed.lines().find(|line| line.starts_with(&format!("{kind}:")));
        let verdict = match theirs {
            None => "not printed",
            Some(theirs) if theirs == ours => "host",
            Some(_) => "new",
        };
        table.push_str(&format!("{kind}: {verdict}\n"));
    }
    table
}

/// The interface names in a /proc/net/dev listing (after its two header lines).
fn interfaces(dev: &str) -> Vec<String> {
    let names = dev.lines().skip(2).filter_map(|line| line.split_once(':'));
    names.map(|(name, _)| name.trim().to_owned()).collect()
}

#[test]
fn network_none() {
    let out = step().run(&["--network", "none", &busybox(), "cat", "/proc/net/dev"]);
    assert_eq!(
        out.code,
        0,
        "`run --network none CMD` failed with exit code {}\nstderr: {}\nhint: a value enum \
         option `--network host|none`",
        out.code,
        out.stderr.trim()
    );
    let host = interfaces(&fs::read_to_string("/proc/net/dev").unwrap_or_default());
    assert_eq!(
        interfaces(&out.stdout),
        ["lo"],
        "with --network none the container should see only the loopback interface in \
         /proc/net/dev (the host has {host:?})\nhint: add CloneFlags::CLONE_NEWNET to the \
         unshare call in `run`"
    );

    let script = format!("for n in {}; do readlink /proc/self/ns/$n; done", NAMESPACES.join(" "));
    let out = step().run(&["--network", "none", &busybox(), "sh", "-c", &script]);
    let expected =
        "cgroup: host\nipc: host\nmnt: host\nnet: new\npid: host\nuser: host\nuts: new\n";
    assert_eq!(
        namespace_table(&out.stdout),
        expected,
        "with --network none, the container's namespaces (left) should be the host's but for \
         net and uts (right)"
    );
}
