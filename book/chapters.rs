//! The step chapters follow the template (the learner's activity first): the
//! eleven `##` parts in order, each holding what makes it that part — an experiment
//! in a shell block, folded answers, the course's commands and the checks in plain
//! words, the step's code and snapshots, its "you are here" grid, the exercises
//! introduced once (by their README).

use super::*;

/// The parts of every step chapter, in order, as `##` headings.
const PARTS: [&str; 11] = [
    "The problem",
    "Try it with the kernel first",
    "Predict, then run",
    "How it works",
    "Write it yourself",
    "The new code",
    "Run it",
    "Check yourself",
    "Recap",
    "Gotchas",
    "Exercises",
];

/// A step chapter, and its text cut into its `##` parts: (title, body) in order.
struct Chapter {
    step: &'static str,
    text: String,
    parts: Vec<(String, String)>,
}

impl Chapter {
    fn read(step: &'static str) -> Chapter {
        Chapter::parse(step, read(&src().join(format!("{step}.md"))))
    }

    fn parse(step: &'static str, text: String) -> Chapter {
        let h2: Vec<Heading> =
            headings(&text).into_iter().filter(|h| h.level == HeadingLevel::H2).collect();
        let parts = (h2.iter().enumerate())
            .map(|(i, heading)| {
                let end = h2.get(i + 1).map_or(text.len(), |next| next.range.start);
                // The body starts on the line after the heading's.
                let mut body = &text[heading.range.end..end];
                if !text[..heading.range.end].ends_with('\n') {
                    body = body.strip_prefix('\n').unwrap_or(body);
                }
                (heading.title.trim().to_string(), body.to_string())
            })
            .collect();
        Chapter { step, text, parts }
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
        if has_shell_block(chapter.part("Try it with the kernel first")) {
            return Vec::new();
        }
        vec!["\"Try it with the kernel first\" holds no ```console block".to_string()]
    });
}

