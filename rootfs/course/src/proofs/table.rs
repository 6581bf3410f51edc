//! The proofs as data: each row says "this program, graded against step N's checks
//! (all, the feature ones, an exercise's, or the step's own tests), must pass / must
//! fail / must fail every feature check". The programs are the variants.

use std::fs;
use std::path::PathBuf;

use super::mistakes::{self, Mistake};
use crate::starter;
use crate::steps::Step;

/// The kinds of proof, as `--only` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Kind {
    /// Each step's feature checks fail against the step before; each step passes its own
    PreviousStep,
    /// The Go and C implementations pass every step, and fail it one step short
    OtherLanguages,
    /// Each starter fails its feature checks; solved, it passes (an exercise's
    /// starter, its TODOs in the step's program, fails its exercise's check)
    Starters,
    /// Each exercise's check fails on its step and passes with its reference solution
    Exercises,
    /// Each mistake of the catalogue fails its check, and the verdict names its cause
    Mistakes,
    /// A class of five graded twice by `cargo course class`: the same grades, a hang
    /// bounded, the table aligned, nothing left
    Class,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::PreviousStep,
        Kind::OtherLanguages,
        Kind::Starters,
        Kind::Exercises,
        Kind::Mistakes,
        Kind::Class,
    ];

    /// The kind's name, as `--only` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PreviousStep => "previous-step",
            Kind::OtherLanguages => "other-languages",
            Kind::Starters => "starters",
            Kind::Exercises => "exercises",
            Kind::Mistakes => "mistakes",
            Kind::Class => "class",
        }
    }

    /// The kind in the words a proof's line starts with.
    fn words(self) -> &'static str {
        match self {
            Kind::PreviousStep => "previous step",
            Kind::OtherLanguages => "other languages",
            Kind::Starters => "starter",
            Kind::Exercises => "exercise",
            Kind::Mistakes => "mistake",
            Kind::Class => "class",
        }
    }
}

/// The other languages the contract is written in (rootfs/other-languages/).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Go,
    C,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Go => "go",
            Lang::C => "c",
        }
    }
}

/// A program to grade.
#[derive(Clone, Debug)]
pub enum Variant {
    /// The course's own program of a step (`target/debug/stepNN-…`).
    Course { step: u8 },
    /// The Go or C program, as step `step` (it reads its step from its name).
    Language { lang: Lang, step: u8 },
    /// Step N's starter, as `cargo course start N` makes it.
    Starter { step: u8 },
    /// Step N's starter solved: the learner's package with the step's own main.rs.
    Solved { step: u8 },
    /// Step N's program with the TODOs of its exercise `name` put in.
    ExerciseStarter { step: u8, name: String },
    /// Step N's program with an exercise's reference solution applied.
    Exercise { step: u8, name: String },
    /// Step N's program with one mistake of the catalogue made.
    Mistake(&'static Mistake),
}

impl Variant {
    /// The scratch package it is built in (`proof-step04-pid-no-reaping`), for the
    /// variants that are changed programs.
    pub fn package(&self, steps: &[Step]) -> Option<String> {
        let name = |step: u8| step_name(steps, step);
        match self {
            Variant::Course { .. } | Variant::Language { .. } => None,
            Variant::Starter { step } => Some(format!("proof-{}-starter", name(*step))),
            Variant::Solved { step } => Some(format!("proof-{}-solved", name(*step))),
            Variant::ExerciseStarter { step, name: exercise } => {
                Some(format!("proof-{}-starter-{}", name(*step), exercise.replace('_', "-")))
            }
            Variant::Exercise { step, name: exercise } => {
                Some(format!("proof-{}-exercise-{}", name(*step), exercise.replace('_', "-")))
            }
            Variant::Mistake(mistake) => {
                Some(format!("proof-{}-{}", name(mistake.step), mistake.id))
            }
        }
    }

    /// A key naming the program: two rows with the same key grade the same program.
    pub fn key(&self, steps: &[Step]) -> String {
        match self {
            Variant::Course { step } => step_name(steps, *step),
            Variant::Language { lang, step } => format!("{}-step{step:02}", lang.name()),
            _ => self.package(steps).unwrap_or_default(),
        }
    }

