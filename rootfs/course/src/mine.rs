//! Your own copy of a step: `cargo course start N` makes `stepNN-*/mine/`, a package
//! of its own (not a member of the course's workspace, and ignored by git, so a
//! `git pull` never touches it), whose `src/main.rs` is the step's starter: the
//! previous step's program with `// TODO(step N)` comments where step N's feature
//! goes (crate::starter). That program is your own copy of step N-1 when you have
//! one and it passes its grading, else the course's (`--from-course` always).
//! `cargo course grade N` builds it with [`build`] and grades it.
//!
//! `cargo course start N --exercise NAME` puts the `TODO(NAME)` comments of one of the
//! step's exercises (`stepNN-*/exercises/NAME.todos`) into your copy, each in front
//! of its line, and changes nothing else; the blocks that find no line of yours are
//! listed at the top. With no copy yet, it makes one from the course's program of
//! step N (the exercise changes step N, so it starts from a whole step N), with the
//! exercise's TODOs in it: [`starter::exercise_starter`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::engine::{self, Grading, Target, Verdict};
use crate::starter;
use crate::steps::{Step, repo};

#[derive(clap::Args)]
pub struct StartArgs {
    /// The step to write yourself, 1 to 7
    #[arg(value_parser = clap::value_parser!(u8).range(1..=7))]
    pub step: u8,
    /// Start from the course's program of step N-1, even if your own copy of it passes
    #[arg(long, conflicts_with = "exercise")]
    pub from_course: bool,
    /// Put the TODO(NAME) comments of the step's exercise NAME into your copy of step N
    /// (made from the course's step N program if you have none)
    #[arg(long, value_name = "NAME")]
    pub exercise: Option<String>,
}

/// `cargo course start N`, or with `--exercise NAME`.
pub fn start(args: StartArgs) -> ExitCode {
    let started = match &args.exercise {
        Some(name) => start_exercise(args.step, name),
        None => make_copy(args.step, args.from_course).map(|(step, origin)| {
            println!("{origin}");
            print_next_steps(&step);
        }),
    };
    match started {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("course start: {message}");
            ExitCode::from(2)
        }
    }
}

/// `cargo course start N --exercise NAME`: the exercise's TODOs into your copy, or a
/// copy made from the course's step N program with them.
fn start_exercise(number: u8, name: &str) -> Result<(), String> {
    let step = Step::number(number)?;
    starter::exercise_todos(&step, name)?;
    let mine = dir(&step);
    let mark = format!("TODO({name})");
    if !mine.exists() {
        let code = starter::exercise_starter(&step, name)?;
        write_copy(&step, &code)?;
        println!(
            "Made {}/ from the course's step {number} program (you had no copy of step \
             {number} yet), with the exercise's {mark} comments.",
            relative(&mine)
        );
        print_exercise_steps(&step, name);
        return Ok(());
    }
    let main = mine.join("src/main.rs");
    let said = add_exercise(&step, name, &main)?;
    println!("{said}");
    print_exercise_steps(&step, name);
    Ok(())
}

/// Put the TODOs of `step`'s exercise `name` into `main`, your copy's program, and
/// say in one line what was done: nothing when they are in it already.
fn add_exercise(step: &Step, name: &str, main: &Path) -> Result<String, String> {
    let program =
        fs::read_to_string(main).map_err(|err| format!("cannot read {}: {err}", main.display()))?;
    let mark = format!("TODO({name})");
    let (text, unplaced) = match starter::add_exercise(step, name, &program)? {
        starter::Added::Already(k) => {
            return Ok(format!(
                "{} has its {mark} comments already ({k} left): nothing added.",
                relative(main)
            ));
        }
        starter::Added::Placed { text, unplaced } => (text, unplaced),
    };
    // Written aside, then renamed over it: your program is never left half written.
    let draft = main.with_file_name(".main.rs-in-the-making");
    fs::write(&draft, &text).map_err(|err| format!("cannot write {}: {err}", draft.display()))?;
    fs::rename(&draft, main).map_err(|err| {
        let _ = fs::remove_file(&draft);
        format!("cannot rename {} to {}: {err}", draft.display(), main.display())
    })?;
    let listed = match unplaced.len() {
        0 => String::new(),
        1 => "; 1 found no line of yours: it is listed at the top".into(),
        k => format!("; {k} found no line of yours: they are listed at the top"),
    };
    Ok(format!(
        "Put the exercise's {mark} comments into {} (only comments were added){listed}.",
        relative(main)
    ))
}

/// Where your copy of `step` lives.
pub fn dir(step: &Step) -> PathBuf {
    step.dir().join("mine")
}

/// Your copy's package (and program) name: the step's, with `my-` in front, so
/// that its program never takes the place of the course's own in `target/`.
pub fn package(step: &Step) -> String {
    format!("my-{}", step.name)
}

