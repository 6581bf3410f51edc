//! Results as data: what each graded check found, as one JSON line per check.
//!
//! A test binary run by [`crate::runner`] appends one [`Record`] per test to the
//! file named by `COURSE_RESULTS` (when set). `cargo course grade`, `class` and the
//! proofs read these records; none of them reads the test runner's printed text.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The environment variable naming the file the records are appended to.
pub const RESULTS_VAR: &str = "COURSE_RESULTS";

/// What one test found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The test's name, as the runner lists it (`feature_ps_shows_only_the_container`).
    pub test: String,
    /// Whether the test checks what its step adds (it fails against the step before).
    pub feature: bool,
    /// `None` when it passed.
    pub failure: Option<Failure>,
}

/// Why a check failed: what was expected, what the kernel showed, and the hint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The check, in plain words (`` `ps` inside lists only the container's processes``).
    pub check: String,
    pub expected: String,
    pub shown: String,
    pub hint: String,
    /// How the program under test ended, when the check ran it to its end.
    pub program: Option<ProgramEnd>,
    /// What kind of failure: a check's verdict, or something else that stopped the test.
    pub kind: FailureKind,
}

/// How a failure came about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A check of the harness found the kernel showing something else.
    #[default]
    Check,
    /// A container did not end within its time limit.
    Hang,
    /// The test stopped on something that is not a check (a plain assertion of an
    /// exercise, or the test's own set-up).
    Other,
}

/// How the program under test ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramEnd {
    /// The exit code, or 128+n when signal n killed it.
    pub code: i32,
    pub stderr: String,
}

impl Record {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Append `record` to the file `COURSE_RESULTS` names, if it names one.
pub fn write(record: &Record) -> Result<(), String> {
    let Some(path) = std::env::var_os(RESULTS_VAR) else { return Ok(()) };
    let mut line = serde_json::to_string(record).map_err(|err| err.to_string())?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|err| format!("open {}: {err}", Path::new(&path).display()))?;
    // One write per line, opened for appending: lines of tests running at once do
    // not interleave.
    file.write_all(line.as_bytes())
        .map_err(|err| format!("write {}: {err}", Path::new(&path).display()))
}

/// Every record in `text` (a results file's content), in order.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let lines = text.lines().filter(|line| !line.trim().is_empty());
    lines
        .map(|line| {
            serde_json::from_str(line).map_err(|err| format!("a results line: {err}: {line}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let record = Record {
            test: "feature_x".into(),
            feature: true,
            failure: Some(Failure {
                check: "c".into(),
                hint: "h".into(),
                program: Some(ProgramEnd { code: 125, stderr: "run: mount: EPERM\n".into() }),
                kind: FailureKind::Hang,
                ..Failure::default()
            }),
        };
        let text = serde_json::to_string(&record).unwrap_or_default() + "\n\n";
        assert_eq!(parse(&text), Ok(vec![record]));
    }
}
