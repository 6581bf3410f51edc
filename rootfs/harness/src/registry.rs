//! The graded checks, listed once: each with its step, its name, what it checks in
//! plain words, and its function (a method of [`StepProgram`], in `checks/stepNN.rs`, next
//! to its hints). Step N's graded tests are the checks of steps 1 to N
//! ([`graded_tests!`](crate::graded_tests)); those its own step adds are named
//! `feature_…` there (from step 2 on: they fail against the step before), the others
//! keep their name. `cargo course checks N` lists them.

use std::process::ExitCode;

use crate::fixtures::serial;
use crate::runner::{self, Test};
use crate::step::StepProgram;

/// One graded check.
pub struct Check {
    /// The step that adds it.
    pub step: usize,
    /// Whether it checks that step's feature (false: a check the step brings that the
    /// step before passes too, e.g. step 5's cleaning up).
    pub feature: bool,
    /// Its name, what it proves (`ps_shows_only_the_container`).
    pub name: &'static str,
    /// What the kernel must show, in plain words.
    pub about: &'static str,
    /// The check itself, run on the step under test.
    pub run: fn(&StepProgram),
}

/// Every graded check, by the step that adds it.
pub static CHECKS: &[Check] = &[
    Check {
        step: 1,
        feature: true,
        name: "the_command_is_wired_to_stdin_stdout_and_stderr",
        about: "the command reads the container's stdin and writes to its stdout and stderr as \
                it runs; the program's own messages go to stderr",
        run: |step| step.assert_stdio_wired(),
    },
    Check {
        step: 1,
        feature: true,
        name: "exit_codes_follow_docker",
        about: "the container exits with its command's status: 127 not found, 126 cannot run, \
                128+n killed by signal n",
        run: |step| step.assert_exit_codes(),
    },
    Check {
        step: 1,
        feature: true,
        name: "arguments_pass_through_untouched",
        about: "the command's arguments arrive as given, after CMD as its argv[0]",
        run: |step| step.assert_arguments_pass_through(),
    },
    Check {
        step: 2,
        feature: true,
        name: "uts_namespace_is_new",
        about: "/proc/self/ns/uts inside differs from the host's",
        run: |step| step.assert_namespaces_new(&["uts"]),
    },
    Check {
        step: 2,
        feature: true,
        name: "hostname_changed_inside_stays_inside",
        about: "`hostname changed-inside` inside leaves the host's hostname alone",
        run: |step| step.assert_hostname_change_stays_inside(),
    },
    Check {
        step: 3,
        feature: true,
        name: "hostname_is_container_from_the_start",
        about: "the hostname is `container` when the command starts, however `run` was \
                started (argv[0] a bare name too)",
        run: |step| step.assert_hostname_is_container(),
    },
    Check {
        step: 4,
        feature: true,
        name: "pid_namespace_is_new",
        about: "/proc/self/ns/pid inside differs from the host's",
        run: |step| step.assert_namespaces_new(&["pid"]),
    },
    Check {
        step: 4,
        feature: true,
        name: "the_command_is_a_child_of_pid_1",
        about: "`echo $PPID` prints 1: the command is a child of PID 1, your process",
        run: |step| step.assert_command_is_a_child_of_pid_1(),
    },
    Check {
        step: 4,
        feature: true,
        name: "pid_1_reaps_orphans",
        about: "PID 1 leaves no orphan <defunct> once it has exited, eight that end at once \
                included",
        run: |step| step.assert_orphans_reaped(),
    },
    Check {
        step: 4,
        feature: true,
        name: "signals_reach_the_command",
        about: "SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to PID 1 or to your program reach the \
                command",
        run: |step| step.assert_signals_forwarded(),
    },
    Check {
        step: 4,
        feature: true,
        name: "the_container_dies_with_its_runtime",
        about: "SIGKILL to your program ends the whole container, even a command that ignores \
                SIGTERM",
        run: |step| step.assert_container_dies_with_its_runtime(),
    },
    Check {
        step: 5,
        feature: true,
        name: "ls_shows_the_busybox_tree",
        about: "`ls /` inside lists the busybox tree",
        run: |step| step.assert_root_is_the_rootfs(),
    },
    Check {
        step: 5,
        feature: true,
        name: "ps_shows_only_the_container",
        about: "`ps` inside lists exactly the container's processes",
        run: |step| step.assert_ps_shows_only_the_container(),
    },
    Check {
        step: 5,
        feature: true,
        name: "the_root_is_the_directory_container_rootfs_names",
        about: "the container's `/` is whatever directory CONTAINER_ROOTFS names",
        run: |step| step.assert_rootfs_from_the_environment(),
    },
    Check {
        step: 5,
        feature: true,
        name: "the_command_starts_in_the_new_root",
        about: "the command's working directory is `/` of the new root, and `..` of it is `/`",
        run: |step| step.assert_working_directory_is_the_root(),
    },
    Check {
        step: 5,
        feature: false,
        name: "nothing_is_left_mounted_however_the_command_ends",
        about: "nothing is left mounted after a command that failed, was not found, could not \
                run, was killed, or left a job holding /proc open",
        run: |step| step.assert_nothing_left_mounted(),
    },
    Check {
        step: 5,
        feature: false,
        name: "two_hundred_containers_in_a_row_leave_nothing_behind",
        about: "200 containers in a row leave the host's mount table and cgroups as they were",
        run: |step| step.assert_nothing_accumulates(200),
    },
    Check {
        step: 5,
        feature: false,
        name: "the_command_holds_no_file_of_the_runtime",
        about: "the command holds no file your program opened",
        run: |step| step.assert_command_holds_only_stdio(),
    },
    Check {
        step: 6,
        feature: true,
        name: "mount_namespace_is_new",
        about: "/proc/self/ns/mnt inside differs from the host's",
        run: |step| step.assert_namespaces_new(&["mnt"]),
    },
    Check {
        step: 6,
        feature: true,
        name: "proc_mount_never_reaches_this_host",
        about: "the container's proc mount never shows in the host's mount table",
        run: |step| step.assert_mounts_stay_inside(),
    },
    Check {
        step: 6,
        feature: true,
        name: "proc_mount_never_reaches_a_shared_host",
        about: "nor in that of a host whose `/` is shared (as on systemd machines), with the root \
                filesystem a plain directory or a mount of its own",
        run: |step| step.assert_mounts_stay_inside_a_shared_host(),
    },
    Check {
        step: 7,
        feature: true,
        name: "the_kernel_reports_the_limit_and_the_cgroup_is_removed_after",
        about: "the container's PID 1 is in a cgroup of its own whose pids.max is 20, removed \
                when the container ends",
        run: |step| step.assert_pids_limit(20),
    },
    Check {
        step: 7,
        feature: true,
        name: "a_shell_starts_at_most_18_of_40_sleeps",
        about: "a shell inside starts at most 18 of 40 background sleeps",
        run: |step| step.assert_sleeps_held_at_limit(),
    },
    Check {
        step: 7,
        feature: true,
        name: "a_fork_bomb_is_held_at_the_limit_and_the_host_stays_usable",
        about: "a fork bomb is held at 20 processes while the host can still start processes",
        run: |step| step.assert_fork_bomb_held(20),
    },
    Check {
        step: 7,
        feature: true,
        name: "the_cgroup_is_removed_after_a_signal_too",
        about: "the cgroup is removed after a SIGTERM to your program too",
        run: |step| step.assert_cgroup_removed_after_a_signal(),
    },
    Check {
        step: 7,
        feature: true,
        name: "each_container_has_a_cgroup_of_its_own",
        about: "two containers at once have two cgroups",
        run: |step| step.assert_each_container_has_its_own_cgroup(),
    },
];

