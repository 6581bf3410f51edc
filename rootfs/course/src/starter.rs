//! The starters: what `cargo course start N` writes into your copy. Step N's
//! starter is step N-1's program with the TODO comments of `stepNN-*/starter.todos`
//! put in, each block in front of the line its `before:` names, and with step N's
//! own header (its `//!` doc comment and clap `about`). Made from the course's
//! program ([`make`]) each time, it cannot drift from it; made from your own copy
//! of step N-1 ([`make_from`]), the blocks whose line yours does not have are
//! listed at the top instead. Step 1, which has no step before it, starts from its
//! own program with the code it asks you to write taken out: a block that says
//! `instead of: LINE` and `through: LINE` takes the place of those lines and all
//! between.
//!
//! After its lines, a block may hold its hints (`cargo course hint N`, crate::hint):
//! each `hint:` line starts the next level, and the lines after it, up to the next
//! `hint:` or the next block, are part of it (indented by two, which is dropped;
//! code as is, blank lines too).
//!
//! An exercise may have TODOs too, in the same format: `stepNN-*/exercises/NAME.todos`,
//! whose blocks say `TODO(NAME)` and go in front of lines of step N's own program
//! (the exercise changes it). [`exercise_starter`] puts them into the course's
//! program; [`add_exercise`] into your copy (`cargo course start N --exercise NAME`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::steps::Step;

/// A block of TODO comment lines and the line of code it goes in front of; or,
/// with `through`, the lines it replaces, from `before` through that one. Then its
/// hints, one per level.
pub struct Todo {
    before: String,
    through: Option<String>,
    lines: Vec<String>,
    pub hints: Vec<String>,
}

impl Todo {
    /// What names the block: its first TODO line (`TODO(step N)`, or an exercise's
    /// `TODO(NAME)`), as [`key`] reads it.
    pub fn key(&self) -> Option<String> {
        self.lines.iter().find(|line| mark(line).is_some()).map(|line| key(line))
    }
}

/// A TODO line without its indentation and comment slashes: `TODO(step 3): …`.
pub fn key(line: &str) -> String {
    line.trim().trim_start_matches('/').trim().to_string()
}

/// The mark of a TODO line, which says whose TODO it is: `TODO(step 3)`, or an
/// exercise's `TODO(lock_seccomp)`.
pub fn mark(line: &str) -> Option<&str> {
    let start = line.find("TODO(")?;
    let end = start + line[start..].find(')')?;
    Some(&line[start..=end])
}

/// Where a starter comes from: the course's program of step N-1, or your copy of it.
#[derive(Clone, Copy, PartialEq)]
pub enum Base {
    Course,
    Yours,
}

/// The starter of `step`, from the course's program: the text of your copy's
/// `src/main.rs`. Every block must find its line.
pub fn make(step: &Step) -> Result<String, String> {
    // Step 1 starts from its own program, with its feature taken out.
    let previous = Step::number(step.number.saturating_sub(1).max(1))?;
    let program = read(&previous.dir().join("src/main.rs"))?;
    let todos = todos(&read(&step.dir().join("starter.todos"))?);
    let (text, unplaced) = put_in(&program, &todos, Base::Course);
    if let Some(todo) = unplaced.first() {
        return Err(format!(
            "{}/starter.todos: no line `{}` left in {}/src/main.rs to put its TODO in front of",
            step.name, todo.before, previous.name
        ));
    }
    headed(step, &text, Base::Course)
}

