//! The catalogue of mistakes: for each step, the mistakes a learner plausibly makes
//! writing it, as data in `stepNN-*/mistakes.toml` (a file name tells a maintainer
//! where step 5's are). Each one is an edit of the step's `src/main.rs` (each `old`
//! found exactly once, replaced by `new`), the graded check that must fail, and
//! words the one-line verdict must contain: its cause, as the learner reads it. A
//! few are defects of this course's own program that the contract does not cover
//! (`own_tests = true`): only the step's own tests catch those. A mistake made in
//! an exercise's solution (`exercise = 'lock_seccomp'`: the lock-down's parts) is an
//! edit of the step's program with that exercise's reference patch applied, and the
//! exercise's check is the one that must fail.

use std::fs;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::steps::Step;

/// One mistake in one step's program.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    /// The step (from the file it is in).
    #[serde(skip)]
    pub step: u8,
    /// Short and unique: it names the mistake's package (`proof-step04-pid-no-reaping`).
    pub id: String,
    /// The mistake, in words.
    pub what: String,
    /// The graded check that must fail (its name in the registry, without `feature_`).
    pub check: Option<String>,
    /// Words the one-line verdict must contain (compared without case).
    pub verdict: Option<String>,
    /// Caught only by the course's own tests, not by the contract's checks.
    #[serde(default)]
    pub own_tests: bool,
    /// Made in this exercise's reference solution, whose check must then fail (no
    /// `check` then: the exercise is one check).
    pub exercise: Option<String>,
    /// A mistake only where the memory controller has a cgroup v1 hierarchy of its
    /// own: on cgroup v2 memory shares the pids cgroup, and the same code is right.
    /// Proven on such hosts only.
    #[serde(default)]
    pub cgroup_v1_only: bool,
    /// The edits, made in turn.
    pub edit: Vec<Edit>,
}

/// `old` (found exactly once) becomes `new`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub old: String,
    pub new: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    mistake: Vec<Mistake>,
}

/// Whether this machine has the memory controller in a cgroup v1 hierarchy of its
/// own (v1 and hybrid hosts), where the `cgroup_v1_only` mistakes are mistakes.
pub fn memory_on_cgroup_v1() -> bool {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo.lines().any(|line| {
        let mut source = line.split_once(" - ").unwrap_or_default().1.split(' ');
        source.next() == Some("cgroup")
            && source.nth(1).unwrap_or_default().split(',').any(|o| o == "memory")
    })
}

/// Every step's mistakes, read once.
pub fn all(steps: &[Step]) -> Result<&'static [Mistake], String> {
    static ALL: OnceLock<Result<Vec<Mistake>, String>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let mut all = Vec::new();
        for step in steps {
            all.extend(read(step)?);
        }
        check_catalogue(&all)?;
        Ok(all)
    });
    all.as_deref().map_err(Clone::clone)
}

/// Step `step`'s mistakes, from its `mistakes.toml`.
fn read(step: &Step) -> Result<Vec<Mistake>, String> {
    let path = step.dir().join("mistakes.toml");
    let text = fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let mistakes = parse(&text, step.number).map_err(|err| format!("{}: {err}", path.display()))?;
    for mistake in &mistakes {
        let Some(exercise) = &mistake.exercise else { continue };
        let patch = step.dir().join(format!("exercises/{exercise}.patch"));
        if !patch.is_file() {
            return Err(format!(
                "{}: mistake {}: step {} has no exercise {exercise} ({} is missing)",
                path.display(),
                mistake.id,
                step.number,
                patch.display()
            ));
        }
    }
    Ok(mistakes)
}

fn parse(text: &str, step: u8) -> Result<Vec<Mistake>, String> {
    let file: File = toml::from_str(text).map_err(|err| err.to_string())?;
    let mut mistakes = file.mistake;
    for mistake in &mut mistakes {
        mistake.step = step;
    }
    Ok(mistakes)
}

/// Ids unique and usable in a package name; a graded mistake names its check (one
/// of the registry's, of its step or before) and its verdict's words; an
/// own-tests one names neither.
fn check_catalogue(all: &[Mistake]) -> Result<(), String> {
    for (i, mistake) in all.iter().enumerate() {
        let id = &mistake.id;
        let fail = |why: &str| Err(format!("mistake {id} (step {}): {why}", mistake.step));
        if all[..i].iter().any(|other| other.id == *id) {
            return fail("its id is used twice");
        }
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if id.is_empty() || !id.chars().all(ok) {
            return fail("an id is lower-case letters, digits and hyphens");
        }
        if mistake.edit.is_empty() {
            return fail("it has no edit");
        }
        match (&mistake.check, &mistake.verdict, mistake.own_tests) {
            (None, None, true) if mistake.exercise.is_none() => {}
            (None, Some(words), false) if mistake.exercise.is_some() => {
                if words.trim().is_empty() {
                    return fail("its verdict words are empty");
                }
            }
            (Some(_), _, _) | (_, _, true) if mistake.exercise.is_some() => {
                return fail(
                    "a mistake in an exercise fails that exercise's check: no `check`, \
                             no `own_tests`",
                );
            }
            (Some(check), Some(words), false) => {
                let known = harness::registry::checks_of(usize::from(mistake.step));
                if !known.iter().any(|known| known.name == check) {
                    return fail(&format!("`{check}` is not a graded check of its step"));
                }
                if words.trim().is_empty() {
                    return fail("its verdict words are empty");
                }
            }
            _ => return fail("give `check` and `verdict`, or `own_tests = true` alone"),
        }
    }
    Ok(())
}