/// Whether a text holds a ```console (or sh, bash, shell) block.
fn has_shell_block(text: &str) -> bool {
    let shell = ["console", "sh", "bash", "shell"];
    code_blocks(text).iter().any(|(lang, _)| shell.contains(&lang.as_str()))
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

/// "Write it yourself" is where the learner works the step out, and how it is
/// graded: the commands to start, get hints, grade the copy and test the reference,
/// and the checks in plain words (the inventory of test names belongs to the
/// classroom pages). From step 2 on, it says how to start from the course's program
/// instead of your own (`--from-course`).
#[test]
fn every_write_it_yourself_names_the_commands_and_the_checks_in_plain_words() {
    check_every_chapter("\"Write it yourself\" not as the template has it", |chapter| {
        let (n, step) = (chapter.number(), chapter.step);
        let body = chapter.part("Write it yourself");
        let mut commands = vec![
            format!("cargo course start {n}"),
            format!("cargo course hint {n}"),
            format!("cargo course grade {n}"),
            format!("cargo test -p {step} --test step{n:02}"),
        ];
        if n > 1 {
            commands.push("--from-course".to_string());
        }
        let mut problems: Vec<String> = commands
            .into_iter()
            .filter(|command| !body.contains(command.as_str()))
            .map(|command| format!("\"Write it yourself\" does not name `{command}`"))
            .collect();
        if names_a_test(body) {
            problems.push("\"Write it yourself\" lists test names (`feature_…`)".to_string());
        }
        problems
    });
}

#[test]
fn every_new_code_part_shows_main_rs_and_folds_the_whole_change() {
    check_every_chapter("\"The new code\" without the step's code", |chapter| {
        let (n, step) = (chapter.number(), chapter.step);
        let body = chapter.part("The new code");
        let mut problems = Vec::new();
        // The reference is the answer to "Write it yourself": folded, not in plain view.
        if !body.trim_start().starts_with("<details class=\"solution\">") {
            problems.push("\"The new code\" is not folded in <details class=\"solution\">".into());
        }
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

/// Whether `body` includes `snapshot` in a ```diff block inside (an inner) `<details>`
/// (HTML: a plain scan finds it).
fn diff_is_folded(body: &str, snapshot: &str) -> bool {
    body.split("<details>").skip(1).any(|folded| {
        let folded = folded.split("</details>").next().unwrap_or("");
        let diff = |(lang, code): &(String, String)| {
            lang == "diff" && includes(code).iter().any(|i| i.contains(snapshot))
        };
        code_blocks(folded).iter().any(diff)
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

/// Whether a text names a test (`feature_…`, as code).
fn names_a_test(text: &str) -> bool {
    markdown(text)
        .any(|(event, _)| matches!(event, Event::Code(name) if name.starts_with("feature_")))
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
        let points = bullet_points(body);
        if !(3..=6).contains(&points) {
            problems.push(format!("\"Recap\" has {points} points, the template asks for 3 to 6"));
        }
        problems
    });
}

/// How many items a text's bullet lists have, not counting the lists inside them.
fn bullet_points(text: &str) -> usize {
    let mut lists = Vec::new(); // Whether each list we are in is a bullet list.
    let mut points = 0;
    for (event, _) in markdown(text) {
        match event {
            Event::Start(Tag::List(first)) => lists.push(first.is_none()),
            Event::End(TagEnd::List(_)) => drop(lists.pop()),
            Event::Start(Tag::Item) if lists == [true] => points += 1,
            _ => {}
        }
    }
    points
}

/// The exercises are introduced once, by the step's `exercises/README.md`, which the
/// part includes and nothing more: that introduction says how to do them in your
/// copy and grade them.
#[test]
fn every_exercises_part_is_its_readme_which_says_how_to_do_them_in_your_copy() {
    check_every_chapter("exercises not introduced once, by their README", |chapter| {
        let (n, step) = (chapter.number(), chapter.step);
        let body = chapter.part("Exercises");
        let readme = format!("../../{step}/exercises/README.md");
        if !includes(body).contains(&readme.as_str()) {
            return vec![format!("\"Exercises\" does not include {readme}")];
        }
        let mut problems = Vec::new();
        if !without_includes(body).trim().is_empty() {
            problems.push(
                "\"Exercises\" has an introduction of its own: the README's is the one".into(),
            );
        }
        let introduction = read(&src().join(&readme));
        for command in
            [format!("cargo course start {n}"), format!("cargo course grade {n} --exercise")]
        {
            if !introduction.contains(command.as_str()) {
                problems.push(format!("{step}/exercises/README.md does not name `{command}`"));
            }
        }
        problems
    });
}

/// A text without its `{{#include …}}` lines.
fn without_includes(text: &str) -> String {
    let include = |line: &&str| includes(line).is_empty();
    text.lines().filter(include).collect::<Vec<_>>().join("\n")
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
        let linked =
            links(&chapter.text).iter().any(|link| link.starts_with("appendix/glossary.md#"));
        if linked {
            return Vec::new();
        }
        vec!["no link to appendix/glossary.md#… on the first use of a term".to_string()]
    });
}

/// Each check on a small chapter: it still catches what it is for.
mod markdown_checks {
    use super::*;

    #[test]
    fn the_parts_are_the_level_2_headings_outside_code() {
        let text =
            "# Step\nintro\n## One\nbody\n```sh\n## not a part\n```\n### Sub\n## Two `x`\nend\n";
        let chapter = Chapter::parse("step01-exec", text.to_string());
        let titles: Vec<&str> = chapter.parts.iter().map(|(title, _)| title.as_str()).collect();
        assert_eq!(titles, ["One", "Two x"]);
        assert_eq!(chapter.part("One"), "body\n```sh\n## not a part\n```\n### Sub\n");
        assert_eq!(chapter.part("Two x"), "end\n");
        let blank_line_first = Chapter::parse("step01-exec", "## One\n\nbody\n".to_string());
        assert_eq!(blank_line_first.part("One"), "\nbody\n");
    }

    #[test]
    fn an_experiment_needs_a_shell_block() {
        assert!(has_shell_block("```console\n$ ls\n```\n"));
        assert!(has_shell_block("~~~bash\nls\n~~~\n"));
        assert!(!has_shell_block("```text\n$ ls\n```\n"));
        assert!(!has_shell_block("Type `console` then:\n\n    $ ls\n"));
    }

    #[test]
    fn the_change_must_be_folded_in_a_diff_block() {
        let snap = "step02-uts/tests/snapshots/book__the_change_from_step_1.snap";
        let folded = format!(
            "<details><summary>The change</summary>\n\n```diff\n{{{{#include ../../{snap}:5:}}}}\n```\n\n</details>\n"
        );
        assert!(diff_is_folded(&folded, snap));
        let not_folded = format!("```diff\n{{{{#include ../../{snap}:5:}}}}\n```\n");
        assert!(!diff_is_folded(&not_folded, snap));
        let not_in_the_diff_block = format!(
            "<details><summary>The change</summary>\n\n```diff\n```\n\n```rust\n{{{{#include ../../{snap}:5:}}}}\n```\n\n</details>\n"
        );
        assert!(!diff_is_folded(&not_in_the_diff_block, snap));
    }

    #[test]
    fn recap_points_are_the_items_of_its_bullet_lists() {
        let text = "- a\n- b\n  - nested\n\n1. numbered\n\n```\n- in code\n```\n\n* c\n";
        assert_eq!(bullet_points(text), 3);
    }

    #[test]
    fn an_exercises_part_is_its_include_alone() {
        let part = "\n{{#include ../../step01-exec/exercises/README.md}}\n\n";
        assert!(without_includes(part).trim().is_empty());
        let introduced_twice = format!("Do them in your copy.\n{part}");
        assert_eq!(without_includes(&introduced_twice).trim(), "Do them in your copy.");
    }

    #[test]
    fn test_names_are_code_spans() {
        assert!(names_a_test("Run `feature_hostname` alone."));
        assert!(!names_a_test("The feature_ prefix, and `cargo course grade 2`."));
    }
}
