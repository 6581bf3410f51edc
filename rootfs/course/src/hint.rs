//! `cargo course hint N`: a hint for the next TODO of your copy of step N (the first
//! `TODO(step N)` comment still in `stepNN-*/mine/src/main.rs`), one level more each
//! time you ask: 1 what must happen and why, 2 which call to look at, 3 the lines
//! to write. The hints are the block's own, in `stepNN-*/starter.todos`
//! (crate::starter); the level reached for each TODO is kept in `mine/.hints`.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::mine;
use crate::starter::{self, Todo};
use crate::steps::Step;

#[derive(clap::Args)]
pub struct Args {
    /// The step you are writing, 1 to 7: the hint is for your copy's next TODO(step N)
    #[arg(value_parser = clap::value_parser!(u8).range(1..=7))]
    step: u8,
}

/// `cargo course hint N`.
pub fn run(args: Args) -> ExitCode {
    match hint(args.step) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("course hint: {message}");
            ExitCode::from(2)
        }
    }
}

fn hint(number: u8) -> Result<String, String> {
    let step = Step::number(number)?;
    let mine = mine::dir(&step);
    let main = mine.join("src/main.rs");
    if !main.exists() {
        return Err(format!(
            "you have no copy of {} yet: run `cargo course start {number}` first",
            step.name
        ));
    }
    let program = read(&main)?;
    let todos = starter::todos(&read(&step.dir().join("starter.todos"))?);
    let where_ = mine::relative(&main);
    let Some(next) = next_todo(&program, &todos, number) else {
        return Ok(format!(
            "No TODO(step {number}) is left in {where_}: grade it with `cargo course grade {number}`."
        ));
    };
    let state = mine.join(".hints");
    let mut levels = Levels::read(&state);
    let hints = next.todo.map_or(&[][..], |todo| &todo.hints[..]);
    let level = levels.next(&next.key, hints.len());
    levels.write(&state)?;
    Ok(render(&format!("{where_}:{}", next.line), &next, hints, level, number))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// The next TODO of a program: its line (from 1), its text, and its block.
struct Next<'t> {
    line: usize,
    key: String,
    todo: Option<&'t Todo>,
}

/// The first `TODO(step N)` line of `program` that is one of the step's blocks
/// (the same first line, or most of its words if you edited it); if none is, the
/// first such line, with no block.
fn next_todo<'t>(program: &str, todos: &'t [Todo], number: u8) -> Option<Next<'t>> {
    let mark = format!("TODO(step {number})");
    let marked: Vec<(usize, String)> = program
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(&mark))
        .map(|(i, line)| (i + 1, starter::key(line)))
        .collect();
    let matched = marked.iter().find_map(|(line, key)| {
        let todo = block_of(key, todos)?;
        Some(Next { line: *line, key: key.clone(), todo: Some(todo) })
    });
    let first = marked.into_iter().next();
    matched.or(first.map(|(line, key)| Next { line, key, todo: None }))
}

/// The block whose first TODO line is `key`; else the one sharing most of its
/// words with it (at least half of the block's, `TODO(step N)` aside).
fn block_of<'t>(key: &str, todos: &'t [Todo]) -> Option<&'t Todo> {
    let named = todos.iter().filter_map(|todo| Some((todo.key()?, todo)));
    let exact = named.clone().find(|(own, _)| own == key).map(|(_, todo)| todo);
    let words =
        |text: &str| text.split_whitespace().skip(2).map(str::to_string).collect::<Vec<_>>();
    let mine = words(key);
    let shared = |own: &str| words(own).iter().filter(|word| mine.contains(word)).count();
    let close = named
        .filter(|(own, _)| shared(own) > 0 && 2 * shared(own) >= words(own).len())
        .max_by_key(|(own, _)| shared(own))
        .map(|(_, todo)| todo);
    exact.or(close)
}

/// The levels reached, by TODO: `mine/.hints`, one `LEVEL TODO-LINE` a line.
struct Levels(Vec<(usize, String)>);

impl Levels {
    fn read(path: &Path) -> Levels {
        let text = fs::read_to_string(path).unwrap_or_default();
        let parse = |line: &str| {
            let (level, key) = line.split_once(' ')?;
            Some((level.parse().ok()?, key.to_string()))
        };
        Levels(text.lines().filter_map(parse).collect())
    }

    /// One level more for `key` (from 1, at most `most`): the level to show.
    fn next(&mut self, key: &str, most: usize) -> usize {
        match self.0.iter_mut().find(|(_, own)| own == key) {
            Some((level, _)) => {
                *level = (*level + 1).min(most.max(1));
                *level
            }
            None => {
                self.0.push((1, key.to_string()));
                1
            }
        }
    }

    fn write(&self, path: &Path) -> Result<(), String> {
        let text: String = self.0.iter().map(|(level, key)| format!("{level} {key}\n")).collect();
        fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
    }
}