impl Mistake {
    /// `program` with this mistake's edits made, in order; or which edit could not
    /// be made, and why.
    pub fn apply(&self, program: &str, file: &str) -> Result<String, String> {
        let mut text = program.to_string();
        for Edit { old, new } in &self.edit {
            let found = text.matches(old.as_str()).count();
            if found != 1 {
                return Err(format!(
                    "mistake {} ({}): in {file}, this text occurs {found} times, not once: {old} \
                     (the code changed: update the step's mistakes.toml)",
                    self.id, self.what
                ));
            }
            text = text.replacen(old.as_str(), new, 1);
        }
        Ok(text)
    }

    /// Whether the graded checks catch it (else only the step's own tests).
    pub fn graded(&self) -> bool {
        !self.own_tests
    }

    /// The check that must fail, by its name in the results: the exercise's, or the
    /// graded check named; none for an own-tests mistake.
    pub fn failing_check(&self) -> Option<&str> {
        self.exercise.as_deref().or(self.check.as_deref()).filter(|_| self.graded())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mistake(edits: &[(&str, &str)]) -> Mistake {
        let edit =
            edits.iter().map(|(old, new)| Edit { old: old.to_string(), new: new.to_string() });
        Mistake {
            step: 4,
            id: "test-mistake".into(),
            what: "a feature left out".into(),
            check: Some("pid_1_reaps_orphans".into()),
            verdict: Some("orphans".into()),
            own_tests: false,
            exercise: None,
            cgroup_v1_only: false,
            edit: edit.collect(),
        }
    }

    #[test]
    fn each_edit_replaces_its_text_in_turn() {
        let changed = mistake(&[("b()", "c()"), ("c();", "d();")]).apply("a(); b();", "main.rs");
        assert_eq!(changed, Ok("a(); d();".to_string()));
    }

    #[test]
    fn a_text_found_twice_or_not_at_all_is_an_error_naming_the_mistake() {
        let twice = mistake(&[("a", "b")]).apply("a a", "step04-pid/src/main.rs");
        let message = twice.err().unwrap_or_default();
        assert!(
            message.contains("test-mistake") && message.contains("occurs 2 times"),
            "{message}"
        );
        let never = mistake(&[("z", "b")]).apply("a a", "step04-pid/src/main.rs");
        let message = never.err().unwrap_or_default();
        assert!(
            message.contains("test-mistake") && message.contains("occurs 0 times"),
            "{message}"
        );
    }

    #[test]
    fn a_file_reads_as_its_mistakes_and_the_catalogue_is_checked() {
        let text = "[[mistake]]\nid = 'no-reaping'\nwhat = 'w'\ncheck = 'pid_1_reaps_orphans'\n\
                    verdict = 'orphans'\n[[mistake.edit]]\nold = 'a'\nnew = 'b'\n";
        let read = parse(text, 4).unwrap_or_default();
        assert_eq!((read.len(), read[0].step), (1, 4));
        assert_eq!(check_catalogue(&read), Ok(()));
        let wrong_check =
            parse(&text.replace("pid_1_reaps_orphans", "ls_shows_the_busybox_tree"), 4);
        let message = check_catalogue(&wrong_check.unwrap_or_default()).err().unwrap_or_default();
        assert!(message.contains("not a graded check of its step"), "{message}");
        assert!(parse("[[mistake]]\nid = 'x'\nwhat = 'w'\nbogus = 1\nedit = []\n", 4).is_err());
    }

    #[test]
    fn the_catalogue_reads_and_every_edit_finds_its_text() {
        let steps = Step::all().unwrap_or_default();
        let all = all(&steps).unwrap_or_else(|err| panic!("{err}"));
        for step in &steps {
            let mine: Vec<&Mistake> = all.iter().filter(|m| m.step == step.number).collect();
            assert!(mine.len() >= 4, "{} has {} mistakes, fewer than 4", step.name, mine.len());
            let file = format!("{}/src/main.rs", step.name);
            let program = fs::read_to_string(step.dir().join("src/main.rs")).unwrap_or_default();
            for mistake in mine {
                let program = match &mistake.exercise {
                    Some(name) => super::super::variants::solution(step, name)
                        .unwrap_or_else(|err| panic!("{err}")),
                    None => program.clone(),
                };
                if let Err(err) = mistake.apply(&program, &file) {
                    panic!("{err}");
                }
            }
        }
        assert!(all.iter().filter(|m| m.graded()).count() >= 40, "fewer than 40 graded mistakes");
    }
}
