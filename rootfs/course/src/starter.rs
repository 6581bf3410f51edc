//! The starters: what `cargo course start N` writes into your copy. Step N's
//! starter is step N-1's program (`stepN-1-*/src/main.rs`) with the TODO comments
//! of `stepNN-*/starter.todos` put in, each block in front of the line its
//! `before:` names: made from the reference program each time, it cannot drift
//! from it. Step 1, which has no step before it, starts from a skeleton,
//! `step01-exec/starter.rs`.

use std::fs;
use std::path::Path;

use crate::steps::Step;

/// A block of TODO comment lines and the line of code it goes in front of.
struct Todo {
    before: String,
    lines: Vec<String>,
}

/// The starter of `step`: the text of your copy's `src/main.rs`.
pub fn make(step: &Step) -> Result<String, String> {
    if step.number == 1 {
        return read(&step.dir().join("starter.rs"));
    }
    let previous = Step::number(step.number - 1)?;
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

/// The blocks of a `starter.todos`: `before: LINE`, then the block's lines, then a
/// blank line. Lines before the first block (`#` comments) are the file's own.
fn todos(text: &str) -> Vec<Todo> {
    let mut todos: Vec<Todo> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(before) = line.strip_prefix("before: ") {
            todos.push(Todo { before: before.to_string(), lines: Vec::new() });
            open = true;
        } else if line.trim().is_empty() {
            open = false;
        } else if let (true, Some(todo)) = (open, todos.last_mut()) {
            todo.lines.push(line.to_string());
        }
    }
    todos
}

/// `program` with each block put in front of its line, in order; or the line not found.
fn put_in(program: &str, todos: &[Todo]) -> Result<String, String> {
    let lines: Vec<&str> = program.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut at = 0;
    for todo in todos {
        let found = lines[at..].iter().position(|line| *line == todo.before);
        let found = found.ok_or_else(|| todo.before.clone())?;
        out.extend(&lines[at..at + found]);
        out.extend(todo.lines.iter().map(String::as_str));
        at += found;
    }
    out.extend(&lines[at..]);
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every starter can be made (every `before:` line is still in the previous
    /// step's program), adds only comments saying `TODO(step N)`, and is the previous
    /// program once they are taken out again.
    #[test]
    fn every_starter_is_the_previous_program_with_its_todos() {
        for step in Step::all().unwrap_or_default() {
            let starter = make(&step).unwrap_or_else(|err| panic!("{err}"));
            let opening = format!("TODO(step {})", step.number);
            assert!(starter.contains(&opening), "{}'s starter has no {opening}", step.name);
            if step.number == 1 {
                continue;
            }
            let text = read(&step.dir().join("starter.todos")).unwrap_or_default();
            for todo in todos(&text) {
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
}
