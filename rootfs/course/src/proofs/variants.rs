//! Making each variant's program, without copying the repository: a changed
//! `main.rs` (a starter, a solved starter, an exercise's solution, a mistake) goes
//! into a scratch package of its own under `target/proofs/<package>/`, whose
//! Cargo.toml names the step's dependencies by path (as a learner's copy does,
//! crate::mine); all of them are members of one scratch workspace, built by one
//! `cargo build`, into the course's target directory. The Go and C programs are
//! built into `target/proofs/<lang>/`, with a hard link per step (they read their
//! step from their name).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::table::{Lang, Variant, step_name};
use crate::mine;
use crate::starter;
use crate::steps::{Step, repo};

/// Each variant's program by its key, or why it could not be made.
pub type Programs = HashMap<String, Result<PathBuf, String>>;

/// The folder of the scratch packages (removed at the end unless --keep).
pub fn scratch_dir() -> PathBuf {
    repo().join("target/proofs")
}

/// The target directory cargo builds into: CARGO_TARGET_DIR, else the course's.
pub fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    repo().join(dir.unwrap_or_else(|| "target".into()))
}

/// `$CARGO`, else `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Make the program of every variant (each once).
pub fn make_all(variants: &[&Variant], steps: &[Step], verbose: bool) -> Programs {
    let mut programs = Programs::new();
    let mut changed: Vec<(&Variant, String)> = Vec::new();
    for variant in variants {
        let key = variant.key(steps);
        if programs.contains_key(&key) || changed.iter().any(|(_, package)| *package == key) {
            continue;
        }
        match (variant, variant.package(steps)) {
            (Variant::Course { step }, _) => {
                programs.insert(key, course_program(&step_name(steps, *step)));
            }
            (Variant::Language { lang, step }, _) => {
                programs.insert(key, language_program(*lang, *step));
            }
            (_, Some(package)) => changed.push((variant, package)),
            (_, None) => {}
        }
    }
    programs.extend(build_changed(&changed, steps, verbose));
    programs
}

/// The course's own program of a step, built beforehand.
fn course_program(name: &str) -> Result<PathBuf, String> {
    let bin = target_dir().join("debug").join(name);
    match bin.exists() {
        true => Ok(bin),
        false => Err(format!("{} is not built", bin.display())),
    }
}

/// The Go or C program as step `step`: a hard link named `stepNN` to the program,
/// built on first use.
fn language_program(lang: Lang, step: u8) -> Result<PathBuf, String> {
    let dir = scratch_dir().join(lang.name());
    let program = dir.join("container");
    if !program.exists() {
        build_language(lang, &program)?;
    }
    let link = dir.join(format!("step{step:02}"));
    let _ = fs::remove_file(&link);
    fs::hard_link(&program, &link)
        .map_err(|err| format!("cannot link {} to {}: {err}", link.display(), program.display()))?;
    Ok(link)
}

/// Build the Go program (standard library only: GOPROXY=off) or the C one (make).
fn build_language(lang: Lang, out: &Path) -> Result<(), String> {
    let source = repo().join("rootfs/other-languages").join(lang.name());
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    let mut command = match lang {
        Lang::Go => {
            let mut go = Command::new("go");
            go.current_dir(&source).args(["build", "-o"]).arg(out).arg(".");
            go.env("CGO_ENABLED", "0").env("GOPROXY", "off");
            go
        }
        Lang::C => {
            let mut make = Command::new("make");
            make.arg("-s").arg("-C").arg(&source).arg(format!("OUT={}", out.display()));
            make
        }
    };
    let what = format!("the {} program ({})", lang.name(), source.display());
    let out = command.stdin(Stdio::null()).output().map_err(|err| {
        let tool = if lang == Lang::Go { "go (golang-go)" } else { "make and gcc" };
        format!("cannot build {what}: is {tool} installed? {err}")
    })?;
    succeeded(&out).map_err(|why| format!("{what} does not build: {why}"))
}

