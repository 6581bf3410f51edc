//! The course's steps (listed once, in the test harness: `harness::steps()`), and
//! the repository they are in.

use std::path::PathBuf;

/// The repository this command runs in: where cargo says the package is (it sets
/// CARGO_MANIFEST_DIR for `cargo run`, so a clone that was moved still works), else
/// where it was built.
pub fn repo() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("../harness/src/registry.rs").exists())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    package.join("../..").components().collect()
}

/// One step of the course: `step04-pid` is number 4.
pub struct Step {
    pub number: u8,
    pub name: String,
}

impl Step {
    /// Every step, in order, from the workspace's members (the harness reads them).
    pub fn all() -> Result<Vec<Step>, String> {
        let steps = harness::steps().iter().filter_map(|name| {
            let number = name.strip_prefix("step")?.get(..2)?.parse().ok()?;
            Some(Step { number, name: name.to_string() })
        });
        Ok(steps.collect())
    }

    /// Step `number`, or why there is none.
    pub fn number(number: u8) -> Result<Step, String> {
        Step::all()?
            .into_iter()
            .find(|step| step.number == number)
            .ok_or_else(|| format!("there is no step {number}: the steps are 1 to 7"))
    }

    /// The step's crate directory.
    pub fn dir(&self) -> PathBuf {
        repo().join(&self.name)
    }

    /// The step's chapter in the book.
    pub fn chapter(&self) -> String {
        format!("book/src/{}.md", self.name)
    }
}