    /// The step whose program it is (or was made from).
    pub fn step(&self) -> u8 {
        match self {
            Variant::Course { step }
            | Variant::Language { step, .. }
            | Variant::Starter { step }
            | Variant::Solved { step }
            | Variant::ExerciseStarter { step, .. }
            | Variant::Exercise { step, .. } => *step,
            Variant::Mistake(mistake) => mistake.step,
        }
    }

    fn label(&self, steps: &[Step]) -> String {
        let name = |step: u8| step_name(steps, step);
        match self {
            Variant::Course { step } => name(*step),
            Variant::Language { lang, step } => format!("{} as step {step}", lang.name()),
            Variant::Starter { step } => format!("the starter of {}", name(*step)),
            Variant::Solved { step } => format!("the starter of {} solved", name(*step)),
            Variant::ExerciseStarter { step, name: exercise } => {
                format!("{} + the TODOs of exercise {exercise}", name(*step))
            }
            Variant::Exercise { step, name: exercise } => {
                format!("{} + exercises/{exercise}.patch", name(*step))
            }
            Variant::Mistake(mistake) => format!("{}: {}", name(mistake.step), mistake.what),
        }
    }
}

/// What a proof runs the program through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every graded check of the step.
    Graded,
    /// The graded checks of what the step adds (`feature_…`).
    Features,
    /// One exercise's check.
    Exercise(String),
    /// The course's own, non-graded tests of the step (every tests/*.rs but the
    /// graded one, book.rs and exercises.rs).
    OwnTests,
}

/// What the proof must find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Pass,
    /// At least one check (or own test) fails.
    Fail,
    /// Every feature check run fails.
    EveryFeatureFails,
    /// This check fails (its registry name), and the one-line verdict says these words.
    Names {
        check: &'static str,
        words: &'static str,
    },
}

impl Expected {
    pub fn words(self) -> &'static str {
        match self {
            Expected::Pass => "pass",
            Expected::Fail => "fail",
            Expected::EveryFeatureFails => "fail every feature check",
            Expected::Names { .. } => "fail its check, named in the verdict",
        }
    }
}

/// One row: a program, the step it is graded as, through what, and what must come out.
#[derive(Clone, Debug)]
pub struct Proof {
    pub kind: Kind,
    pub variant: Variant,
    /// The step it is graded as.
    pub step: u8,
    pub target: Target,
    pub expected: Expected,
}

impl Proof {
    /// `previous step: step03-reexec graded as step04-pid (feature checks)`.
    pub fn title(&self, steps: &[Step]) -> String {
        let step = step_name(steps, self.step);
        let how = match &self.target {
            Target::Graded => format!("graded as {step}"),
            Target::Features => format!("graded as {step} (feature checks)"),
            Target::Exercise(name) => format!("graded as {step} exercise {name}"),
            Target::OwnTests => format!("through {step}'s own tests"),
        };
        format!("{}: {} {how}", self.kind.words(), self.variant.label(steps))
    }
}

/// Every proof of the kinds asked for, in order.
pub fn proofs(kinds: &[Kind], steps: &[Step]) -> Result<Vec<Proof>, String> {
    let mut rows = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|kind| kinds.contains(kind)) {
        match kind {
            Kind::PreviousStep => rows.extend(previous_step(steps)),
            Kind::OtherLanguages => rows.extend(other_languages(steps)),
            Kind::Starters => rows.extend(starters(steps)),
            Kind::Exercises => rows.extend(exercises(steps)?),
            Kind::Mistakes => rows.extend(mistakes(steps)?),
            // Not rows of programs: one class graded twice (super::class).
            Kind::Class => {}
        }
    }
    Ok(rows)
}

fn row(kind: Kind, variant: Variant, step: u8, target: Target, expected: Expected) -> Proof {
    Proof { kind, variant, step, target, expected }
}

/// Each step passes its own graded checks; from step 2, each feature check of step
/// N fails against step N-1's program (step N's checks need step N's feature).
fn previous_step(steps: &[Step]) -> Vec<Proof> {
    let mut rows = Vec::new();
    for step in steps.iter().map(|step| step.number) {
        let own = Variant::Course { step };
        rows.push(row(Kind::PreviousStep, own, step, Target::Graded, Expected::Pass));
        if step > 1 {
            let before = Variant::Course { step: step - 1 };
            let every = Expected::EveryFeatureFails;
            rows.push(row(Kind::PreviousStep, before, step, Target::Features, every));
        }
    }
    rows
}