fn make_copy(number: u8, from_course: bool) -> Result<(Step, String), String> {
    let step = Step::number(number)?;
    let mine = dir(&step);
    if mine.exists() {
        return Err(format!(
            "{} already exists: it is your work, and start never overwrites it. To begin \
             again, move it away first: mv {0} {0}.old",
            relative(&mine)
        ));
    }
    let (code, origin) = starter_of(&step, from_course)?;
    write_copy(&step, &code)?;
    Ok((step, origin))
}

/// Make your copy of `step`, with `code` as its src/main.rs.
fn write_copy(step: &Step, code: &str) -> Result<(), String> {
    let mine = dir(step);
    let manifest = manifest(step)?;
    // Made aside, then renamed into place: a copy that failed halfway is never
    // left where `start` would take it for your work.
    let draft = step.dir().join(".mine-in-the-making");
    let _ = fs::remove_dir_all(&draft);
    let src = draft.join("src");
    fs::create_dir_all(&src).map_err(|err| format!("cannot create {}: {err}", src.display()))?;
    let write = |path: PathBuf, text: &str| {
        fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
    };
    write(src.join("main.rs"), code)?;
    write(draft.join("Cargo.toml"), &manifest)?;
    // The course's lock file: your copy builds with the very versions the course was
    // tested with, and needs no registry lookup.
    let lock = repo().join("Cargo.lock");
    fs::copy(&lock, draft.join("Cargo.lock"))
        .map_err(|err| format!("cannot copy {}: {err}", lock.display()))?;
    fs::rename(&draft, &mine)
        .map_err(|err| format!("cannot rename {} to {}: {err}", draft.display(), mine.display()))
}

/// The starter of `step` and the line that says what it was made from: your own
/// step N-1 when you have a copy that passes its grading (and not `from_course`),
/// else the course's program.
fn starter_of(step: &Step, from_course: bool) -> Result<(String, String), String> {
    let n = step.number;
    if n == 1 {
        let origin = "Made from step 1's own program, with the code you write taken out.";
        return Ok((starter::make(step)?, origin.into()));
    }
    let previous = Step::number(n - 1)?;
    let yours = dir(&previous);
    let why_not = match (from_course, yours.join("src/main.rs").exists()) {
        (true, _) => "as --from-course asks".to_string(),
        (false, false) => format!("you have no copy of it in {}/", relative(&yours)),
        (false, true) => match passes(&previous) {
            Ok(()) => return from_yours(step, &previous),
            Err(why) => format!("your {}/ does not pass yet: {why}", relative(&yours)),
        },
    };
    let origin = format!("Made from the course's step {} program ({why_not}).", n - 1);
    Ok((starter::make(step)?, origin))
}

/// The starter of `step` made from your copy of `previous`, and the line saying so.
fn from_yours(step: &Step, previous: &Step) -> Result<(String, String), String> {
    let main = dir(previous).join("src/main.rs");
    let program = fs::read_to_string(&main)
        .map_err(|err| format!("cannot read {}: {err}", main.display()))?;
    let (code, unplaced) = starter::make_from(step, &program)?;
    let listed = match unplaced.len() {
        0 => String::new(),
        1 => "; 1 TODO found no line of yours: it is listed at the top of main.rs".into(),
        k => format!("; {k} TODOs found no line of yours: they are listed at the top of main.rs"),
    };
    let origin = format!(
        "Made from your own step {} ({}/, which passes its grading){listed}.",
        previous.number,
        relative(&dir(previous))
    );
    Ok((code, origin))
}

/// Whether your copy of `step` passes its grading (`cargo course grade N`), or why not.
fn passes(step: &Step) -> Result<(), String> {
    eprintln!("grading your copy of {} to see whether to start from it…", step.name);
    let bin = build(step)?;
    let repo = repo();
    engine::check_no_spaces(&repo)?;
    let grading = Grading {
        repo: &repo,
        step,
        bin: &bin,
        target: Target::Graded { filter: None },
        wrapper: engine::unshare_wrapper(),
        env: Vec::new(),
    };
    match grading.verdict() {
        Verdict::Pass { .. } => Ok(()),
        verdict => Err(verdict.line(&grading.label())),
    }
}

/// The Cargo.toml of your copy: step N's own dependencies, spelled out (your copy is
/// not in the course's workspace, so it cannot say `workspace = true`).
fn manifest(step: &Step) -> Result<String, String> {
    // Your copy sits two folders below the repository.
    let dependencies = dependencies(step, "../../")?;
    Ok(format!(
        "# Your own copy of {name}, made by `cargo course start {number}`. It is yours:\n\
         # git ignores it, and the course never overwrites it. Write the step in\n\
         # src/main.rs, then grade it with `cargo course grade {number}`.\n\
         [package]\n\
         name = \"{package}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         [dependencies]\n\
         {dependencies}\n\
         [profile.dev]\n\
         debug = \"line-tables-only\"\n\n\
         # A workspace of its own: your copy is not part of the course's.\n\
         [workspace]\n",
        name = step.name,
        number = step.number,
        package = package(step),
    ))
}

