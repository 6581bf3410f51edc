//! Step 1 isolates nothing: the command sees the host's hostname, processes,
//! files and namespaces.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step01-exec"))
}

#[test]
fn hostname_is_the_hosts() {
    let host = nix::unistd::gethostname().unwrap_or_default();
    assert_eq!(step().hostname(), host.to_string_lossy());
}

#[test]
fn ps_lists_the_hosts_processes() {
    assert!(step().sees_host_processes());
}

#[test]
fn files_are_the_hosts() {
    let mut host: Vec<String> = std::fs::read_dir("/")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    host.sort();
    let inside = step().sh("ls -1A /").stdout;
    assert_eq!(inside.lines().collect::<Vec<_>>(), host);
}

#[test]
fn every_namespace_is_the_hosts() {
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn exit_codes_follow_docker() {
    step().assert_exit_codes();
}

#[test]
fn arguments_pass_through_untouched() {
    step().assert_arguments_pass_through();
}
