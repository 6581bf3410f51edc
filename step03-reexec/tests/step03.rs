//! Step 3 re-executes itself as `child` inside the new UTS namespace, which sets
//! the hostname before the command starts.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step03-reexec"))
}

#[test]
fn hostname_is_container_from_the_start() {
    let host = nix::unistd::gethostname().unwrap_or_default();
    assert_eq!(step().hostname(), "container");
    assert_eq!(nix::unistd::gethostname().unwrap_or_default(), host, "the host's hostname changed");
}

#[test]
fn only_the_uts_namespace_is_new() {
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn arguments_pass_through_the_child_untouched() {
    step().assert_arguments_pass_through();
}

#[test]
fn exit_codes_pass_through_the_child() {
    step().assert_exit_codes();
}