/// The Go and C programs pass every step, and every feature check of a step fails
/// against the same program one step short.
fn other_languages(steps: &[Step]) -> Vec<Proof> {
    let mut rows = Vec::new();
    for lang in [Lang::Go, Lang::C] {
        for step in steps.iter().map(|step| step.number) {
            let own = Variant::Language { lang, step };
            rows.push(row(Kind::OtherLanguages, own, step, Target::Graded, Expected::Pass));
            if step > 1 {
                let short = Variant::Language { lang, step: step - 1 };
                let every = Expected::EveryFeatureFails;
                rows.push(row(Kind::OtherLanguages, short, step, Target::Features, every));
            }
        }
    }
    rows
}

/// Each starter fails every feature check of its step (step 1's: all its checks,
/// every one a feature, as there is no step before it), and passes them all once solved.
fn starters(steps: &[Step]) -> Vec<Proof> {
    let mut rows = Vec::new();
    for step in steps.iter().map(|step| step.number) {
        let target = if step == 1 { Target::Graded } else { Target::Features };
        let every = Expected::EveryFeatureFails;
        rows.push(row(Kind::Starters, Variant::Starter { step }, step, target, every));
        let solved = Variant::Solved { step };
        rows.push(row(Kind::Starters, solved, step, Target::Graded, Expected::Pass));
    }
    // An exercise's starter is the step's program with comments added: its check
    // fails (and its reference solution passes it: the exercises' proofs).
    for step in steps {
        for name in starter::exercises_with_todos(step) {
            let variant = Variant::ExerciseStarter { step: step.number, name: name.clone() };
            let check = Target::Exercise(name);
            rows.push(row(Kind::Starters, variant, step.number, check, Expected::Fail));
        }
    }
    rows
}

/// Each exercise's check fails on its step as it is; with the reference solution it
/// passes, and so do the step's graded checks and own tests.
fn exercises(steps: &[Step]) -> Result<Vec<Proof>, String> {
    let mut rows = Vec::new();
    for (step, name) in exercise_names(steps)? {
        let check = Target::Exercise(name.clone());
        let solution = || Variant::Exercise { step, name: name.clone() };
        let kind = Kind::Exercises;
        rows.push(row(kind, Variant::Course { step }, step, check.clone(), Expected::Fail));
        rows.push(row(kind, solution(), step, check, Expected::Pass));
        rows.push(row(kind, solution(), step, Target::Graded, Expected::Pass));
        rows.push(row(kind, solution(), step, Target::OwnTests, Expected::Pass));
    }
    Ok(rows)
}

/// The course's own tests of step 7's program that a lock-down part changes on
/// purpose, left out when its solution goes through them: a command can no longer
/// unmount /proc itself (no CAP_SYS_ADMIN; the filter; mounts on it), the isolation
/// matrix row gains a namespace, `ps` shows PID 1's arguments without `--cgroup`,
/// and without CAP_SYS_ADMIN root still makes a container (in its user namespace).
pub fn changed_on_purpose(exercise: &str) -> &'static [&'static str] {
    match exercise {
        "lock_capabilities" | "lock_masked_paths" | "lock_seccomp" => {
            &["a_command_may_unmount_proc_itself"]
        }
        "lock_network" => &["isolation_matrix_row"],
        "lock_user_namespace" => &[
            "isolation_matrix_row",
            "ps_shows_our_child_as_pid_1",
            "eperm_says_run_as_root_only_when_not_root",
        ],
        _ => &[],
    }
}

