//! The course's workspace, as this harness was built from it, and its steps.
//!
//! The steps are listed once, in [`STEPS`]; the harness's own tests check that the
//! workspace's members, the step directories and the book agree with that list.

use std::path::{Path, PathBuf};

/// The workspace's top directory: two above this package (`rootfs/harness`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The step crates, in order. The course's top level is fixed, so this is the one
/// list of them; `tests/steps.rs` checks that the workspace, the step directories
/// and the book agree with it.
pub const STEPS: [&str; 7] = [
    "step01-exec",
    "step02-uts",
    "step03-reexec",
    "step04-pid",
    "step05-chroot-proc",
    "step06-mount-ns",
    "step07-cgroups",
];

/// The step crates, in order ([`STEPS`]).
pub fn steps() -> &'static [&'static str] {
    &STEPS
}

/// The members named `stepNN-…` in the `members = [...]` list of a workspace's
/// Cargo.toml, one quoted name a line, as this workspace writes them.
pub fn steps_in_manifest(manifest: &str) -> Vec<String> {
    let members = manifest.split_once("members = [").map_or("", |(_, rest)| rest);
    let members = members.split_once(']').map_or("", |(list, _)| list);
    let names = members.lines().map(|line| line.trim().trim_end_matches(',').trim_matches('"'));
    names.filter(|name| is_step_name(name)).map(String::from).collect()
}

/// `stepNN-…`: two digits, a hyphen, and a name.
fn is_step_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("step") else { return false };
    let (digits, title) = rest.split_at(rest.len().min(2));
    // A package nested in a step (step07-cgroups/lockdown) is not a step.
    digits.len() == 2
        && !name.contains('/')
        && digits.chars().all(|c| c.is_ascii_digit())
        && title.strip_prefix('-').is_some_and(|title| !title.is_empty())
}

/// The number of step `package` (1 for `step01-exec`): its place in [`steps`].
pub fn step_number(package: &str) -> usize {
    match steps().iter().position(|step| *step == package) {
        Some(i) => i + 1,
        None => panic!("{package} is not one of the workspace's steps: {:?}", steps()),
    }
}

/// The step before `package` (`step01-exec` for `step02-uts`); None for step 1.
pub fn previous_step(package: &str) -> Option<&'static str> {
    let number = step_number(package);
    (number > 1).then(|| steps()[number - 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_are_the_members_named_step_nn() {
        let manifest = "[workspace]\nmembers = [\n    \"step01-exec\",\n    \"step02-uts\",\n    \"step02-uts/nested\",\n    \
                        \"rootfs\",\n    \"step3-no\",\n    \"book\",\n]\n\n[x]\ny = [\"step09-z\"]\n";
        assert_eq!(steps_in_manifest(manifest), ["step01-exec", "step02-uts"]);
    }
}
