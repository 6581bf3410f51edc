//! The starters: what `cargo course start N` writes into your copy. Step N's
//! starter is step N-1's program (`stepN-1-*/src/main.rs`) with the TODO comments
//! of `stepNN-*/starter.todos` put in, each block in front of the line its
//! `before:` names: made from the reference program each time, it cannot drift
//! from it. Step 1, which has no step before it, starts from its own program with
//! the code it asks you to write taken out: a block that says `instead of: LINE`
//! and `through: LINE` takes the place of those lines and all between.

use std::fs;
use std::path::Path;

use crate::steps::Step;

/// A block of TODO comment lines and the line of code it goes in front of; or,
/// with `through`, the lines it replaces, from `before` through that one.
struct Todo {
    before: String,
    through: Option<String>,
    lines: Vec<String>,
}

/// The starter of `step`: the text of your copy's `src/main.rs`.
pub fn make(step: &Step) -> Result<String, String> {
    // Step 1 starts from its own program, with its feature taken out.
    let previous = Step::number(step.number.saturating_sub(1).max(1))?;
    let program = read(&previous.dir().join("src/main.rs"))?;
    let todos = todos(&read(&step.dir().join("starter.todos"))?);
    put_in(&program, &todos).map_err(|line| {
        format!(
            "{}/starter.todos: no line `{line}` left in {}/src/main.rs to put its TODO in \
             front of",
            step.name, previous.name
        )
    })
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// The blocks of a `starter.todos`: `before: LINE` (or `instead of: LINE` and
/// `through: LINE`), then the block's lines, then a blank line. Lines before the
/// first block (`#` comments) are the file's own.
fn todos(text: &str) -> Vec<Todo> {
    let mut todos: Vec<Todo> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let first = line.strip_prefix("before: ").or_else(|| line.strip_prefix("instead of: "));
        if let Some(before) = first {
            todos.push(Todo { before: before.to_string(), through: None, lines: Vec::new() });
            open = true;
        } else if let (true, Some(through), Some(todo)) =
            (open, line.strip_prefix("through: "), todos.last_mut())
        {
            todo.through = Some(through.to_string());
        } else if line.trim().is_empty() {
            open = false;
        } else if let (true, Some(todo)) = (open, todos.last_mut()) {
            todo.lines.push(line.to_string());
        }
    }
    todos
}

/// `program` with each block put in front of its line (or in place of its lines),
/// in order; or the line not found.
fn put_in(program: &str, todos: &[Todo]) -> Result<String, String> {
    let lines: Vec<&str> = program.lines().collect();
    let find = |from: usize, wanted: &String| {
        let found = lines[from..].iter().position(|line| line == wanted);
        found.map(|i| from + i).ok_or_else(|| wanted.clone())
    };
    let mut out: Vec<&str> = Vec::new();
    let mut at = 0;
    for todo in todos {
        let found = find(at, &todo.before)?;
        out.extend(&lines[at..found]);
        out.extend(todo.lines.iter().map(String::as_str));
        at = match &todo.through {
            Some(through) => find(found, through)? + 1,
            None => found,
        };
    }
    out.extend(&lines[at..]);
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every starter can be made (every `before:` line is still in the previous
    /// step's program) and says `TODO(step N)`; what it adds in front of a line is
    /// only such comments (step 1 also takes out the code it asks you to write).
    #[test]
    fn every_starter_is_the_previous_program_with_its_todos() {
        for step in Step::all().unwrap_or_default() {
            let starter = make(&step).unwrap_or_else(|err| panic!("{err}"));
            let opening = format!("TODO(step {})", step.number);
            assert!(starter.contains(&opening), "{}'s starter has no {opening}", step.name);
            let text = read(&step.dir().join("starter.todos")).unwrap_or_default();
            for todo in todos(&text).iter().filter(|todo| todo.through.is_none()) {
                let first = todo.lines.first().map(|line| line.trim_start()).unwrap_or("");
                assert!(first.starts_with(&format!("// {opening}")), "{}: {first}", step.name);
                for line in &todo.lines {
                    assert!(line.trim_start().starts_with("//"), "{}: {line}", step.name);
                }
            }
        }
    }

    #[test]
    fn each_todo_goes_in_front_of_its_line() {
        let todos = todos(
            "# a comment\n\nbefore: b\n// TODO(step 2): x\n//   y\n\nbefore:     d\n    // TODO(step 2): z\n",
        );
        let starter = put_in("a\nb\nc\n    d\n", &todos).unwrap_or_default();
        assert_eq!(starter, "a\n// TODO(step 2): x\n//   y\nb\nc\n    // TODO(step 2): z\n    d\n");
        assert_eq!(put_in("a\n", &todos).err().as_deref(), Some("b"));
    }

    #[test]
    fn a_block_instead_of_lines_takes_their_place() {
        let todos = todos("instead of: b\nthrough: c\n// TODO(step 1): x\nstub\n");
        let starter = put_in("a\nb\nx\nc\nd\n", &todos).unwrap_or_default();
        assert_eq!(starter, "a\n// TODO(step 1): x\nstub\nd\n");
    }
}