/// The `[dependencies]` lines of a package outside the workspace that builds like
/// `step`: the step's own dependencies, spelled out as the workspace spells them,
/// with each path made relative to the package's folder (`to_repo` leads from that
/// folder to the repository, e.g. `../../`). The proofs' scratch packages use it too.
pub fn dependencies(step: &Step, to_repo: &str) -> Result<String, String> {
    let read = |path: PathBuf| {
        fs::read_to_string(&path).map_err(|err| format!("cannot read {}: {err}", path.display()))
    };
    let workspace = read(repo().join("Cargo.toml"))?;
    let own = read(step.dir().join("Cargo.toml"))?;
    let mut dependencies = String::new();
    for name in section(&own, "dependencies").filter_map(|line| line.split('.').next()) {
        let spec = section(&workspace, "workspace.dependencies")
            .find(|line| line.split([' ', '=']).next() == Some(name))
            .ok_or_else(|| format!("{name} is not in the workspace's dependencies"))?;
        // Paths in the workspace are relative to the repository.
        dependencies.push_str(&spec.replace("path = \"", &format!("path = \"{to_repo}")));
        dependencies.push('\n');
    }
    Ok(dependencies)
}

/// The lines of one `[section]` of a Cargo.toml, without blank lines and comments.
fn section<'a>(toml: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    let header = format!("[{name}]");
    toml.lines()
        .skip_while(move |line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
}

fn print_next_steps(step: &Step) {
    let mine = relative(&dir(step));
    let n = step.number;
    println!("Your copy of {} is in {mine}/ (git ignores it: it is yours).", step.name);
    println!();
    println!("  1. Write the step: open {mine}/src/main.rs and do its TODO(step {n}) comments.");
    println!("     Stuck on one? cargo course hint {n}   (one hint more each time you ask)");
    println!("  2. Run it:         cargo run --manifest-path {mine}/Cargo.toml -- run /bin/sh");
    println!("  3. Grade it:       cargo course grade {n}        (--watch re-grades on save)");
    println!();
    println!("The chapter {} walks you through it (mdbook serve book).", step.chapter());
}

fn print_exercise_steps(step: &Step, name: &str) {
    let mine = relative(&dir(step));
    let n = step.number;
    println!();
    println!("  1. Do the exercise: its TODO({name}) comments in {mine}/src/main.rs.");
    println!(
        "     Stuck on one? cargo course hint {n} --exercise {name}   (one hint more each time)"
    );
    println!("  2. Grade it:        cargo course grade {n} --exercise {name}");
    println!("     and the step:    cargo course grade {n}   (it must still pass)");
    println!();
    println!("The exercise is stated in {}/exercises/README.md.", step.name);
}

/// Build your copy of `step` and return its program.
pub fn build(step: &Step) -> Result<PathBuf, String> {
    let mine = dir(step);
    let manifest = mine.join("Cargo.toml");
    if !manifest.exists() {
        return Err(format!(
            "you have no copy of {} yet: make one with `cargo course start {}`",
            step.name, step.number
        ));
    }
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "-q", "--manifest-path"])
        .arg(&manifest)
        // The course's own target directory (also .cargo/config.toml's): the
        // dependencies your copy shares with the course build only once.
        .arg("--target-dir")
        .arg(repo().join("target"))
        .status()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !status.success() {
        return Err(format!("your copy of {} does not build: see cargo's errors above", step.name));
    }
    Ok(repo().join("target/debug").join(package(step)))
}

/// A path as the learner would type it from the repository.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(repo()).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `start 7 --exercise lock_seccomp` on a copy: its TODOs go in, once.
    #[test]
    fn an_exercises_todos_go_into_your_program_once() {
        let step = Step::number(7).unwrap_or_else(|err| panic!("{err}"));
        let dir =
            std::env::temp_dir().join(format!("course-start-exercise-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::create_dir_all(&dir);
        let main = dir.join("main.rs");
        let program = fs::read_to_string(step.dir().join("src/main.rs")).unwrap_or_default();
        assert!(fs::write(&main, &program).is_ok());
        let said = add_exercise(&step, "lock_seccomp", &main).unwrap_or_else(|err| panic!("{err}"));
        assert!(said.starts_with("Put the exercise's TODO(lock_seccomp) comments into"), "{said}");
        let once = fs::read_to_string(&main).unwrap_or_default();
        assert_eq!(Ok(&once), starter::exercise_starter(&step, "lock_seccomp").as_ref());
        let said = add_exercise(&step, "lock_seccomp", &main).unwrap_or_else(|err| panic!("{err}"));
        assert!(
            said.ends_with("has its TODO(lock_seccomp) comments already (3 left): nothing added.")
        );
        assert_eq!(fs::read_to_string(&main).unwrap_or_default(), once);
        assert!(!dir.join(".main.rs-in-the-making").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