/// The starter of `step` made from `program`, your own step N-1: the blocks go in
/// front of their lines where yours has them; the others are listed at the top,
/// and their first lines returned.
pub fn make_from(step: &Step, program: &str) -> Result<(String, Vec<String>), String> {
    let todos = todos(&read(&step.dir().join("starter.todos"))?);
    let (text, unplaced) = put_in(program, &todos, Base::Yours);
    let text = headed(step, &text, Base::Yours)?;
    let listed = unplaced_comment(&unplaced);
    let keys = unplaced.iter().filter_map(|todo| todo.key()).collect();
    Ok((insert_after_header(&text, &listed), keys))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// Where the TODOs of `step`'s exercise `name` are: `stepNN-*/exercises/NAME.todos`.
pub fn exercise_file(step: &Step, name: &str) -> PathBuf {
    step.dir().join("exercises").join(format!("{name}.todos"))
}

/// The exercises of `step` that have TODOs, by name, sorted.
pub fn exercises_with_todos(step: &Step) -> Vec<String> {
    let entries = fs::read_dir(step.dir().join("exercises")).into_iter().flatten().flatten();
    let names = entries.filter_map(|entry| {
        let name = entry.file_name().to_str()?.strip_suffix(".todos")?.to_string();
        Some(name)
    });
    let mut names: Vec<String> = names.collect();
    names.sort();
    names
}

/// The TODO blocks of `step`'s exercise `name`, or why there are none: no such
/// exercise, or one without TODOs (its statement is then the guide).
pub fn exercise_todos(step: &Step, name: &str) -> Result<Vec<Todo>, String> {
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let file = exercise_file(step, name);
    if plain && file.exists() {
        return Ok(todos(&read(&file)?));
    }
    let with = match exercises_with_todos(step).join(", ") {
        list if list.is_empty() => format!("none of step {}'s exercises has any", step.number),
        list => format!("those with TODOs: {list}"),
    };
    let statement = format!("{}/exercises/README.md", step.name);
    let patch = step.dir().join("exercises").join(format!("{name}.patch"));
    match plain && patch.exists() {
        true => Err(format!(
            "the exercise {name} has no TODOs to put in (its statement in {statement} is your \
             guide); {with}"
        )),
        false => Err(format!("{} has no exercise {name:?} ({statement}); {with}", step.name)),
    }
}

/// The course's program of `step` with the TODOs of its exercise `name` put in,
/// each block in front of its line (the first such line after the previous block's):
/// every block must find its line.
pub fn exercise_starter(step: &Step, name: &str) -> Result<String, String> {
    let todos = exercise_todos(step, name)?;
    let program = read(&step.dir().join("src/main.rs"))?;
    let (text, unplaced) = put_in(&program, &todos, Base::Course);
    if let Some(todo) = unplaced.first() {
        return Err(format!(
            "{}/exercises/{name}.todos: the block `{}` finds no line `{}` in {}/src/main.rs \
             (after the previous block's) to go in front of",
            step.name,
            todo.key().unwrap_or_default(),
            todo.before,
            step.name
        ));
    }
    Ok(text)
}

/// What [`add_exercise`] made of your program.
pub enum Added {
    /// Your program has the exercise's TODOs already (this many lines name it):
    /// nothing was added.
    Already(usize),
    /// Your program with the blocks put in; those that found no line of yours are
    /// listed at the top, and their first lines returned.
    Placed { text: String, unplaced: Vec<String> },
}

/// `program`, your own copy of `step`, with the TODOs of its exercise `name` put in
/// front of their lines where yours has them, the others listed at the top (as
/// [`make_from`] does); nothing else changes. When any line of `program` already
/// says `TODO(NAME)`, nothing is added twice: [`Added::Already`].
pub fn add_exercise(step: &Step, name: &str, program: &str) -> Result<Added, String> {
    let todos = exercise_todos(step, name)?;
    let own = format!("TODO({name})");
    let there = program.lines().filter(|line| mark(line) == Some(own.as_str())).count();
    if there > 0 {
        return Ok(Added::Already(there));
    }
    let (text, unplaced) = put_in(program, &todos, Base::Yours);
    let listed = unplaced_comment(&unplaced);
    let keys = unplaced.iter().filter_map(|todo| todo.key()).collect();
    Ok(Added::Placed { text: insert_after_header(&text, &listed), unplaced: keys })
}

/// The blocks of a `starter.todos`: `before: LINE` (or `instead of: LINE` and
/// `through: LINE`), then the block's lines up to a blank line, then its hints.
/// Lines before the first block (`#` comments) are the file's own.
pub fn todos(text: &str) -> Vec<Todo> {
    let mut todos: Vec<Todo> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let first = line.strip_prefix("before: ").or_else(|| line.strip_prefix("instead of: "));
        if let Some(before) = first {
            let before = before.to_string();
            todos.push(Todo { before, through: None, lines: Vec::new(), hints: Vec::new() });
            open = true;
        } else if let Some(todo) = todos.last_mut() {
            open = read_line(todo, line, open);
        }
    }
    for hint in todos.iter_mut().flat_map(|todo| todo.hints.iter_mut()) {
        *hint = hint.trim_matches('\n').trim_end().to_string();
    }
    todos
}

