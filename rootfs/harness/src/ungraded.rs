//! Not graded: what several steps check of this course's own program (their
//! tests/ours.rs), and the checks their chapters' exercises share
//! (tests/exercises.rs), in the same format as the graded checks.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::StepProgram;
use crate::fixtures::ScratchRoot;
use crate::kernel::hostname::{current_hostname, host_hostname};
use crate::kernel::namespaces::namespace_table;
use crate::kernel::processes::{listed_pids, own_files};
use crate::report::claim;
use crate::running::Output;
use crate::timeouts::{poll_until, scaled};

/// This course's own program: what it isolates, its `--rootfs` flag and its default
/// root filesystem (steps 5 to 7), and the files it holds.
impl StepProgram {
    /// Whether `ps` inside a container lists this test process: the host's processes.
    pub fn sees_host_processes(&self) -> bool {
        listed_pids(&self.sh("ps -o pid").stdout).contains(&(std::process::id() as i32))
    }

    /// The runtime and the container's PID 1 hold no file of the runtime's own open:
    /// only stdin, stdout, stderr, and what this test process passed down to them
    /// (cargo's jobserver pipe, for one: these steps pass inherited files on).
    pub fn assert_only_stdio_open(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        // std's spawn() holds a socket until the new program has started: it may
        // still be open when the command has printed "ready". Wait for it to close.
        for pid in [running.pid(), running.container_init()] {
            poll_until(scaled(Duration::from_secs(2)), || own_files(pid).is_empty());
            assert_eq!(own_files(pid), Vec::<String>::new(), "files process {pid} opened itself");
        }
        running.finish();
    }

    /// `run --rootfs DIR /bin/busybox cat /marker`, with no `CONTAINER_ROOTFS`: the
    /// flag alone names the root filesystem, a scratch one that is not the default.
    pub fn assert_rootfs_flag_picks_the_root_filesystem(&self) {
        let scratch = ScratchRoot::copy_of_the_course_tree();
        let root = scratch.path().display().to_string();
        let out = self.clone().without_rootfs_env().run(&[
            "--rootfs",
            &root,
            "/bin/busybox",
            "cat",
            "/marker",
        ]);
        claim("`run --rootfs DIR` runs the command in the root filesystem DIR")
            .expected(format!("`cat /marker` inside prints {}", scratch.marker().trim()))
            .program(&out)
            .hint("read the root filesystem's path from --rootfs when it is given")
            .holds(out.code == 0 && out.stdout == scratch.marker());
    }

    /// With neither `CONTAINER_ROOTFS` nor `--rootfs`, `run ARGS...` runs in the
    /// course's own tree (built on first use), where `hostname` prints `container`.
    pub fn assert_courses_tree_by_default(&self, args: &[&str]) {
        let out = self.clone().without_rootfs_env().run(args);
        claim(format!(
            "with no root filesystem named, `run {}` runs in the course's",
            args.join(" ")
        ))
        .expected("exit code 0, and `container` on stdout")
        .program(&out)
        .hint(
            "without CONTAINER_ROOTFS and --rootfs, use the course's root filesystem \
             (rootfs::ensure builds it on first use)",
        )
        .holds((out.code, out.stdout.as_str()) == (0, "container\n"));
    }
}

/// The host's hostname is what it was before this test process started any
/// container.
#[track_caller]
pub fn assert_host_hostname_kept() {
    let now = current_hostname();
    claim("the host's hostname is left alone")
        .expected(host_hostname())
        .shown(&now)
        .hint("set the hostname in the container's UTS namespace: after unshare(CLONE_NEWUTS)")
        .holds(now == host_hostname());
}

/// Fail with a hint when `run` rejected an option it does not have yet (exit code
/// 2, clap's, with the option named on stderr): an exercise's check before its own.
#[track_caller]
pub fn assert_option_accepted(out: &Output, option: &str) {
    claim(format!("`run` accepts {option}"))
        .expected(format!("{option} taken as an option of `run`"))
        .program(out)
        .hint(
            "add the option to `Target`, and pass it on from `run` to `child` if the child \
             needs it",
        )
        .holds(!(out.code == 2 && out.stderr.contains(option)));
}

