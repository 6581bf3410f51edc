//! The checks of step 3's exercises (step03-reexec/exercises/README.md). Each fails
//! on the step as it is, and passes once the exercise is solved.
//!
//!     cargo test -p step03-reexec --test exercises -- NAME

use std::fs;

use harness::{assert_host_hostname_kept, busybox, step};

fn hostname_flag() {
    step!().assert_hostname_flag(
        "`run` reads the option, `child` sets the hostname: pass it on the child's command \
         line, `child --hostname NAME CMD...`",
    );
    step!().assert_hostname_without_the_option(
        "container",
        "--hostname defaults to `container`: `child` sets it whether or not the option is given",
    );
    step!().assert_no_variable_added_with(
        &["--hostname", "web"],
        "if `run` hands the name to `child` in an environment variable, `child` removes it from \
         the command's environment (Command::env_remove): the command inherits it otherwise",
    );
    assert_host_hostname_kept();
}

/// The interface names in a /proc/net/dev listing (after its two header lines).
fn interfaces(dev: &str) -> Vec<String> {
    let names = dev.lines().skip(2).filter_map(|line| line.split_once(':'));
    names.map(|(name, _)| name.trim().to_owned()).collect()
}

fn network_none() {
    let out = step!().run(&["--network", "none", &busybox(), "cat", "/proc/net/dev"]);
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

    step!().assert_exactly_these_namespaces_new(
        &["--network", "none"],
        &["net", "uts"],
        "with --network none, only the network namespace is new besides the UTS one: \
         CloneFlags::CLONE_NEWNET joins the flags of the unshare call in `run`",
    );
    for options in [&["--network", "host"][..], &[]] {
        step!().assert_exactly_these_namespaces_new(
            options,
            &["uts"],
            "`--network host`, the default, keeps the host's network namespace: CLONE_NEWNET \
             only with `none`",
        );
    }
    step!().assert_option_value_refused("--network", "nne", "host, none");
}

harness::tests!(hostname_flag, network_none);