/// Write each changed program's package, build them all, and check the exercises'
/// solutions as exercises.sh did (formatted, no clippy warning).
fn build_changed(changed: &[(&Variant, String)], steps: &[Step], verbose: bool) -> Programs {
    let mut programs = Programs::new();
    let mut written = Vec::new();
    for (variant, package) in changed {
        match write_package(variant, package, steps) {
            Ok(()) => written.push(package.clone()),
            Err(why) => {
                programs.insert(package.clone(), Err(why));
            }
        }
    }
    if written.is_empty() {
        return programs;
    }
    if let Err(why) = write_workspace(&written) {
        programs.extend(written.iter().map(|package| (package.clone(), Err(why.clone()))));
        return programs;
    }
    for package in &written {
        programs.insert(package.clone(), Ok(target_dir().join("debug").join(package)));
    }
    build(&written, verbose, &mut programs);
    let exercises: Vec<String> = changed
        .iter()
        .filter(|(variant, _)| matches!(variant, Variant::Exercise { .. }))
        .map(|(_, package)| package.clone())
        .filter(|package| matches!(programs.get(package), Some(Ok(_))))
        .collect();
    check_style(&exercises, &mut programs);
    programs
}

/// The package of one changed program: its Cargo.toml and its src/main.rs.
fn write_package(variant: &Variant, package: &str, steps: &[Step]) -> Result<(), String> {
    let step = Step::number(variant.step())?;
    let dir = scratch_dir().join(package);
    let _ = fs::remove_dir_all(&dir);
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|err| format!("cannot create {}: {err}", src.display()))?;
    // Three folders below the repository: target/proofs/<package>.
    let dependencies = mine::dependencies(&step, "../../../")?;
    let manifest = format!(
        "# Made by `cargo course dev proofs`, and removed when it ends.\n\
         [package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\n{dependencies}"
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    write(&src.join("main.rs"), &source(variant, &step, steps)?)
}

/// The variant's main.rs.
fn source(variant: &Variant, step: &Step, steps: &[Step]) -> Result<String, String> {
    let program = || read(&step.dir().join("src/main.rs"));
    match variant {
        Variant::Starter { .. } => starter::make(step),
        Variant::Solved { .. } => program(),
        Variant::Exercise { name, .. } => solution(step, name),
        Variant::ExerciseStarter { name, .. } => starter::exercise_starter(step, name),
        Variant::Mistake(mistake) => {
            let file = format!("{}/src/main.rs", step_name(steps, step.number));
            match &mistake.exercise {
                Some(name) => mistake.apply(&solution(step, name)?, &format!("{file} + {name}")),
                None => mistake.apply(&program()?, &file),
            }
        }
        Variant::Course { .. } | Variant::Language { .. } => {
            Err("the course's and other languages' programs are not built here".into())
        }
    }
}

/// Step `step`'s program with the reference solution of its exercise `name` applied,
/// made in a folder of its own under the system's temporary directory.
pub fn solution(step: &Step, name: &str) -> Result<String, String> {
    let unique = format!("course-solution-{}-{name}-{}", step.number, std::process::id());
    let dir = std::env::temp_dir().join(unique);
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|err| format!("cannot create {}: {err}", src.display()))?;
    let solved = write(&src.join("main.rs"), &read(&step.dir().join("src/main.rs"))?)
        .and_then(|()| apply_solution(&dir, step, name))
        .and_then(|()| read(&src.join("main.rs")));
    let _ = fs::remove_dir_all(&dir);
    solved
}

/// Apply `stepNN-*/exercises/NAME.patch` to `dir`'s src/main.rs with `git apply`:
/// it must change the step's src/main.rs only, and the exercise must have its
/// entry (with its check's command) in the step's exercises/README.md.
fn apply_solution(dir: &Path, step: &Step, name: &str) -> Result<(), String> {
    let exercises = step.dir().join("exercises");
    let readme = read(&exercises.join("README.md"))?;
    let command = format!("cargo test -p {} --test exercises -- {name}`", step.name);
    if !readme.contains(&command) {
        return Err(format!(
            "no entry with its check ({}) in {}/exercises/README.md",
            command.trim_end_matches('`'),
            step.name
        ));
    }
    let patch = exercises.join(format!("{name}.patch"));
    let numstat = git_apply(dir, &["--numstat"], &patch)?;
    let changed: Vec<&str> = numstat.lines().filter_map(|line| line.split('\t').nth(2)).collect();
    let main = format!("{}/src/main.rs", step.name);
    if changed != [main.as_str()] {
        return Err(format!(
            "{}: must change {main} only; it changes: {}",
            mine::relative(&patch),
            changed.join(" ")
        ));
    }
    // a/stepNN-…/src/main.rs is the package's src/main.rs.
    git_apply(dir, &["-p2"], &patch).map(|_| ())
}