/// The checks step `number` is graded by: its own and every earlier step's, its
/// own first.
pub fn checks_of(number: usize) -> Vec<&'static Check> {
    let own = CHECKS.iter().filter(|check| check.step == number);
    let earlier = CHECKS.iter().filter(|check| check.step < number);
    own.chain(earlier).collect()
}

impl Check {
    /// Its test's name in step `number`'s graded tests: `feature_…` for what the step
    /// adds (from step 2 on), its own name otherwise.
    pub fn test_name(&self, number: usize) -> String {
        if self.step == number && self.feature && number > 1 {
            format!("feature_{}", self.name)
        } else {
            self.name.to_string()
        }
    }
}

/// How a step's graded tests run: at once, or one at a time (step 5: without a mount
/// namespace, a second container's proc would cover the first one's /proc).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    AtOnce,
    OneAtATime,
}

/// The `main` of a step's graded tests: every check of [`checks_of`] that step, on
/// its program (`default_bin`, or `CONTAINER_BIN`).
pub fn run_graded(package: &'static str, default_bin: &'static str, order: Order) -> ExitCode {
    let number = crate::workspace::step_number(package);
    let tests = checks_of(number).into_iter().map(|check| {
        let feature = check.step == number && check.feature;
        Test::new(check.test_name(number), feature, move || {
            let _serial = (order == Order::OneAtATime).then(serial);
            (check.run)(&StepProgram::of(package, default_bin));
        })
    });
    runner::main(tests.collect())
}

/// A step's graded tests, `tests/stepNN.rs`: `harness::graded_tests!();`, or
/// `harness::graded_tests!(one_at_a_time);`.
#[macro_export]
macro_rules! graded_tests {
    () => {
        $crate::graded_tests!(@ $crate::registry::Order::AtOnce);
    };
    (one_at_a_time) => {
        $crate::graded_tests!(@ $crate::registry::Order::OneAtATime);
    };
    (@ $order:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::registry::run_graded(
                env!("CARGO_PKG_NAME"),
                env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
                $order,
            )
        }
    };
}

/// The `main` of a test file run by the course's runner: `harness::tests!(a, b);`
/// runs the functions `a` and `b` as tests named after them (a step's exercises).
#[macro_export]
macro_rules! tests {
    ($($name:ident),+ $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            $crate::runner::main(vec![
                $($crate::runner::Test::new(stringify!($name), false, $name)),+
            ])
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_written_once() {
        let mut names: Vec<&str> = CHECKS.iter().map(|check| check.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
    }

    #[test]
    fn a_step_runs_its_own_checks_first_then_the_earlier_ones() {
        let names: Vec<String> = checks_of(3).iter().map(|check| check.test_name(3)).collect();
        assert_eq!(names[0], "feature_hostname_is_container_from_the_start");
        assert_eq!(names.len(), 6);
        assert!(names.contains(&"uts_namespace_is_new".to_string()));
        assert_eq!(checks_of(7).len(), CHECKS.len());
    }
}