/// The exercises of steps 2 and 3 (a hostname option, one more namespace), whose
/// solutions differ between the steps: `hint` says where this step's goes.
impl StepProgram {
    /// `run --hostname NAME busybox hostname` prints NAME and exits 0, and the host
    /// keeps its own hostname.
    #[track_caller]
    pub fn assert_hostname_flag(&self, hint: &str) {
        let name = &format!("exercise-{}", std::process::id());
        let out = self.run(&["--hostname", name, self.busybox.as_str(), "hostname"]);
        claim(format!("`run --hostname {name} hostname` prints {name}"))
            .expected(format!("exit code 0, and `{name}` on stdout"))
            .program(&out)
            .hint(hint)
            .holds(out.code == 0 && out.stdout.trim() == name);
        assert_host_hostname_kept();
    }

    /// Without `--hostname`, `hostname` inside prints `expected`.
    #[track_caller]
    pub fn assert_hostname_without_the_option(&self, expected: &str, hint: &str) {
        let out = self.run(&[self.busybox.as_str(), "hostname"]);
        claim("without --hostname, `hostname` inside prints the default")
            .expected(format!("exit code 0, and `{expected}` on stdout"))
            .program(&out)
            .hint(hint)
            .holds(out.code == 0 && out.stdout.trim() == expected);
    }

    /// `run OPTION WRONG busybox echo ran`, where WRONG is none of the option's
    /// `values`, fails without running the command.
    #[track_caller]
    pub fn assert_option_value_refused(&self, option: &str, wrong: &str, values: &str) {
        let out = self.run(&[option, wrong, self.busybox.as_str(), "echo", "ran"]);
        claim(format!("`run {option} {wrong}` is refused: `{wrong}` is none of {values}"))
            .expected("a non-zero exit code, and the command not run")
            .program(&out)
            .hint(
                "a clap::ValueEnum takes only its values: any other makes clap print the ones it \
                 takes and exit with code 2 (a typo must not quietly pick the default)",
            )
            .holds(out.code != 0 && !out.stdout.contains("ran"));
    }

    /// With `options`, the command gets the environment `run` was given, and no
    /// variable more: what `run` hands to `child` in the environment stays between them.
    #[track_caller]
    pub fn assert_no_variable_added_with(&self, options: &[&str], hint: &str) {
        let mut args = options.to_vec();
        args.extend([self.busybox.as_str(), "cat", "/proc/self/environ"]);
        let out = self.run(&args);
        let mut given: BTreeSet<String> =
            std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned()).collect();
        given.insert(crate::ROOTFS_VAR.to_owned());
        let added: Vec<&str> = out
            .stdout
            .split('\0')
            .filter_map(|entry| Some(entry.split_once('=')?.0))
            .filter(|name| !given.contains(*name))
            .collect();
        claim(format!(
            "with `run {}`, the command's environment (/proc/self/environ) is the one `run` was \
             given",
            options.join(" ")
        ))
        .expected("exit code 0, and no variable added")
        .program(&out)
        .shown(format!("variables added: {added:?}"))
        .hint(hint)
        .holds(out.code == 0 && added.is_empty());
    }

    /// In a container started as `run OPTIONS... busybox sh -c SCRIPT`, the
    /// namespaces of exactly these `kinds` are new, and every other is the host's.
    #[track_caller]
    pub fn assert_exactly_these_namespaces_new(
        &self,
        options: &[&str],
        kinds: &[&str],
        hint: &str,
    ) {
        let (out, table) = self.namespaces_with(options);
        let run = match options {
            [] => "`run` and no option".to_owned(),
            _ => format!("`run {}`", options.join(" ")),
        };
        claim(format!("with {run}, only the {} namespaces are new", kinds.join(" and ")))
        .expected(format!(
            "exit code 0, and for each namespace, the container's compared with the host's:\n{}",
            namespace_table(kinds)
        ))
        .program(&out)
        .shown(format!("for each namespace, the container's compared with the host's:\n{table}"))
        .hint(hint)
        .holds(out.code == 0 && table == namespace_table(kinds));
    }
}
