//! The verdicts, from facts made up for each case.

use super::*;

fn ok(name: &str) -> Outcome {
    Outcome { name: name.into(), ok: true, errno: None, detail: "fine".into() }
}

fn no(name: &str, errno: &str) -> Outcome {
    Outcome {
        name: name.into(),
        ok: false,
        errno: Some(errno.into()),
        detail: format!("refused: {errno}"),
    }
}

fn every_check_passed() -> Vec<Outcome> {
    [
        probe::CGROUP_FIND,
        probe::CGROUP_ENABLE,
        probe::CGROUP_MKDIR,
        probe::CGROUP_LIMIT,
        probe::CGROUP_JOIN,
        probe::CGROUP_REMOVE,
        probe::UTS,
        probe::HOSTNAME,
        probe::MOUNT,
        probe::PRIVATE_ROOT,
        probe::CHROOT,
        probe::PID,
        probe::PID1,
        probe::PROC,
        probe::USERNS,
    ]
    .into_iter()
    .map(ok)
    .collect()
}

/// A systemd laptop with sudo, cgroup v2 and shared `/`, where everything works.
fn laptop() -> Facts {
    Facts {
        access: Access::Sudo,
        user: "ada".into(),
        container: None,
        packages: Packages::Apt,
        arch: "x86_64".into(),
        self_exe: true,
        layout: Layout::V2,
        pids: Some(PidsHierarchy { dir: "/sys/fs/cgroup".into(), v2: true, read_only: false }),
        crowded: None,
        root_propagation: Some(Propagation::Shared),
        course_mount: Some(("/".into(), vec!["rw".into(), "relatime".into()])),
        busybox: Busybox::Apt { cached: false, known: true },
        util_linux_missing: vec![],
        userns: UsernsSettings {
            unprivileged_clone: None,
            apparmor_restrict: None,
            max_user_namespaces: Some(15000),
        },
        probes: Some(every_check_passed()),
    }
}

fn with_probe(mut facts: Facts, replaced: Outcome) -> Facts {
    let probes = facts.probes.get_or_insert_with(Vec::new);
    probes.retain(|o| o.name != replaced.name);
    probes.push(replaced);
    facts
}

/// The laptop, where the check `name` did not report.
fn without_probe(name: &str) -> Facts {
    let mut facts = laptop();
    facts.probes.get_or_insert_with(Vec::new).retain(|o| o.name != name);
    facts
}

/// The first step that cannot run, and its first problem.
fn first_failure(facts: &Facts) -> Option<(&'static str, Problem)> {
    verdicts(facts).into_iter().find_map(|v| v.problems.first().cloned().map(|p| (v.step, p)))
}

#[test]
fn all_seven_run_where_every_check_passed() {
    assert_eq!(first_failure(&laptop()), None);
}

#[test]
fn a_password_without_a_terminal_stops_every_step() {
    let facts =
        Facts { access: Access::SudoPassword { terminal: false }, probes: None, ..laptop() };
    let verdicts = verdicts(&facts);
    assert!(verdicts.iter().all(|v| v.problems.len() == 1), "one problem each: {verdicts:?}");
    assert!(verdicts[0].problems[0].fix.contains("NOPASSWD"));
}

#[test]
fn a_password_with_a_terminal_is_fine() {
    let facts = Facts { access: Access::SudoPassword { terminal: true }, ..laptop() };
    assert_eq!(first_failure(&facts), None);
}

#[test]
fn no_sudo_on_debian_says_how_to_get_it() {
    let facts = Facts { access: Access::NoSudo, probes: None, ..laptop() };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step01-exec");
    assert_eq!(
        problem.fix,
        "su -c 'apt-get install sudo && adduser ada sudo', then log out and in"
    );
}

#[test]
fn a_refused_uts_namespace_in_docker_asks_for_privileged() {
    let facts = Facts { container: Some(Container::Docker), ..laptop() };
    let facts = with_probe(facts, no(probe::UTS, "EPERM"));
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step02-uts");
    assert!(problem.fix.contains("docker run --privileged"), "{problem:?}");
}

#[test]
fn a_namespace_limit_names_its_sysctl() {
    let facts = with_probe(laptop(), no(probe::PID, "ENOSPC"));
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step04-pid");
    assert_eq!(problem.fix, "sudo sysctl -w user.max_pid_namespaces=10000");
}