/// What `hint` prints: where the TODO is, the hint of `level`, and what next.
fn render(place: &str, next: &Next, hints: &[String], level: usize, number: u8) -> String {
    let mut out = format!("{place}: {}\n\n", next.key);
    let Some(hint) = hints.get(level - 1) else {
        out += "This TODO is not one of the course's (did you reword it?): it has no hints. \
                Its text, the chapter's \"Write it yourself\" and `cargo course grade` are your guides.";
        return out;
    };
    let what = ["what must happen, and why", "where to look", "the code"];
    let title = what.get(level - 1).unwrap_or(&"more");
    out += &format!("Hint {level} of {} ({title}):\n", hints.len());
    for line in hint.lines() {
        out += &match line.is_empty() {
            true => "\n".to_string(),
            false => format!("  {line}\n"),
        };
    }
    out += "\n";
    out += &match level < hints.len() {
        true => format!("Ask again for more: `cargo course hint {number}`."),
        false => format!(
            "That was the last hint for this TODO. Once it is written, delete its TODO \
             comment: `cargo course hint {number}` then moves on to the next one, and \
             `cargo course grade {number}` says how far you are."
        ),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODOS: &str = "# step 9\n\nbefore: fn a() {\n// TODO(step 9): make a\n//   because\nhint: a must be\nhint: see man a(2)\nhint:\n    a();\n\nbefore: fn b() {\n// TODO(step 9): make b from the c\nhint: b1\nhint: b2\nhint: b3\n";

    fn sample(program: &str) -> (Option<(usize, String)>, Option<String>) {
        let todos = starter::todos(TODOS);
        let next = next_todo(program, &todos, 9);
        let found = next.as_ref().map(|next| (next.line, next.key.clone()));
        let first = next.and_then(|next| next.todo).and_then(|todo| todo.hints.first().cloned());
        (found, first)
    }

    #[test]
    fn the_next_todo_is_the_first_left_of_the_course() {
        let program = "use x;\n// TODO(step 9): make a\n//   because\nfn a() {}\n    // TODO(step 9): make b from the c\nfn b() {}\n";
        let found = Some((2, "TODO(step 9): make a".to_string()));
        assert_eq!(sample(program), (found, Some("a must be".into())));
        // a written, its comment deleted: b is next.
        let program = "fn a() {}\n    // TODO(step 9): make b from the c\nfn b() {}\n";
        let found = Some((2, "TODO(step 9): make b from the c".to_string()));
        assert_eq!(sample(program), (found, Some("b1".into())));
        // A TODO of another step, or none: nothing left.
        assert_eq!(sample("// TODO(step 8): make a\n"), (None, None));
    }

    #[test]
    fn a_reworded_todo_still_finds_its_hints_and_a_foreign_one_has_none() {
        let reworded = "// TODO(step 9): make b from c\nfn b() {}\n";
        assert_eq!(sample(reworded).1, Some("b1".into()));
        let foreign = "// TODO(step 9): tidy up the error messages\n";
        assert_eq!(sample(foreign), (Some((1, starter::key(foreign.trim()))), None));
    }

    #[test]
    fn each_call_shows_one_level_more_and_stays_on_the_last() {
        let dir = std::env::temp_dir().join(format!("course-hint-test-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let path = dir.join(".hints");
        let _ = fs::remove_file(&path);
        let mut shown = Vec::new();
        for key in ["a", "a", "b", "a", "a"] {
            let mut levels = Levels::read(&path);
            shown.push(levels.next(key, 3));
            assert!(levels.write(&path).is_ok());
        }
        assert_eq!(shown, [1, 2, 1, 3, 3]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_hint_says_its_level_and_what_next() {
        let todos = starter::todos(TODOS);
        let next = Next { line: 2, key: "TODO(step 9): make a".into(), todo: todos.first() };
        let hints = &todos[0].hints;
        let first = render("m.rs:2", &next, hints, 1, 9);
        assert!(first.starts_with("m.rs:2: TODO(step 9): make a\n\nHint 1 of 3 (what must happen"));
        assert!(first.contains("  a must be\n") && first.contains("`cargo course hint 9`"));
        let last = render("m.rs:2", &next, hints, 3, 9);
        assert!(last.contains("Hint 3 of 3 (the code):\n    a();\n"), "{last}");
        assert!(last.contains("delete its TODO comment"));
        let none = Next { todo: None, ..next };
        assert!(render("m.rs:2", &none, &[], 1, 9).contains("has no hints"));
    }

    /// Every hint of the course's steps can be found from its starter's TODO.
    #[test]
    fn every_starters_first_todo_finds_its_hints() {
        for step in Step::all().unwrap_or_default() {
            let starter = starter::make(&step).unwrap_or_default();
            let text = read(&step.dir().join("starter.todos")).unwrap_or_default();
            let todos = starter::todos(&text);
            let next = next_todo(&starter, &todos, step.number);
            let hints = next.and_then(|next| next.todo).map_or(0, |todo| todo.hints.len());
            assert_eq!(hints, 3, "{}", step.name);
        }
    }
}