/// One line after a block's first: `through:`, a line of the block (while `open`,
/// up to a blank line), a new hint, or more of the last hint (blank lines too, up
/// to the next block). Whether the block's lines go on.
fn read_line(todo: &mut Todo, line: &str, open: bool) -> bool {
    if let Some(hint) = line.strip_prefix("hint:") {
        todo.hints.push(hint.trim().to_string());
        return false;
    }
    if let Some(hint) = todo.hints.last_mut() {
        hint.push('\n');
        // Indented by two in the file, to set them apart.
        hint.push_str(line.strip_prefix("  ").unwrap_or(line));
        return false;
    }
    match (open, line.strip_prefix("through: ")) {
        (false, _) => false,
        (true, Some(through)) => {
            todo.through = Some(through.to_string());
            true
        }
        (true, None) if line.trim().is_empty() => false,
        (true, None) => {
            todo.lines.push(line.to_string());
            true
        }
    }
}

/// Where a block goes: in front of line `start` (`end == start`), or in place of
/// lines `start..end`.
struct Place {
    start: usize,
    end: usize,
    todo: usize,
}

/// `program` with each block put in front of its line (or in place of its lines),
/// and the blocks that found none. From the course's program, each line is looked
/// for after the previous block's, exactly; from yours, indentation aside and, if
/// need be, anywhere.
fn put_in<'t>(program: &str, todos: &'t [Todo], base: Base) -> (String, Vec<&'t Todo>) {
    let lines: Vec<&str> = program.lines().collect();
    let (mut places, mut unplaced) = (Vec::new(), Vec::new());
    let mut at = 0;
    for (i, todo) in todos.iter().enumerate() {
        match find(&lines, at, todo, base) {
            Some((start, end)) => {
                places.push(Place { start, end, todo: i });
                at = start.max(at);
            }
            None => unplaced.push(todo),
        }
    }
    places.sort_by_key(|place| place.start);
    let mut out: Vec<&str> = Vec::new();
    let mut at = 0;
    for place in places {
        if place.start < at {
            unplaced.push(&todos[place.todo]);
            continue;
        }
        out.extend(&lines[at..place.start]);
        out.extend(todos[place.todo].lines.iter().map(String::as_str));
        at = place.end;
    }
    out.extend(&lines[at..]);
    (out.join("\n") + "\n", unplaced)
}

/// The lines a block goes in front of (or replaces), looked for from line `from`.
fn find(lines: &[&str], from: usize, todo: &Todo, base: Base) -> Option<(usize, usize)> {
    let start = find_line(lines, from, &todo.before, base)?;
    let end = match &todo.through {
        Some(through) => find_line(lines, start, through, base)? + 1,
        None => start,
    };
    Some((start, end))
}

fn find_line(lines: &[&str], from: usize, wanted: &str, base: Base) -> Option<usize> {
    let after = |from: usize, same: &dyn Fn(&str) -> bool| {
        lines.get(from..)?.iter().position(|line| same(line)).map(|i| from + i)
    };
    let exact = |line: &str| line == wanted;
    let found = after(from, &exact);
    if base == Base::Course {
        return found;
    }
    let loose = |line: &str| line.trim() == wanted.trim();
    found.or_else(|| after(from, &loose)).or_else(|| after(0, &loose))
}

/// `text` with step N's own header: its `//!` doc comment in place of the first
/// one, its clap `about` in place of any `#[command(about = "Step …")]`, and a word
/// on where the starter comes from after the header.
fn headed(step: &Step, text: &str, base: Base) -> Result<String, String> {
    let own = read(&step.dir().join("src/main.rs"))?;
    let header: Vec<&str> = own.lines().take_while(|line| line.starts_with("//!")).collect();
    let about = own.lines().find(|line| is_about(line));
    let mut out: Vec<&str> = Vec::new();
    let mut lines = text.lines().peekable();
    let mut had_header = false;
    while let Some(line) = lines.next() {
        if line.starts_with("//!") && !had_header && !header.is_empty() {
            while lines.next_if(|line| line.starts_with("//!")).is_some() {}
            out.extend(&header);
            had_header = true;
        } else {
            out.push(about.filter(|_| is_about(line)).unwrap_or(line));
        }
    }
    let text = out.join("\n") + "\n";
    Ok(insert_after_header(&text, &origin(step, base)))
}

