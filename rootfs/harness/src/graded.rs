//! The graded-check table: the macros that turn the checks of [`crate::checks`]
//! into each step's `#[test]` functions.
//!
//! The graded checks each step carries over from the steps before it. Step N's tests
//! list its own checks (`feature_*`) one by one, then take the earlier steps' from
//! `graded_checks_up_to_step!(N - 1)`, so that each check is written once, and
//! runs it on the step under test ([`crate::step!`]). Statements after the step
//! number run first in every test (step 5: `let _serial = serial()`).

/// The graded checks of steps 1 to N, as `#[test]` functions named after what they
/// prove: `harness::graded_checks_up_to_step!(6);` in step 7's tests.
#[macro_export]
macro_rules! graded_checks_up_to_step {
    (1 $(, $setup:stmt)*) => {
        $crate::graded_checks!([$($setup),*]
            the_command_is_wired_to_stdin_stdout_and_stderr => assert_stdio_wired();
            exit_codes_follow_docker => assert_exit_codes();
            arguments_pass_through_untouched => assert_arguments_pass_through();
        );
    };
    (2 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(1 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            uts_namespace_is_new => assert_namespaces_new(&["uts"]);
            hostname_changed_inside_stays_inside => assert_hostname_change_stays_inside();
        );
    };
    (3 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(2 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            hostname_is_container => assert_hostname_is_container();
        );
    };
    (4 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(3 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            pid_namespace_is_new => assert_namespaces_new(&["pid"]);
            the_command_is_a_child_of_pid_1 => assert_command_is_a_child_of_pid_1();
            pid_1_reaps_orphans => assert_orphans_reaped();
            signals_reach_the_command => assert_signals_forwarded();
            the_container_dies_with_its_runtime => assert_container_dies_with_its_runtime();
        );
    };
    (5 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(4 $(, $setup)*);
        $crate::nothing_left_behind_checks!($($setup),*);
        $crate::graded_checks!([$($setup),*]
            ls_shows_the_busybox_tree => assert_root_is_the_rootfs();
            ps_shows_only_the_container => assert_ps_shows_only_the_container();
            the_root_is_the_directory_container_rootfs_names => assert_rootfs_from_the_environment();
        );
    };
    (6 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(5 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            mount_namespace_is_new => assert_namespaces_new(&["mnt"]);
            proc_mount_never_reaches_this_host => assert_mounts_stay_inside();
            proc_mount_never_reaches_a_shared_host => assert_mounts_stay_inside_a_shared_host();
        );
    };
}

/// The checks that a container with a root filesystem of its own leaves nothing
/// behind, from step 5 on (step 4's program passes them too: not `feature_*`).
#[macro_export]
macro_rules! nothing_left_behind_checks {
    ($($setup:stmt),*) => {
        $crate::graded_checks!([$($setup),*]
            nothing_is_left_mounted_after_a_failing_command => assert_nothing_left_mounted();
            two_hundred_containers_in_a_row_leave_nothing_behind => assert_nothing_accumulates(200);
            the_command_holds_no_file_of_the_runtime => assert_command_holds_only_stdio();
        );
    };
}

/// One `#[test]` function per `name => check(args);`, each running the statements
/// in `[...]` first, then `step!().check(args)` (the step under test: [`crate::step!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! graded_checks {
    ($setup:tt $($name:ident => $check:ident($($arg:expr),*);)+) => {
        $(
            #[test]
            fn $name() {
                $crate::graded_checks_setup!$setup;
                $crate::step!().$check($($arg),*);
            }
        )+
    };
}

/// The statements a step runs first in each carried-over check.
#[doc(hidden)]
#[macro_export]
macro_rules! graded_checks_setup {
    ($($setup:stmt),*) => { $($setup;)* };
}
