//! The checks of step 1's exercises (step01-exec/exercises/README.md). Each fails
//! on the step as it is, and passes once the exercise is solved.
//!
//!     cargo test -p step01-exec --test exercises -- NAME

use std::collections::BTreeSet;

use harness::{Output, ScratchDir, busybox, step};

/// The current directory of the command, as the kernel shows it: `run OPTIONS
/// busybox readlink /proc/self/cwd` (readlink is the command itself).
fn cwd_of_command(options: &[&str]) -> Output {
    let bb = busybox();
    let mut args: Vec<&str> = options.to_vec();
    args.extend([bb.as_str(), "readlink", "/proc/self/cwd"]);
    step!().run(&args)
}

fn workdir_flag() {
    let scratch = ScratchDir::new("exercise-workdir");
    let dir = scratch.path().display().to_string();
    for flag in ["--workdir", "-w"] {
        let out = cwd_of_command(&[flag, &dir]);
        assert_eq!(
            (out.code, out.stdout.trim()),
            (0, dir.as_str()),
            "`run {flag} {dir} CMD` should start CMD in {dir} and exit 0; CMD's current \
             directory (/proc/self/cwd) and run's exit code were the ones on the right.\n\
             stderr: {}\nhint: an option field in `Target`, and nix::unistd::chdir in `run` \
             before the command starts",
            out.stderr.trim()
        );
    }

    let here = std::env::current_dir().unwrap_or_default().display().to_string();
    let out = cwd_of_command(&[]);
    assert_eq!(
        out.stdout.trim(),
        here,
        "without --workdir, CMD should start in run's own current directory\nstderr: {}",
        out.stderr.trim()
    );

    let file = scratch.path().join("a-file");
    std::fs::write(&file, "")
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", file.display()));
    for (dir, what) in [(scratch.path().join("missing"), "no such directory"), (file, "a file")] {
        let dir = dir.display().to_string();
        let out = cwd_of_command(&["--workdir", &dir]);
        assert_eq!(
            out.code, 125,
            "`run --workdir {dir} CMD` ({what}): expected exit code 125 (the runtime failed, not \
             the command), got {}\nstdout: {}stderr: {}\nhint: change directory in `run` itself \
             and turn the error into a Failure with code 125; a failed spawn would say 127, or \
             126",
            out.code, out.stdout, out.stderr
        );
        assert_eq!(out.stdout, "", "CMD ran although {dir} is {what}");
        assert!(
            out.stderr.lines().count() == 1 && out.stderr.contains(&dir),
            "expected one line on stderr that names {dir}, got:\n{}",
            out.stderr
        );
    }
}

/// The variables a container command may get from a clean environment.
const KEPT: [&str; 3] = ["PATH", "HOME", "TERM"];

fn clean_environment() {
    // What this test process has (cargo sets CARGO_MANIFEST_DIR and others), and
    // `run` inherits from it: none of it but KEPT may reach the command.
    let ours: BTreeSet<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| !KEPT.contains(&name.as_str()))
        .collect();
    assert!(!ours.is_empty(), "this test needs a variable besides {KEPT:?} in its environment");

    // cat is the command: it prints the environment the kernel handed to it.
    let out = step!().run(&[busybox().as_str(), "cat", "/proc/self/environ"]);
    assert_eq!(out.code, 0, "the command failed: {out:?}");
    let inside: BTreeSet<String> = out
        .stdout
        .split(['\0', '\n'])
        .filter_map(|entry| Some(entry.split_once('=')?.0.to_owned()))
        .collect();
    let other: Vec<&String> = inside.iter().filter(|name| !KEPT.contains(&name.as_str())).collect();
    let from_caller = other.iter().filter(|name| ours.contains(**name)).count();
    assert!(
        other.is_empty(),
        "the command should get only {KEPT:?} in its environment; /proc/self/environ shows {} \
         more, {from_caller} of them from the caller's environment: {other:?}\nhint: \
         Command::env_clear, then Command::env for each variable to keep",
        other.len()
    );
    assert!(
        inside.contains("PATH"),
        "the command got no PATH, so it cannot find programs by name; it got {inside:?}\n\
         hint: after env_clear, set PATH with Command::env"
    );
}

harness::tests!(workdir_flag, clean_environment);