/// Each mistake fails its check with a verdict that names its cause (or, for a
/// defect only the course's own tests cover, fails those).
fn mistakes(steps: &[Step]) -> Result<Vec<Proof>, String> {
    let row = |mistake: &'static Mistake| {
        let variant = Variant::Mistake(mistake);
        let (target, expected) = match (mistake.failing_check(), &mistake.verdict) {
            (Some(check), Some(words)) => {
                let target = match &mistake.exercise {
                    Some(exercise) => Target::Exercise(exercise.clone()),
                    None => Target::Graded,
                };
                (target, Expected::Names { check, words })
            }
            _ => (Target::OwnTests, Expected::Fail),
        };
        row(Kind::Mistakes, variant, mistake.step, target, expected)
    };
    let v1 = mistakes::memory_on_cgroup_v1();
    let all = mistakes::all(steps)?;
    let left_out = all.iter().filter(|mistake| mistake.cgroup_v1_only && !v1).count();
    if left_out > 0 {
        eprintln!(
            "proofs: {left_out} mistakes are mistakes only where memory has a cgroup v1 \
             hierarchy; this machine has none: left out"
        );
    }
    Ok(all.iter().filter(|mistake| v1 || !mistake.cgroup_v1_only).map(row).collect())
}

/// Every exercise of every step: (step, NAME) for each `stepNN-*/exercises/NAME.patch`.
pub fn exercise_names(steps: &[Step]) -> Result<Vec<(u8, String)>, String> {
    let mut names = Vec::new();
    for step in steps {
        let dir = step.dir().join("exercises");
        let entries =
            fs::read_dir(&dir).map_err(|err| format!("cannot list {}: {err}", dir.display()))?;
        let mut patches: Vec<String> = entries
            .flatten()
            .filter_map(|entry| {
                let path: PathBuf = entry.path();
                let name = path.file_name()?.to_str()?.strip_suffix(".patch")?;
                Some(name.to_string())
            })
            .collect();
        patches.sort();
        names.extend(patches.into_iter().map(|name| (step.number, name)));
    }
    Ok(names)
}

/// Step `number`'s name (`step04-pid`), or `step04` if there is no such step.
pub fn step_name(steps: &[Step], number: u8) -> String {
    let found = steps.iter().find(|step| step.number == number);
    found.map_or_else(|| format!("step{number:02}"), |step| step.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> (Vec<Step>, Vec<Proof>) {
        let steps = Step::all().unwrap_or_default();
        let proofs = proofs(&Kind::ALL, &steps).unwrap_or_else(|err| panic!("{err}"));
        (steps, proofs)
    }

    #[test]
    fn every_mistake_has_its_row() {
        let (steps, proofs) = all();
        let catalogue = mistakes::all(&steps).unwrap_or_else(|err| panic!("{err}"));
        let rows = proofs.iter().filter(|proof| proof.kind == Kind::Mistakes).count();
        assert_eq!(rows, catalogue.len());
    }

    #[test]
    fn every_exercise_patch_has_its_rows() {
        let (steps, proofs) = all();
        let names = exercise_names(&steps).unwrap_or_else(|err| panic!("{err}"));
        assert!(!names.is_empty());
        for (step, name) in names {
            let check = Target::Exercise(name.clone());
            let of = |proof: &&Proof| matches!(&proof.variant, Variant::Exercise { step: s, name: n } if *s == step && *n == name);
            let fails_before = proofs.iter().any(|p| {
                matches!(p.variant, Variant::Course { step: s } if s == step)
                    && p.target == check
                    && p.expected == Expected::Fail
            });
            assert!(fails_before, "step {step} {name}: no row that its check fails before");
            let solved: Vec<&Proof> = proofs.iter().filter(of).collect();
            for target in [check.clone(), Target::Graded, Target::OwnTests] {
                let found =
                    solved.iter().any(|p| p.target == target && p.expected == Expected::Pass);
                assert!(found, "step {step} {name}: no row that it passes {target:?}");
            }
        }
    }

    #[test]
    fn every_step_has_its_previous_step_starter_and_language_rows() {
        let (steps, proofs) = all();
        for step in steps.iter().map(|step| step.number) {
            for kind in [Kind::PreviousStep, Kind::OtherLanguages, Kind::Starters] {
                let rows = proofs.iter().filter(|p| p.kind == kind && p.step == step).count();
                assert!(rows >= 1, "step {step}: no {} row", kind.name());
            }
        }
    }

    #[test]
    fn a_title_says_what_is_graded_as_what() {
        let (steps, _) = all();
        let proof = row(
            Kind::PreviousStep,
            Variant::Course { step: 3 },
            4,
            Target::Features,
            Expected::EveryFeatureFails,
        );
        assert_eq!(
            proof.title(&steps),
            "previous step: step03-reexec graded as step04-pid (feature checks)"
        );
    }
}
