//! The book must never go stale, and every step chapter must follow the template
//! (the learner's activity first): every `{{#include}}` names a file, anchor or
//! snapshot that exists, every link and image resolves, every page is in SUMMARY.md
//! (or included by one that is), and every step chapter has the template's twelve
//! parts in order, each holding what makes it that part: an experiment in a shell
//! block, folded answers, the course's commands, the step's code and snapshots, its
//! "you are here" grid.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The course's steps, as the workspace lists them (harness::steps()).
fn steps() -> Vec<&'static str> {
    harness::steps().iter().map(String::as_str).collect()
}

/// The parts of every step chapter, in order, as `##` headings.
const PARTS: [&str; 12] = [
    "The problem",
    "Try it with the kernel first",
    "Predict, then run",
    "How it works",
    "Write it yourself",
    "The new code",
    "Run it",
    "Check yourself",
    "Check your work",
    "Recap",
    "Gotchas",
    "Exercises",
];

/// How a folded answer starts.
const ANSWER: &str = "<summary>Answer</summary>";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every Markdown page of the book, relative to `src/`.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, pages: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir).into_iter().flatten().flatten().collect();
        entries.sort_by_key(|entry| entry.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, pages);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                pages.push(path.strip_prefix(src()).unwrap_or(&path).to_path_buf());
            }
        }
    }
    let mut pages = Vec::new();
    walk(&src(), &mut pages);
    pages
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// The `{{#include …}}` and `{{#rustdoc_include …}}` directives of a text, as written.
fn includes(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        found.extend(
            text.split(directive).skip(1).filter_map(|rest| rest.split_once("}}")).map(|(i, _)| i),
        );
    }
    found
}

/// The lines of a text with whether each is inside a fenced code block (the fences
/// themselves count as inside).
fn lines_with_code_flag(text: &str) -> Vec<(&str, bool)> {
    let mut in_code = false;
    text.lines()
        .map(|line| {
            let fence = line.trim_start().starts_with("```");
            if fence {
                in_code = !in_code;
            }
            (line, in_code || fence)
        })
        .collect()
}

