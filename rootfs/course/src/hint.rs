//! `cargo course hint N`: a hint for the next TODO of your copy of step N (the first
//! `TODO(step N)` comment still in `stepNN-*/mine/src/main.rs`), one level more each
//! time you ask: 1 what must happen and why, 2 which call to look at, 3 the lines
//! to write. The hints are the block's own, in `stepNN-*/starter.todos`
//! (crate::starter); the level reached for each TODO is kept in `mine/.hints`.
//!
//! `cargo course hint N --exercise NAME` does the same for the `TODO(NAME)` comments
//! that `cargo course start N --exercise NAME` put into your copy, with the hints of
//! `stepNN-*/exercises/NAME.todos`, and keeps its levels in `mine/.hints-NAME`.

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
    /// A hint for the next TODO(NAME) of the step's exercise NAME instead (put into your
    /// copy by `cargo course start N --exercise NAME`)
    #[arg(long, value_name = "NAME")]
    exercise: Option<String>,
}

/// `cargo course hint N`.
pub fn run(args: Args) -> ExitCode {
    match hint(args.step, args.exercise.as_deref()) {
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

/// Whose TODOs the hints are for: the step's own, or one of its exercises'.
struct Subject {
    /// What marks them: `TODO(step 7)`, `TODO(lock_seccomp)`.
    mark: String,
    /// Their blocks, with the hints.
    todos: Vec<Todo>,
    /// The commands that give the next hint and that grade.
    hint: String,
    grade: String,
    /// The command that puts the TODOs into a copy.
    start: String,
    /// The file of your copy that keeps the levels reached: `.hints`, `.hints-NAME`.
    state: String,
    exercise: Option<String>,
}

impl Subject {
    fn of(step: &Step, exercise: Option<&str>) -> Result<Subject, String> {
        let n = step.number;
        let Some(name) = exercise else {
            return Ok(Subject {
                mark: format!("TODO(step {n})"),
                todos: starter::todos(&read(&step.dir().join("starter.todos"))?),
                hint: format!("cargo course hint {n}"),
                grade: format!("cargo course grade {n}"),
                start: format!("cargo course start {n}"),
                state: ".hints".into(),
                exercise: None,
            });
        };
        Ok(Subject {
            mark: format!("TODO({name})"),
            todos: starter::exercise_todos(step, name)?,
            hint: format!("cargo course hint {n} --exercise {name}"),
            grade: format!("cargo course grade {n} --exercise {name}"),
            start: format!("cargo course start {n} --exercise {name}"),
            state: format!(".hints-{name}"),
            exercise: Some(name.to_string()),
        })
    }
}

fn hint(number: u8, exercise: Option<&str>) -> Result<String, String> {
    let step = Step::number(number)?;
    let subject = Subject::of(&step, exercise)?;
    let mine = mine::dir(&step);
    let main = mine.join("src/main.rs");
    if !main.exists() {
        return Err(format!(
            "you have no copy of {} yet: run `{}` first",
            step.name, subject.start
        ));
    }
    hint_in(&main, &mine.join(&subject.state), &subject)
}

/// The hint for the next TODO of `subject` in the program `main`, one level more
/// than last time (the levels are kept in `state`).
fn hint_in(main: &Path, state: &Path, subject: &Subject) -> Result<String, String> {
    let program = read(main)?;
    let where_ = mine::relative(main);
    let Some(next) = next_todo(&program, &subject.todos, &subject.mark) else {
        let hint = match &subject.exercise {
            Some(_) => format!(" (`{}` puts them in)", subject.start),
            None => String::new(),
        };
        return Ok(format!(
            "No {} is left in {where_}{hint}: grade it with `{}`.",
            subject.mark, subject.grade
        ));
    };
    let mut levels = Levels::read(state);
    let hints = next.todo.map_or(&[][..], |todo| &todo.hints[..]);
    let level = levels.next(&next.key, hints.len());
    levels.write(state)?;
    Ok(render(&format!("{where_}:{}", next.line), &next, hints, level, subject))
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

/// The first line of `program` marked `mark` (`TODO(step N)`, `TODO(NAME)`) that
/// is one of the blocks (the same first line, or most of its words if you edited
/// it); if none is, the first such line, with no block.
fn next_todo<'t>(program: &str, todos: &'t [Todo], mark: &str) -> Option<Next<'t>> {
    let marked: Vec<(usize, String)> = program
        .lines()
        .enumerate()
        .filter(|(_, line)| starter::mark(line) == Some(mark))
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
/// words with it (at least half of the block's, its mark aside).
fn block_of<'t>(key: &str, todos: &'t [Todo]) -> Option<&'t Todo> {
    let named = todos.iter().filter_map(|todo| Some((todo.key()?, todo)));
    let exact = named.clone().find(|(own, _)| own == key).map(|(_, todo)| todo);
    let words = |text: &str| {
        let rest = starter::mark(text).and_then(|mark| text.split_once(mark));
        let rest = rest.map_or(text, |(_, rest)| rest.trim_start_matches(':'));
        rest.split_whitespace().map(str::to_string).collect::<Vec<_>>()
    };
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
fn render(place: &str, next: &Next, hints: &[String], level: usize, subject: &Subject) -> String {
    let Subject { hint: again, grade, .. } = subject;
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
        true => format!("Ask again for more: `{again}`."),
        false => format!(
            "That was the last hint for this TODO. Once it is written, delete its TODO \
             comment: `{again}` then moves on to the next one, and `{grade}` says how far \
             you are."
        ),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODOS: &str = "# step 9\n\nbefore: fn a() {\n// TODO(step 9): make a\n//   because\nhint: a must be\nhint: see man a(2)\nhint:\n    a();\n\nbefore: fn b() {\n// TODO(step 9): make b from the c\nhint: b1\nhint: b2\nhint: b3\n";

    /// Step 9's own TODOs, those of TODOS.
    fn step9() -> Subject {
        Subject {
            mark: "TODO(step 9)".into(),
            todos: starter::todos(TODOS),
            hint: "cargo course hint 9".into(),
            grade: "cargo course grade 9".into(),
            start: "cargo course start 9".into(),
            state: ".hints".into(),
            exercise: None,
        }
    }

    fn sample(program: &str) -> (Option<(usize, String)>, Option<String>) {
        let todos = starter::todos(TODOS);
        let next = next_todo(program, &todos, "TODO(step 9)");
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
        let subject = step9();
        let todos = &subject.todos;
        let next = Next { line: 2, key: "TODO(step 9): make a".into(), todo: todos.first() };
        let hints = &todos[0].hints;
        let first = render("m.rs:2", &next, hints, 1, &subject);
        assert!(first.starts_with("m.rs:2: TODO(step 9): make a\n\nHint 1 of 3 (what must happen"));
        assert!(first.contains("  a must be\n") && first.contains("`cargo course hint 9`"));
        let last = render("m.rs:2", &next, hints, 3, &subject);
        assert!(last.contains("Hint 3 of 3 (the code):\n    a();\n"), "{last}");
        assert!(last.contains("delete its TODO comment"));
        let none = Next { todo: None, ..next };
        assert!(render("m.rs:2", &none, &[], 1, &subject).contains("has no hints"));
    }

    /// Every hint of the course's steps can be found from its starter's TODO.
    #[test]
    fn every_starters_first_todo_finds_its_hints() {
        for step in Step::all().unwrap_or_default() {
            let starter = starter::make(&step).unwrap_or_default();
            let text = read(&step.dir().join("starter.todos")).unwrap_or_default();
            let todos = starter::todos(&text);
            let next = next_todo(&starter, &todos, &format!("TODO(step {})", step.number));
            let hints = next.and_then(|next| next.todo).map_or(0, |todo| todo.hints.len());
            assert_eq!(hints, 3, "{}", step.name);
        }
    }

    /// In every exercise's starter, `hint --exercise` finds the exercise's first
    /// block, with its three hints.
    #[test]
    fn every_exercises_first_todo_finds_its_hints() {
        for step in Step::all().unwrap_or_default() {
            for name in starter::exercises_with_todos(&step) {
                let starter = starter::exercise_starter(&step, &name).unwrap_or_default();
                let subject = Subject::of(&step, Some(&name)).unwrap_or_else(|err| panic!("{err}"));
                assert_eq!(subject.state, format!(".hints-{name}"));
                let next = next_todo(&starter, &subject.todos, &subject.mark);
                let todo = next.and_then(|next| next.todo);
                assert!(todo.is_some_and(|todo| std::ptr::eq(todo, &subject.todos[0])), "{name}");
                assert_eq!(todo.map_or(0, |todo| todo.hints.len()), 3, "{name}");
            }
        }
    }

    /// `hint 7 --exercise lock_network` in a copy that has its TODO and a step's:
    /// one level more each time, its own levels, and nothing left once it is done.
    #[test]
    fn an_exercises_hints_come_one_level_at_a_time() {
        let step = Step::number(7).unwrap_or_else(|err| panic!("{err}"));
        let subject =
            Subject::of(&step, Some("lock_network")).unwrap_or_else(|err| panic!("{err}"));
        let dir = std::env::temp_dir().join(format!("course-hint-exercise-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::create_dir_all(&dir);
        let (main, state) = (dir.join("main.rs"), dir.join(&subject.state));
        let starter = starter::exercise_starter(&step, "lock_network").unwrap_or_default();
        let program = format!("// TODO(step 7): a step's TODO, not the exercise's\n{starter}");
        assert!(fs::write(&main, &program).is_ok());
        for level in 1..=4 {
            let text = hint_in(&main, &state, &subject).unwrap_or_else(|err| panic!("{err}"));
            let first = text.lines().next().unwrap_or_default();
            assert!(first.contains("TODO(lock_network): give the container"), "{text}");
            let shown = format!("Hint {} of 3", level.min(3));
            assert!(text.contains(&shown), "{level}: {text}");
            assert!(text.contains("cargo course hint 7 --exercise lock_network"), "{text}");
        }
        // Written, and its TODO line deleted.
        let done: Vec<&str> =
            program.lines().filter(|line| !line.contains("lock_network")).collect();
        assert!(fs::write(&main, done.join("\n")).is_ok());
        let text = hint_in(&main, &state, &subject).unwrap_or_else(|err| panic!("{err}"));
        assert!(text.starts_with("No TODO(lock_network) is left in "), "{text}");
        assert!(text.contains("`cargo course grade 7 --exercise lock_network`"), "{text}");
        let _ = fs::remove_dir_all(&dir);
    }
}