/// `git apply ARGS PATCH` in `dir`, outside any repository (GIT_CEILING_DIRECTORIES
/// stops git from finding the course's, so paths are the folder's); its stdout.
fn git_apply(dir: &Path, args: &[&str], patch: &Path) -> Result<String, String> {
    let mut git = Command::new("git");
    git.current_dir(dir).arg("apply").args(args).arg(patch);
    git.env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir));
    let out = git.stdin(Stdio::null()).output().map_err(|err| format!("cannot run git: {err}"))?;
    succeeded(&out).map_err(|why| format!("git apply {}: {why}", mine::relative(patch)))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The scratch workspace: the packages as members, one profile, the course's lock
/// file (the very versions the course was tested with, no registry lookup).
fn write_workspace(packages: &[String]) -> Result<(), String> {
    let members: Vec<String> = packages.iter().map(|package| format!("\"{package}\"")).collect();
    let manifest = format!(
        "# Made by `cargo course dev proofs`, and removed when it ends.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
         [profile.dev]\ndebug = \"line-tables-only\"\n",
        members.join(", ")
    );
    write(&scratch_dir().join("Cargo.toml"), &manifest)?;
    let lock = repo().join("Cargo.lock");
    fs::copy(&lock, scratch_dir().join("Cargo.lock"))
        .map(|_| ())
        .map_err(|err| format!("cannot copy {}: {err}", lock.display()))
}

/// `cargo build` of every package at once (going on past one that does not build);
/// a package whose program is not there afterwards gets its own build's errors.
fn build(packages: &[String], verbose: bool, programs: &mut Programs) {
    for package in packages {
        let _ = fs::remove_file(target_dir().join("debug").join(package));
    }
    let mut build = scratch_cargo("build", verbose);
    build.arg("--workspace").arg("--keep-going");
    if verbose {
        let _ = build.status();
    } else {
        let _ = build.output();
    }
    for package in packages {
        if !target_dir().join("debug").join(package).exists() {
            let mut alone = scratch_cargo("build", false);
            alone.args(["-p", package]);
            let why = alone.output().map_err(|err| err.to_string()).and_then(|out| succeeded(&out));
            let why = why.err().unwrap_or_else(|| "no program came out".into());
            programs.insert(package.clone(), Err(format!("{package} does not build: {why}")));
        }
    }
}

/// The exercises' solutions are the book's: formatted (rustfmt) and without a
/// clippy warning, as the course's own code.
fn check_style(packages: &[String], programs: &mut Programs) {
    for package in packages {
        let main = scratch_dir().join(package).join("src/main.rs");
        let mut rustfmt = Command::new("rustfmt");
        rustfmt.args(["--edition", "2024", "--check", "--color", "never"]).arg(&main);
        let formatted = rustfmt.output().map_err(|err| format!("cannot run rustfmt: {err}"));
        if let Err(why) = formatted.and_then(|out| succeeded(&out)) {
            programs
                .insert(package.clone(), Err(format!("not formatted (rustfmt --check): {why}")));
        }
    }
    let mut clippy = scratch_cargo("clippy", false);
    clippy.arg("--keep-going");
    clippy.args(packages.iter().flat_map(|package| ["-p", package.as_str()]));
    clippy.args(["--", "-D", "warnings"]);
    if clippy.output().is_ok_and(|out| out.status.success()) {
        return;
    }
    for package in packages {
        let mut alone = scratch_cargo("clippy", false);
        alone.args(["-p", package, "--", "-D", "warnings"]);
        let linted = alone.output().map_err(|err| format!("cannot run cargo clippy: {err}"));
        if let Err(why) = linted.and_then(|out| succeeded(&out)) {
            programs.insert(package.clone(), Err(format!("clippy -D warnings: {why}")));
        }
    }
}

/// `cargo SUBCOMMAND` on the scratch workspace, into the course's target directory.
fn scratch_cargo(subcommand: &str, verbose: bool) -> Command {
    let mut cargo = cargo();
    cargo.arg(subcommand);
    if !verbose {
        cargo.arg("-q");
    }
    cargo.arg("--manifest-path").arg(scratch_dir().join("Cargo.toml"));
    cargo.arg("--target-dir").arg(target_dir());
    cargo.current_dir(repo()).stdin(Stdio::null());
    cargo
}

/// Ok when the command succeeded; else its last lines, as the reason.
pub fn succeeded(out: &Output) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let last = lines[lines.len().saturating_sub(6)..].join(" | ");
    Err(format!("{} ({last})", out.status))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}