#[test]
fn a_privileged_container_on_v2_stops_only_step_7_and_names_the_leaf_cgroup() {
    let facts = Facts { container: Some(Container::Docker), crowded: Some(3), ..laptop() };
    let facts = with_probe(facts, no(probe::CGROUP_CROWDED, ""));
    let verdicts = verdicts(&facts);
    assert!(verdicts[..6].iter().all(|v| v.problems.is_empty()), "{verdicts:?}");
    let problem = &verdicts[6].problems[0];
    assert!(problem.why.contains("holds 3 processes"), "{problem:?}");
    assert_eq!(
        problem.fix,
        "move those processes into a leaf cgroup: sudo sh -c 'mkdir -p /sys/fs/cgroup/init && xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs'"
    );
}

#[test]
fn the_crowded_cgroup_is_seen_without_root_too() {
    let facts = Facts {
        access: Access::SudoPassword { terminal: true },
        probes: None,
        crowded: Some(2),
        ..laptop()
    };
    let verdicts = verdicts(&facts);
    assert!(verdicts[6].problems[0].fix.contains("leaf cgroup"));
}

#[test]
fn the_crowded_rule_is_v2_only() {
    let pids =
        Some(PidsHierarchy { dir: "/sys/fs/cgroup/pids".into(), v2: false, read_only: false });
    let facts = Facts { crowded: Some(2), pids, layout: Layout::Hybrid, ..laptop() };
    assert_eq!(first_failure(&facts), None);
}

#[test]
fn joining_refused_with_eopnotsupp_names_the_leaf_cgroup() {
    let facts = with_probe(laptop(), no(probe::CGROUP_JOIN, "EOPNOTSUPP"));
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step07-cgroups");
    assert!(problem.fix.contains("/sys/fs/cgroup/init"), "{problem:?}");
}

#[test]
fn a_read_only_cgroup_tree_in_docker_asks_for_privileged() {
    let pids = Some(PidsHierarchy { dir: "/sys/fs/cgroup".into(), v2: true, read_only: true });
    let facts = Facts { pids, container: Some(Container::Docker), ..laptop() };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step07-cgroups");
    assert!(problem.fix.contains("--privileged"));
}

#[test]
fn no_pids_hierarchy_on_v1_says_how_to_mount_it() {
    let facts = Facts { pids: None, layout: Layout::V1, ..laptop() };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step07-cgroups");
    assert!(problem.fix.contains("mount -t cgroup -o pids none /sys/fs/cgroup/pids"));
}

#[test]
fn a_cgroup_check_that_never_joined_is_not_a_pass() {
    let facts = without_probe(probe::CGROUP_JOIN);
    assert_eq!(first_failure(&facts).map(|(step, _)| step), Some("step07-cgroups"));
}

#[test]
fn empty_apt_lists_stop_step_5_on() {
    let facts = Facts { busybox: Busybox::Apt { cached: false, known: false }, ..laptop() };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step05-chroot-proc");
    assert_eq!(problem.fix, "sudo apt-get update");
}

#[test]
fn a_built_tree_needs_no_busybox() {
    let facts =
        Facts { busybox: Busybox::Built("/c/rootfs/fs".into()), arch: "armv7l".into(), ..laptop() };
    assert_eq!(first_failure(&facts), None);
}

#[test]
fn no_busybox_on_fedora_names_dnf() {
    let facts = Facts { busybox: Busybox::Missing, packages: Packages::Dnf, ..laptop() };
    assert_eq!(first_failure(&facts).map(|(_, p)| p.fix), Some("sudo dnf install busybox".into()));
}

#[test]
fn a_noexec_home_stops_step_5_on() {
    let facts = Facts {
        course_mount: Some(("/home".into(), vec!["rw".into(), "noexec".into()])),
        ..laptop()
    };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step05-chroot-proc");
    assert!(problem.fix.starts_with("sudo mount -o remount,exec /home"));
}

#[test]
fn missing_util_linux_stops_the_tests_of_step_5_on() {
    let facts =
        Facts { util_linux_missing: vec!["nsenter".into()], packages: Packages::Apk, ..laptop() };
    let (step, problem) = first_failure(&facts).expect("a failure");
    assert_eq!(step, "step05-chroot-proc");
    assert_eq!(problem.fix, "sudo apk add util-linux-misc");
}