/// The targets of the page's Markdown links and images, outside code.
fn links(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for (line, in_code) in lines_with_code_flag(text) {
        if in_code {
            continue;
        }
        // Inline code spans hold no links.
        let outside_code: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for part in outside_code.split("](").skip(1) {
            if let Some((target, _)) = part.split_once(')') {
                targets.push(target.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    }
    targets
}

/// The ids mdBook gives a page's headings: lower case, spaces to `-`, only
/// letters, digits, `-` and `_` kept; a repeated id gets `-1`, `-2`…
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (line, in_code) in lines_with_code_flag(text) {
        let Some(heading) = line.strip_prefix('#').filter(|_| !in_code) else { continue };
        let title = heading.trim_start_matches('#').trim();
        let id: String = title
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let mut unique = id.clone();
        let mut n = 1;
        while !ids.insert(unique.clone()) {
            unique = format!("{id}-{n}");
            n += 1;
        }
    }
    ids
}

/// A step chapter, cut into its `##` parts: (title, body) in order.
struct Chapter {
    step: &'static str,
    parts: Vec<(String, String)>,
}

impl Chapter {
    fn read(step: &'static str) -> Chapter {
        let mut parts: Vec<(String, String)> = Vec::new();
        for (line, in_code) in lines_with_code_flag(&read(&src().join(format!("{step}.md")))) {
            match line.strip_prefix("## ").filter(|_| !in_code) {
                Some(title) => parts.push((title.trim().to_string(), String::new())),
                None => {
                    if let Some((_, body)) = parts.last_mut() {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
        Chapter { step, parts }
    }

    /// The step's number, 1 to 7.
    fn number(&self) -> usize {
        steps().iter().position(|step| *step == self.step).map_or(0, |i| i + 1)
    }

    /// The body of the part with this title ("" when the part is missing: the
    /// check of the parts' titles reports that).
    fn part(&self, title: &str) -> &str {
        self.parts.iter().find(|(t, _)| t == title).map_or("", |(_, body)| body.as_str())
    }
}

/// Run `check` on every step chapter; fail with every problem found, one per line.
fn check_every_chapter(what: &str, check: impl Fn(&Chapter) -> Vec<String>) {
    let problems: Vec<String> = steps()
        .iter()
        .flat_map(|step| {
            let chapter = Chapter::read(step);
            check(&chapter).into_iter().map(move |problem| format!("{step}.md: {problem}"))
        })
        .collect();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

/// The answers folded in a part: how many `<details><summary>Answer</summary>`.
fn folded_answers(body: &str) -> usize {
    body.matches(ANSWER).count()
}

#[test]
fn every_include_names_a_file_and_anchor_that_exist() {
    let mut broken = Vec::new();
    for page in pages() {
        let dir = src().join(&page).parent().map(Path::to_path_buf).unwrap_or_default();
        for include in includes(&read(&src().join(&page))) {
            let (file, selector) = include.split_once(':').unwrap_or((include, ""));
            let path = dir.join(file.trim());
            let Ok(text) = fs::read_to_string(&path) else {
                broken.push(format!("{}: {file}: no such file", page.display()));
                continue;
            };
            let is_anchor =
                !selector.is_empty() && !selector.starts_with(|c: char| c.is_ascii_digit());
            if is_anchor {
                for mark in [format!("ANCHOR: {selector}"), format!("ANCHOR_END: {selector}")] {
                    if !text.lines().any(|line| line.trim().ends_with(&mark)) {
                        broken.push(format!("{}: {file}: no `{mark}`", page.display()));
                    }
                }
            }
            if file.ends_with(".snap") {
                // insta's header is the lines up to the second `---`: show what follows.
                let header = text.lines().skip(1).position(|line| line == "---").map(|n| n + 3);
                let wanted = header.map(|line| format!("{line}:"));
                if wanted.as_deref() != Some(selector) {
                    broken.push(format!(
                        "{}: {file}: include it from its line {} on (`:{}`), after insta's header",
                        page.display(),
                        header.unwrap_or(0),
                        wanted.unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken includes:\n{}", broken.join("\n"));
}

#[test]
fn every_link_and_image_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&src().join(&page));
        let dir = src().join(&page).parent().map(Path::to_path_buf).unwrap_or_default();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if file.is_empty() { src().join(&page) } else { dir.join(file) };
            if !linked.exists() {
                broken.push(format!("{}: {target}: no such file", page.display()));
                continue;
            }
            let is_page = linked.extension().is_some_and(|ext| ext == "md");
            if !fragment.is_empty() && is_page && !heading_ids(&read(&linked)).contains(fragment) {
                broken.push(format!("{}: {target}: no heading with that id", page.display()));
            }
            if is_page && !linked.starts_with(src()) {
                broken.push(format!("{}: {target}: outside the book", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// A page missing from SUMMARY.md is never built, unless it is a fragment that a
/// page includes (the "you are here" grids, generated tables).
#[test]
fn every_page_is_in_the_summary_or_included_by_one() {
    let summary = read(&src().join("SUMMARY.md"));
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let mut included = BTreeSet::new();
    for page in pages() {
        let dir = src().join(&page).parent().map(Path::to_path_buf).unwrap_or_default();
        for include in includes(&read(&src().join(&page))) {
            let file = include.split_once(':').map_or(include, |(file, _)| file);
            if let Ok(path) = dir.join(file.trim()).canonicalize() {
                included.insert(path);
            }
        }
    }
    let orphans: Vec<_> = pages()
        .into_iter()
        .filter(|page| page.as_os_str() != "SUMMARY.md")
        .filter(|page| !listed.contains(&page.display().to_string()))
        .filter(|page| {
            src().join(page).canonicalize().map_or(true, |path| !included.contains(&path))
        })
        .collect();
    assert!(orphans.is_empty(), "pages neither in SUMMARY.md nor included: {orphans:?}");
}

/// `<details>` folds only what Markdown renders when a blank line follows the
/// `<summary>` line and precedes `</details>`; and a folded answer that begins with
/// `2. ` renders as a numbered list starting at 2.
#[test]
fn every_folded_block_renders_as_written() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&src().join(&page));
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let next_is_blank = lines.get(n + 1).is_some_and(|next| next.trim().is_empty());
            let previous_is_blank = n > 0 && lines[n - 1].trim().is_empty();
            if line.contains("</summary>") && !next_is_blank {
                broken.push(format!("{}:{}: no blank line after <summary>", page.display(), n + 1));
            }
            let first = lines[n + 1..].iter().find(|next| !next.trim().is_empty());
            if line.contains("</summary>") && first.is_some_and(|first| starts_a_list(first)) {
                broken.push(format!(
                    "{}:{}: the folded text starts with a number and a period: \
                     Markdown makes it a numbered list",
                    page.display(),
                    n + 1
                ));
            }
            if line.trim() == "</details>" && !previous_is_blank {
                broken.push(format!(
                    "{}:{}: no blank line before </details>",
                    page.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(broken.is_empty(), "folded blocks that will not render:\n{}", broken.join("\n"));
}

/// Whether Markdown reads this line as the start of a numbered list (`2. …`).
fn starts_a_list(line: &str) -> bool {
    let line = line.trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(". ")
}

#[test]
fn every_step_chapter_has_the_template_parts_in_order() {
    check_every_chapter("chapters whose `##` parts are not the template's", |chapter| {
        let titles: Vec<&str> = chapter.parts.iter().map(|(title, _)| title.as_str()).collect();
        if titles == PARTS {
            return Vec::new();
        }
        vec![format!("its `##` parts are {titles:?}, the template's are {PARTS:?}")]
    });
}

#[test]
fn every_experiment_has_commands_to_paste() {
    check_every_chapter("experiments without a shell block", |chapter| {
        let body = chapter.part("Try it with the kernel first");
        let shell = ["```console", "```sh", "```bash", "```shell"];
        if shell.iter().any(|fence| body.lines().any(|line| line.trim() == *fence)) {
            return Vec::new();
        }
        vec!["\"Try it with the kernel first\" holds no ```console block".to_string()]
    });
}

#[test]
fn every_prediction_and_self_check_has_folded_answers() {
    check_every_chapter("questions without folded answers", |chapter| {
        let mut problems = Vec::new();
        for (title, fewest, most) in [("Predict, then run", 2, 4), ("Check yourself", 3, 5)] {
            let answers = folded_answers(chapter.part(title));
            if !(fewest..=most).contains(&answers) {
                problems.push(format!(
                    "\"{title}\" has {answers} folded answers (`<details>{ANSWER}`), \
                     the template asks for {fewest} to {most}"
                ));
            }
        }
        problems
    });
}

#[test]
fn every_write_it_yourself_names_the_commands_to_start_and_grade() {
    check_every_chapter("\"Write it yourself\" without the course's commands", |chapter| {
        let n = chapter.number();
        let body = chapter.part("Write it yourself");
        [format!("cargo course start {n}"), format!("cargo course grade {n}")]
            .into_iter()
            .filter(|command| !body.contains(command.as_str()))
            .map(|command| format!("\"Write it yourself\" does not name `{command}`"))
            .collect()
    });
}

#[test]
fn every_new_code_part_shows_main_rs_and_folds_the_whole_change() {
    check_every_chapter("\"The new code\" without the step's code", |chapter| {
        let (n, step) = (chapter.number(), chapter.step);
        let body = chapter.part("The new code");
        let mut problems = Vec::new();
        if !includes(body).iter().any(|include| include.contains(&format!("{step}/src/main.rs:"))) {
            problems.push(format!("\"The new code\" includes nothing of {step}/src/main.rs"));
        }
        if n > 1 {
            let diff = format!("{step}/tests/snapshots/book__the_change_from_step_{}.snap", n - 1);
            if !diff_is_folded(body, &diff) {
                problems.push(format!(
                    "\"The new code\" does not fold {diff} in `<details>`, in a ```diff block"
                ));
            }
        }
        problems
    });
}

/// Whether `body` includes `snapshot` in a ```diff block inside `<details>`.
fn diff_is_folded(body: &str, snapshot: &str) -> bool {
    body.split("<details>").skip(1).any(|folded| {
        let folded = folded.split("</details>").next().unwrap_or("");
        folded.contains("```diff") && includes(folded).iter().any(|i| i.contains(snapshot))
    })
}

#[test]
fn every_run_it_shows_the_recorded_session() {
    check_every_chapter("\"Run it\" without the session the tests record", |chapter| {
        let session = format!("{}/tests/snapshots/book__a_session.snap", chapter.step);
        if includes(chapter.part("Run it")).iter().any(|include| include.contains(&session)) {
            return Vec::new();
        }
        vec![format!("\"Run it\" does not include {session}")]
    });
}

/// One command to grade, one for the reference, the checks in plain words: the
/// inventory of test names belongs to the classroom pages.
#[test]
fn every_check_your_work_is_the_commands_and_plain_words() {
    check_every_chapter("\"Check your work\" not as the template has it", |chapter| {
        let (n, step) = (chapter.number(), chapter.step);
        let body = chapter.part("Check your work");
        let mut problems: Vec<String> =
            [format!("cargo course grade {n}"), format!("cargo test -p {step} --test step{n:02}")]
                .into_iter()
                .filter(|command| !body.contains(command.as_str()))
                .map(|command| format!("\"Check your work\" does not name `{command}`"))
                .collect();
        if body.contains("`feature_") {
            problems.push("\"Check your work\" lists test names (`feature_…`)".to_string());
        }
        problems
    });
}

#[test]
fn every_recap_has_its_points_and_its_you_are_here_grid() {
    check_every_chapter("recaps not as the template has them", |chapter| {
        let n = chapter.number();
        let body = chapter.part("Recap");
        let mut problems = Vec::new();
        let grid = format!("you-are-here/step{n:02}.md");
        if !includes(body).contains(&grid.as_str()) {
            problems.push(format!("\"Recap\" does not include {grid}"));
        }
        let points = body.lines().filter(|line| line.starts_with("- ")).count();
        if !(3..=6).contains(&points) {
            problems.push(format!("\"Recap\" has {points} points, the template asks for 3 to 6"));
        }
        problems
    });
}

#[test]
fn every_exercises_part_says_how_to_do_them_in_your_copy() {
    check_every_chapter("exercises without the way to do them in your copy", |chapter| {
        let n = chapter.number();
        let body = chapter.part("Exercises");
        [format!("cargo course start {n}"), format!("cargo course grade {n} --exercise")]
            .into_iter()
            .filter(|command| !body.contains(command.as_str()))
            .map(|command| format!("\"Exercises\" does not name `{command}`"))
            .collect()
    });
}

/// Each step's grid: a row for every step, this step's row marked and in bold, no
/// other row in bold.
#[test]
fn every_you_are_here_grid_marks_its_own_step() {
    let mut problems = Vec::new();
    for n in 1..=steps().len() {
        let path = src().join(format!("you-are-here/step{n:02}.md"));
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!("{}: missing", path.display()));
            continue;
        };
        let rows: Vec<&str> = text.lines().filter(|line| line.starts_with("| ")).skip(1).collect();
        let marked: Vec<usize> = (1..=rows.len())
            .filter(|&row| rows[row - 1].starts_with(&format!("| **▶ {row}.")))
            .collect();
        let bold: Vec<usize> =
            (1..=rows.len()).filter(|&row| rows[row - 1].contains("**")).collect();
        if rows.len() != steps().len() || marked != [n] || bold != [n] {
            problems.push(format!(
                "you-are-here/step{n:02}.md: {} rows, marked {marked:?}, bold {bold:?}; \
                 wanted {} rows with only row {n} marked `**▶ {n}. …**` and in bold",
                rows.len(),
                steps().len()
            ));
        }
    }
    assert!(problems.is_empty(), "\"you are here\" grids:\n{}", problems.join("\n"));
}

/// A whole-program page includes main.rs with `{{#rustdoc_include …:main}}` in a
/// `.whole-program` block: the only include of mdBook that keeps every line of the
/// file and drops the `// ANCHOR` markers (theme/course.css shows the lines it hides).
#[test]
fn every_whole_program_page_shows_the_file_without_anchor_markers() {
    let mut problems = Vec::new();
    for step in steps() {
        let page = format!("code/{step}.md");
        let text = read(&src().join(&page));
        let whole = format!("{{{{#rustdoc_include ../../../{step}/src/main.rs:main}}}}");
        let in_block = text
            .split("<div class=\"whole-program\">")
            .nth(1)
            .is_some_and(|block| block.split("</div>").next().unwrap_or("").contains(&whole));
        let plain = includes(&text).iter().any(|include| include.ends_with("src/main.rs"));
        if !in_block || plain {
            problems.push(format!(
                "{page}: include the program as `{whole}` inside <div class=\"whole-program\">, \
                 not with a plain {{{{#include}}}}, which shows the ANCHOR lines"
            ));
        }
    }
    assert!(problems.is_empty(), "whole-program pages:\n{}", problems.join("\n"));
}

#[test]
fn every_step_chapter_links_the_glossary() {
    check_every_chapter("chapters that never link the glossary", |chapter| {
        let linked = chapter.parts.iter().any(|(_, body)| body.contains("appendix/glossary.md#"));
        if linked {
            return Vec::new();
        }
        vec!["no link to appendix/glossary.md#… on the first use of a term".to_string()]
    });
}
