//! The course's steps, as the workspace lists them: the members named `stepNN-*`.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository this command was built from.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").components().collect()
}

/// One step of the course: `step04-pid` is number 4.
pub struct Step {
    pub number: u8,
    pub name: String,
}

impl Step {
    /// Every step, in order, from the workspace's members.
    pub fn all() -> Result<Vec<Step>, String> {
        let manifest = repo().join("Cargo.toml");
        let text = fs::read_to_string(&manifest)
            .map_err(|err| format!("cannot read {}: {err}", manifest.display()))?;
        let mut steps: Vec<Step> = text
            .lines()
            .map(|line| line.trim().trim_matches(|c| c == '"' || c == ','))
            .filter_map(|member| {
                let number = member.strip_prefix("step")?.get(..2)?.parse().ok()?;
                Some(Step { number, name: member.to_string() })
            })
            .collect();
        steps.sort_by_key(|step| step.number);
        Ok(steps)
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