#[test]
fn a_chroot_without_a_root_mount_stops_step_6() {
    let facts = Facts { root_propagation: None, ..laptop() };
    let facts = with_probe(facts, no(probe::PRIVATE_ROOT, "EINVAL"));
    let verdicts = verdicts(&facts);
    assert!(verdicts[4].problems.is_empty(), "{:?}", verdicts[4]);
    assert!(verdicts[5].problems[0].why.contains("nothing is mounted on /"));
    assert_eq!(verdicts[5].problems.len(), 1, "the same problem once: {:?}", verdicts[5]);
}

#[test]
fn a_missing_check_is_reported_not_passed() {
    let facts = without_probe(probe::CHROOT);
    assert_eq!(first_failure(&facts).map(|(step, _)| step), Some("step05-chroot-proc"));
}

#[test]
fn root_checks_that_reported_nothing_stop_every_step() {
    let facts = Facts { probes: Some(vec![]), ..laptop() };
    let verdicts = verdicts(&facts);
    assert!(verdicts.iter().all(|v| v.problems.len() == 1), "{verdicts:?}");
    assert!(verdicts[0].problems[0].fix.contains("sudo -v"));
}

#[test]
fn as_root_fixes_need_no_sudo() {
    let facts = Facts {
        access: Access::Root,
        busybox: Busybox::Apt { cached: false, known: false },
        ..laptop()
    };
    assert_eq!(first_failure(&facts).map(|(_, p)| p.fix), Some("apt-get update".into()));
}

#[test]
fn rootless_is_ok_where_nobody_made_and_used_a_user_namespace() {
    assert_eq!(rootless(&laptop()), None);
    // The try decides: a setting that looks wrong does not overrule it.
    let facts = Facts {
        userns: UsernsSettings { apparmor_restrict: Some(1), ..laptop().userns },
        ..laptop()
    };
    assert_eq!(rootless(&facts), None);
}

#[test]
fn rootless_on_debian_with_unprivileged_userns_clone_off_says_the_sysctl() {
    let mut facts = with_probe(laptop(), no(probe::USERNS, "EPERM"));
    facts.userns.unprivileged_clone = Some(0);
    let problem = rootless(&facts).expect("a problem");
    assert!(problem.why.starts_with("kernel.unprivileged_userns_clone is 0"), "{}", problem.why);
    assert_eq!(problem.fix, "sudo sysctl -w kernel.unprivileged_userns_clone=1");
    // As root, the fix is the same without sudo; and without the try (no root),
    // the setting alone says it.
    let facts = Facts { access: Access::Root, probes: None, ..facts };
    assert_eq!(
        rootless(&facts).expect("a problem").fix,
        "sysctl -w kernel.unprivileged_userns_clone=1"
    );
}

#[test]
fn rootless_on_ubuntu_24_04_names_apparmor_and_its_fixes() {
    let mut facts = with_probe(laptop(), no(probe::USERNS, "EPERM"));
    facts.userns.apparmor_restrict = Some(1);
    let problem = rootless(&facts).expect("a problem");
    assert!(
        problem.why.contains("kernel.apparmor_restrict_unprivileged_userns is 1"),
        "{}",
        problem.why
    );
    assert!(problem.fix.contains("AppArmor profile"), "{}", problem.fix);
    assert!(problem.fix.ends_with("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
}

#[test]
fn rootless_with_no_user_namespaces_at_all_says_set_the_maximum() {
    let mut facts = without_probe(probe::USERNS);
    facts.userns.max_user_namespaces = Some(0);
    let problem = rootless(&facts).expect("a problem");
    assert!(problem.why.starts_with("user.max_user_namespaces is 0"), "{}", problem.why);
    assert_eq!(problem.fix, "sudo sysctl -w user.max_user_namespaces=15000");
}

#[test]
fn rootless_refused_for_another_reason_says_what_the_kernel_said() {
    let facts = with_probe(laptop(), no(probe::USERNS, "ENOSPC"));
    let problem = rootless(&facts).expect("a problem");
    assert!(problem.why.contains("refused: ENOSPC"), "{}", problem.why);
    // Not tried, nothing against it: presumably fine.
    assert_eq!(rootless(&without_probe(probe::USERNS)), None);
}

#[test]
fn rootless_does_not_change_the_seven_steps() {
    let facts = with_probe(laptop(), no(probe::USERNS, "EPERM"));
    assert!(verdicts(&facts).iter().all(|v| v.problems.is_empty()));
}
