//! Step 2 adds a UTS namespace: the hostname can change inside without changing
//! the host's, but it starts as a copy of the host's.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step02-uts"))
}

fn host_hostname() -> String {
    nix::unistd::gethostname().unwrap_or_default().to_string_lossy().into_owned()
}

#[test]
fn hostname_starts_as_the_hosts() {
    assert_eq!(step().hostname(), host_hostname());
}

#[test]
fn hostname_changed_inside_stays_inside() {
    let before = host_hostname();
    let inside = step().sh("hostname changed-inside && hostname").stdout;
    assert_eq!(inside.trim(), "changed-inside");
    assert_eq!(host_hostname(), before, "the host's hostname changed");
}

#[test]
fn ps_still_lists_the_hosts_processes() {
    assert!(step().sees_host_processes());
}

#[test]
fn only_the_uts_namespace_is_new() {
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn exit_codes_follow_docker() {
    step().assert_exit_codes();
}