fn is_about(line: &str) -> bool {
    line.trim_start().starts_with("#[command(about = \"Step ")
}

/// The comment that says what the starter was made from (it names no TODO, so
/// that `grade` and `hint` do not count it as one).
fn origin(step: &Step, base: Base) -> String {
    let n = step.number;
    let from = match (n, base) {
        (1, _) => "step 1's program with the code you write taken out".to_string(),
        (_, Base::Course) => format!("the course's step {} program", n - 1),
        (_, Base::Yours) => format!("your own step {}", n - 1),
    };
    format!(
        "\n// The starter of step {n}: {from}, with comments marked TODO and step {n}\n\
         // where step {n}'s code goes. Stuck? `cargo course hint {n}` says more each time.\n"
    )
}

/// `comment` after the first `//!` block of `text` (at the top if it has none).
fn insert_after_header(text: &str, comment: &str) -> String {
    if comment.is_empty() {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|line| line.starts_with("//!"));
    let end = start.map_or(0, |start| {
        let rest = lines[start..].iter().position(|line| !line.starts_with("//!"));
        start + rest.unwrap_or(lines.len() - start)
    });
    let (head, tail) = lines.split_at(end);
    let comment = comment.trim_end_matches('\n');
    [head.join("\n"), comment.to_string(), tail.join("\n")]
        .iter()
        .filter(|part| !part.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// One comment listing the blocks that found no line in your program, each with
/// the line it goes in front of in the course's; empty when all found theirs.
fn unplaced_comment(unplaced: &[&Todo]) -> String {
    if unplaced.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n// These TODOs found no line of yours to go in front of (your program is not\n\
         // the course's, and that is fine): do each where it belongs in your code.\n",
    );
    for todo in unplaced {
        for line in &todo.lines {
            out += &format!("//   {}\n", key(line));
        }
        out += &format!("//     (in the course's program: in front of `{}`)\n", todo.before.trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every starter can be made (every `before:` line is still in the previous
    /// step's program) and says `TODO(step N)`; what it adds in front of a line is
    /// only comments, the first a TODO (step 1 also takes out the code it asks you
    /// to write); its header is step N's; every TODO has hints, three levels.
    #[test]
    fn every_starter_is_the_previous_program_with_its_todos() {
        for step in Step::all().unwrap_or_default() {
            let starter = make(&step).unwrap_or_else(|err| panic!("{err}"));
            let opening = format!("TODO(step {})", step.number);
            assert!(starter.contains(&opening), "{}'s starter has no {opening}", step.name);
            let title = format!("//! Step {}:", step.number);
            assert!(starter.starts_with(&title), "{}'s starter: {title}", step.name);
            let about = format!("#[command(about = \"Step {}:", step.number);
            assert!(starter.contains(&about), "{}'s starter: {about}", step.name);
            let text = read(&step.dir().join("starter.todos")).unwrap_or_default();
            for todo in todos(&text) {
                let levels = todo.hints.len();
                let named = todo.key().is_some();
                assert!(
                    !named || levels == 3,
                    "{}: {:?} has {levels} hints",
                    step.name,
                    todo.key()
                );
                if todo.through.is_some() {
                    continue;
                }
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
        let (starter, unplaced) = put_in("a\nb\nc\n    d\n", &todos, Base::Course);
        assert_eq!(starter, "a\n// TODO(step 2): x\n//   y\nb\nc\n    // TODO(step 2): z\n    d\n");
        assert!(unplaced.is_empty());
        let (_, unplaced) = put_in("a\n", &todos, Base::Course);
        assert_eq!(unplaced.first().map(|todo| todo.before.as_str()), Some("b"));
    }

    #[test]
    fn a_block_instead_of_lines_takes_their_place() {
        let todos = todos("instead of: b\nthrough: c\n// TODO(step 1): x\nstub\n");
        let (starter, _) = put_in("a\nb\nx\nc\nd\n", &todos, Base::Course);
        assert_eq!(starter, "a\n// TODO(step 1): x\nstub\nd\n");
    }

    #[test]
    fn hints_follow_the_block_and_keep_their_code() {
        let text = "before: b\n// TODO(step 2): x\nhint: why\nhint: which\nhint:\n    let a = 1;\n\n    f(a);\n\nbefore: c\n// TODO(step 2): y\n";
        let todos = todos(text);
        assert_eq!(todos[0].lines, ["// TODO(step 2): x"]);
        assert_eq!(todos[0].hints, ["why", "which", "  let a = 1;\n\n  f(a);"]);
        assert_eq!(todos[0].key().as_deref(), Some("TODO(step 2): x"));
        assert!(todos[1].hints.is_empty());
        let (starter, _) = put_in("b\nc\n", &todos, Base::Course);
        assert!(!starter.contains("why") && !starter.contains("let a"));
    }

    /// Your own program: a line indented otherwise, or earlier than the course's,
    /// still takes its block; a line you do not have leaves its block unplaced.
    #[test]
    fn your_own_program_takes_the_todos_it_has_lines_for() {
        let text = "before: fn a() {\n// TODO(step 4): one\n\nbefore:     b();\n    // TODO(step 4): two\n\nbefore:     gone();\n    // TODO(step 4): three\n\nbefore:     c();\n    // TODO(step 4): four\n";
        let todos = todos(text);
        let mine = "//! Step 3: mine\nuse x;\n  c();\nfn a() {\n  b();\n}\n";
        let (out, unplaced) = put_in(mine, &todos, Base::Yours);
        let expected = "//! Step 3: mine\nuse x;\n    // TODO(step 4): four\n  c();\n// TODO(step 4): one\nfn a() {\n    // TODO(step 4): two\n  b();\n}\n";
        assert_eq!(out, expected);
        let keys: Vec<_> = unplaced.iter().filter_map(|todo| todo.key()).collect();
        assert_eq!(keys, ["TODO(step 4): three"]);
        let listed = insert_after_header(&out, &unplaced_comment(&unplaced));
        let lines: Vec<&str> = listed.lines().collect();
        assert_eq!(lines[0], "//! Step 3: mine");
        assert!(lines[2].starts_with("// These TODOs found no line of yours"));
        assert_eq!(lines[4], "//   TODO(step 4): three");
        assert_eq!(lines[5], "//     (in the course's program: in front of `gone();`)");
        assert_eq!(lines[6], "use x;");
        // The course's own program must have every line, in order.
        let (_, unplaced) = put_in(mine, &todos, Base::Course);
        assert_eq!(unplaced.len(), 3);
    }

    /// The lock-down exercises: step 6's `pivot_root`, and step 7's five parts.
    const LOCK_DOWN: [(u8, &str); 6] = [
        (6, "pivot_root"),
        (7, "lock_capabilities"),
        (7, "lock_user_namespace"),
        (7, "lock_masked_paths"),
        (7, "lock_seccomp"),
        (7, "lock_network"),
    ];

    #[test]
    fn every_lock_down_exercise_has_its_todos() {
        for (number, name) in LOCK_DOWN {
            let step = Step::number(number).unwrap_or_else(|err| panic!("{err}"));
            let file = exercise_file(&step, name);
            assert!(file.exists(), "{name}: no {}", file.display());
            assert!(exercises_with_todos(&step).iter().any(|own| own == name), "{name}");
            let patch = step.dir().join("exercises").join(format!("{name}.patch"));
            assert!(patch.exists(), "{name}: its TODOs follow {}", patch.display());
        }
    }

    /// Every exercise's blocks (2 to 5, or 1 for a one-line change) say its
    /// `TODO(NAME)`, are comments, have three hints, and find their lines in the
    /// course's program, in order: lines the reference patch changes or shows
    /// around its changes. Taken out again, they leave the course's program.
    #[test]
    fn every_exercise_block_places_into_the_courses_program() {
        for step in Step::all().unwrap_or_default() {
            let program = read(&step.dir().join("src/main.rs")).unwrap_or_default();
            for name in exercises_with_todos(&step) {
                let starter = exercise_starter(&step, &name).unwrap_or_else(|err| panic!("{err}"));
                let todos = exercise_todos(&step, &name).unwrap_or_default();
                assert!((1..=5).contains(&todos.len()), "{name}: {} blocks", todos.len());
                let own = format!("TODO({name})");
                let patch = step.dir().join("exercises").join(format!("{name}.patch"));
                let patch = read(&patch).unwrap_or_default();
                for todo in &todos {
                    let first = todo.lines.first().map(|line| line.trim_start()).unwrap_or("");
                    assert!(first.starts_with(&format!("// {own}: ")), "{name}: {first}");
                    assert!(todo.lines.iter().all(|line| line.trim_start().starts_with("//")));
                    assert!(todo.through.is_none(), "{name}: blocks only go in front of lines");
                    assert_eq!(todo.hints.len(), 3, "{name}: {:?}", todo.key());
                    let in_patch = |line: &str| {
                        line.strip_prefix([' ', '-']).is_some_and(|line| line == todo.before)
                    };
                    assert!(
                        patch.lines().any(in_patch),
                        "{name}: {} is not in its patch",
                        todo.before
                    );
                }
                let marked = starter.lines().filter(|line| mark(line) == Some(own.as_str()));
                assert_eq!(marked.count(), todos.len(), "{name}");
                let added =
                    |line: &&str| todos.iter().any(|todo| todo.lines.iter().any(|l| l == line));
                let left: Vec<&str> = starter.lines().filter(|line| !added(line)).collect();
                assert_eq!(left.join("\n") + "\n", program, "{name}: only its TODOs are added");
            }
        }
    }

    #[test]
    fn an_exercises_todos_go_into_your_copy_once() {
        let step = Step::number(7).unwrap_or_else(|err| panic!("{err}"));
        let program = read(&step.dir().join("src/main.rs")).unwrap_or_default();
        let Ok(Added::Placed { text, unplaced }) = add_exercise(&step, "lock_network", &program)
        else {
            panic!("lock_network: not placed");
        };
        assert!(unplaced.is_empty(), "{unplaced:?}");
        assert_eq!(Ok(&text), exercise_starter(&step, "lock_network").as_ref());
        assert!(matches!(add_exercise(&step, "lock_network", &text), Ok(Added::Already(1))));
        // Another exercise still goes into the same copy.
        let seccomp = add_exercise(&step, "lock_seccomp", &text);
        assert!(matches!(seccomp, Ok(Added::Placed { unplaced, .. }) if unplaced.is_empty()));
        // Your own program without its line: the block is listed at the top, once.
        let line = "unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS)";
        let mine = program.replace(line, "unshare(namespaces())");
        let Ok(Added::Placed { text, unplaced }) = add_exercise(&step, "lock_network", &mine)
        else {
            panic!("lock_network: not listed");
        };
        assert_eq!(unplaced.len(), 1);
        assert!(unplaced[0].starts_with("TODO(lock_network): give the container"), "{unplaced:?}");
        assert!(text.contains("\n// These TODOs found no line of yours"), "{text}");
        assert!(matches!(add_exercise(&step, "lock_network", &text), Ok(Added::Already(1))));
    }

    #[test]
    fn an_exercise_without_todos_or_unknown_says_which_have_them() {
        let step = Step::number(7).unwrap_or_else(|err| panic!("{err}"));
        let none = exercise_todos(&step, "memory_max").err().unwrap_or_default();
        assert!(none.contains("memory_max has no TODOs"), "{none}");
        assert!(none.contains("those with TODOs: lock_capabilities, "), "{none}");
        for name in ["nope", "../step06-mount-ns/exercises/pivot_root", ""] {
            let unknown = exercise_todos(&step, name).err().unwrap_or_default();
            assert!(unknown.contains("has no exercise"), "{name}: {unknown}");
        }
    }

    #[test]
    fn the_mark_says_whose_todo_it_is() {
        assert_eq!(mark("    // TODO(step 3): x"), Some("TODO(step 3)"));
        assert_eq!(mark("// TODO(lock_seccomp): y (z)"), Some("TODO(lock_seccomp)"));
        assert_eq!(mark("// a TODO without a mark"), None);
    }

    #[test]
    fn the_header_is_step_ns_own() {
        let Ok(step) = Step::number(3) else { return };
        let old = "//! Step 2: old\n//! more\n\nuse x;\n#[command(about = \"Step 2: old\")]\nstruct Cli;\n";
        let text = headed(&step, old, Base::Yours).unwrap_or_default();
        assert!(text.starts_with("//! Step 3: re-execute"), "{text}");
        assert!(!text.contains("Step 2: old"), "{text}");
        assert!(text.contains("#[command(about = \"Step 3:"), "{text}");
        assert!(text.contains("// The starter of step 3: your own step 2,"), "{text}");
        assert!(!text.contains("TODO(step 3)"), "the origin is not a TODO: {text}");
    }
}
