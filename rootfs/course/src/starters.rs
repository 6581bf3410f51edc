//! The starters cannot drift from the programs: step N's starter (`stepNN-*/starter.rs`,
//! what `cargo course start N` copies) is step N-1's `main.rs` plus `// TODO(step N)`
//! comment blocks, and nothing else. When a step's program changes, this test fails
//! and says how to carry the TODO blocks over:
//!
//!     COURSE_UPDATE_STARTERS=1 cargo test -p course starters
//!
//! (each block goes back in front of the same line of code; review the result with
//! `git diff`). A learner's copy that compiles and fails its step's feature checks
//! until the TODOs are done follows: `.ci/starters.sh` proves it end to end.

use std::fs;

use crate::steps::Step;

/// A block of TODO comment lines and the line of code it stands in front of.
struct Todo {
    lines: Vec<String>,
    before: String,
}

/// Whether `line` opens step `n`'s TODO block, or continues one (`//` and two spaces).
fn opens(line: &str, n: u8) -> bool {
    line.trim_start().starts_with(&format!("// TODO(step {n})"))
}
fn continues(line: &str) -> bool {
    line.trim_start().starts_with("//  ")
}

/// Split a starter into the program it was made from and its TODO blocks.
fn split(starter: &str, n: u8) -> (String, Vec<Todo>) {
    let mut program = String::new();
    let mut todos: Vec<Todo> = Vec::new();
    let mut open: Option<Vec<String>> = None;
    for line in starter.lines() {
        if opens(line, n) || (open.is_some() && continues(line)) {
            open.get_or_insert_with(Vec::new).push(line.to_string());
            continue;
        }
        if let Some(lines) = open.take() {
            todos.push(Todo { lines, before: line.to_string() });
        }
        program.push_str(line);
        program.push('\n');
    }
    (program, todos)
}

/// The TODO blocks put back in front of their lines of code in `program`, in order.
fn rebase(program: &str, todos: &[Todo]) -> Result<String, String> {
    let lines: Vec<&str> = program.lines().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for todo in todos {
        let found = lines[at..].iter().position(|line| *line == todo.before).ok_or_else(|| {
            format!("no line `{}` left to put this TODO in front of: place it by hand", todo.before)
        })?;
        out.extend(lines[at..at + found].iter().map(|line| line.to_string()));
        out.extend(todo.lines.iter().cloned());
        at += found;
    }
    out.extend(lines[at..].iter().map(|line| line.to_string()));
    Ok(out.join("\n") + "\n")
}

#[test]
fn each_starter_is_the_previous_program_with_todos() {
    let steps = Step::all().unwrap_or_else(|err| panic!("{err}"));
    let update = std::env::var_os("COURSE_UPDATE_STARTERS").is_some();
    for pair in steps.windows(2) {
        let (previous, step) = (&pair[0], &pair[1]);
        let path = step.dir().join("starter.rs");
        let starter = fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
        let program_path = previous.dir().join("src/main.rs");
        let program = fs::read_to_string(&program_path)
            .unwrap_or_else(|err| panic!("{program_path:?}: {err}"));
        let (stripped, todos) = split(&starter, step.number);
        assert!(!todos.is_empty(), "{path:?} has no `// TODO(step {})` block", step.number);
        if stripped == program {
            continue;
        }
        let rebased = rebase(&program, &todos).unwrap_or_else(|err| panic!("{path:?}: {err}"));
        if update {
            fs::write(&path, rebased).unwrap_or_else(|err| panic!("{path:?}: {err}"));
            continue;
        }
        panic!(
            "{} is no longer {}'s program plus TODO blocks ({} changed). Carry the TODOs \
             over with `COURSE_UPDATE_STARTERS=1 cargo test -p course starters`, then read \
             the result (git diff): each TODO must still say what the step adds.",
            path.display(),
            previous.name,
            program_path.display()
        );
    }
}

#[test]
fn step_1_starts_from_a_skeleton_with_todos() {
    let step = Step::number(1).unwrap_or_else(|err| panic!("{err}"));
    let path = step.dir().join("starter.rs");
    let starter = fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
    assert!(starter.lines().any(|line| opens(line, 1)), "{path:?} has no TODO(step 1)");
}

#[test]
fn rebase_puts_each_todo_back_in_front_of_its_line() {
    let starter = "a\n// TODO(step 2): x\n//   y\nb\nc\n    // TODO(step 2): z\n    d\n";
    let (program, todos) = split(starter, 2);
    assert_eq!(program, "a\nb\nc\n    d\n");
    let moved = rebase("a\nnew\nb\nc\n    d\n", &todos).unwrap_or_default();
    assert_eq!(moved, "a\nnew\n// TODO(step 2): x\n//   y\nb\nc\n    // TODO(step 2): z\n    d\n");
}
