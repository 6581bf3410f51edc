//! The book must never go stale, and every step chapter must follow the template
//! (the learner's activity first): every `{{#include}}` names a file, anchor or
//! snapshot that exists, every link and image resolves, every page is in SUMMARY.md
//! (or included by one that is), and every step chapter has the template's eleven
//! parts in order, each holding what makes it that part: an experiment in a shell
//! block, folded answers, the course's commands, the step's code and snapshots, its
//! "you are here" grid.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use pulldown_cmark::{
    BrokenLink, CodeBlockKind, Event, HeadingLevel, LinkType, OffsetIter, Options, Parser, Tag,
    TagEnd,
};

mod chapters;
#[path = "pages.rs"]
mod pages;
use pages::{pages, src};

/// The course's steps, as the workspace lists them (harness::steps()).
fn steps() -> Vec<&'static str> {
    harness::steps().to_vec()
}

/// How a folded answer starts.
const ANSWER: &str = "<summary>Answer</summary>";

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// Markdown as mdBook reads it: its parser, with the extensions mdBook turns on.
fn markdown(text: &str) -> OffsetIter<'_> {
    Parser::new_ext(text, MDBOOK).into_offset_iter()
}

const MDBOOK: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS)
    .union(Options::ENABLE_HEADING_ATTRIBUTES);

/// The `{{#include …}}` and `{{#rustdoc_include …}}` directives of a text, as written.
/// mdBook expands them before Markdown is read, in code blocks too (where they
/// mostly are), so this is a plain scan; `\{{#include …}}` is mdBook's escape.
fn includes(text: &str) -> Vec<&str> {
    let directive = |at: usize| {
        let rest = text[at + 2..].trim_start().strip_prefix('#')?;
        let rest = rest.strip_prefix("include").or_else(|| rest.strip_prefix("rustdoc_include"))?;
        let (target, _) = rest.strip_prefix(char::is_whitespace)?.split_once("}}")?;
        Some(target.trim())
    };
    let unescaped = |at: &usize| !text[..*at].ends_with('\\');
    text.match_indices("{{").map(|(at, _)| at).filter(unescaped).filter_map(directive).collect()
}

/// The targets of a text's links and images, inline or by reference, outside code.
fn links(text: &str) -> Vec<String> {
    markdown(text)
        .filter_map(|(event, _)| match event {
            Event::Start(Tag::Link { link_type: LinkType::Email, .. }) => None,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The labels of `[text][label]` and `[label][]` links that no `[label]: …` defines
/// (mdBook leaves them as text).
fn undefined_references(text: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let undefined = |link: BrokenLink| {
        if matches!(link.link_type, LinkType::Reference | LinkType::Collapsed) {
            labels.push(link.reference.to_string());
        }
        None
    };
    Parser::new_with_broken_link_callback(text, MDBOOK, Some(undefined)).for_each(drop);
    labels
}

/// The fenced code blocks of a text: the language (the info string's first word)
/// and the code.
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for (event, _) in markdown(text) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_block = true;
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let lang = info.split([',', ' ', '\t']).next().unwrap_or("").to_string();
                blocks.push((lang, String::new()));
            }
            Event::Text(code) if in_block => blocks.last_mut().unwrap().1.push_str(&code),
            Event::End(TagEnd::CodeBlock) => in_block = false,
            _ => {}
        }
    }
    blocks
}

/// A heading: its level, its `{#id}` if it has one, its text, where it is.
struct Heading {
    level: HeadingLevel,
    id: Option<String>,
    title: String,
    range: Range<usize>,
}

/// The headings of a text, outside code.
fn headings(text: &str) -> Vec<Heading> {
    let mut headings = Vec::new();
    let mut current: Option<Heading> = None;
    for (event, range) in markdown(text) {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                let id = id.map(|id| id.to_string());
                current = Some(Heading { level, id, title: String::new(), range });
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(heading) = &mut current {
                    heading.title.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            _ => {}
        }
    }
    headings
}

/// The ids mdBook gives a page's headings: the `{#id}` written, or the text in lower
/// case, spaces to `-`, only letters, digits, `-` and `_` kept; a repeated id gets
/// `-1`, `-2`…
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for heading in headings(text) {
        let id: String = heading.id.unwrap_or_else(|| {
            (heading.title.trim().chars())
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => {
                        Some(c.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        });
        let mut unique = id.clone();
        let mut n = 1;
        while !ids.insert(unique.clone()) {
            unique = format!("{id}-{n}");
            n += 1;
        }
    }
    ids
}

/// Run `check` on every page, with its path (relative to `src/`) and text; fail with
/// every problem found, one per line.
fn check_every_page(what: &str, check: impl Fn(&Path, &str) -> Vec<String>) {
    let problems: Vec<String> = pages()
        .into_iter()
        .flat_map(|page| {
            let problems = check(&page, &read(&src().join(&page)));
            problems.into_iter().map(move |problem| format!("{}: {problem}", page.display()))
        })
        .collect();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

/// The directory a page's relative paths start from.
fn dir_of(page: &Path) -> PathBuf {
    src().join(page).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The includes of a page (at `page`, relative to `src/`) that name a missing file,
/// anchor or snapshot line.
fn broken_includes(page: &Path, text: &str) -> Vec<String> {
    let mut broken = Vec::new();
    for include in includes(text) {
        let (file, selector) = include.split_once(':').unwrap_or((include, ""));
        let Ok(text) = fs::read_to_string(dir_of(page).join(file.trim())) else {
            broken.push(format!("{file}: no such file"));
            continue;
        };
        let is_anchor = !selector.is_empty() && !selector.starts_with(|c: char| c.is_ascii_digit());
        if is_anchor {
            for mark in [format!("ANCHOR: {selector}"), format!("ANCHOR_END: {selector}")] {
                if !text.lines().any(|line| line.trim().ends_with(&mark)) {
                    broken.push(format!("{file}: no `{mark}`"));
                }
            }
        }
        if file.ends_with(".snap") {
            // insta's header is the lines up to the second `---`: show what follows.
            let header = text.lines().skip(1).position(|line| line == "---").map(|n| n + 3);
            let wanted = header.map(|line| format!("{line}:"));
            if wanted.as_deref() != Some(selector) {
                broken.push(format!(
                    "{file}: include it from its line {} on (`:{}`), after insta's header",
                    header.unwrap_or(0),
                    wanted.unwrap_or_default()
                ));
            }
        }
    }
    broken
}

#[test]
fn every_include_names_a_file_and_anchor_that_exist() {
    check_every_page("broken includes", broken_includes);
}

/// The links and images of a page (at `page`, relative to `src/`) that lead nowhere.
fn broken_links(page: &Path, text: &str) -> Vec<String> {
    let mut broken: Vec<String> = (undefined_references(text).into_iter())
        .map(|label| format!("[{label}]: no `[{label}]: …` defines it"))
        .collect();
    let mut ids = BTreeMap::new(); // Of each page linked with a fragment.
    for target in links(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
        let linked = if file.is_empty() { src().join(page) } else { dir_of(page).join(file) };
        if !linked.exists() {
            broken.push(format!("{target}: no such file"));
            continue;
        }
        let is_page = linked.extension().is_some_and(|ext| ext == "md");
        if !fragment.is_empty() && is_page {
            let ids = ids.entry(linked.clone()).or_insert_with(|| {
                if file.is_empty() { heading_ids(text) } else { heading_ids(&read(&linked)) }
            });
            if !ids.contains(fragment) {
                broken.push(format!("{target}: no heading with that id"));
            }
        }
        if is_page && !linked.starts_with(src()) {
            broken.push(format!("{target}: outside the book"));
        }
    }
    broken
}

#[test]
fn every_link_and_image_resolves() {
    check_every_page("broken links", broken_links);
}

/// A page missing from SUMMARY.md is never built, unless it is a fragment that a
/// page includes (the "you are here" grids, generated tables).
#[test]
fn every_page_is_in_the_summary_or_included_by_one() {
    let summary = read(&src().join("SUMMARY.md"));
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let mut included = BTreeSet::new();
    for page in pages() {
        for include in includes(&read(&src().join(&page))) {
            let file = include.split_once(':').map_or(include, |(file, _)| file);
            if let Ok(path) = dir_of(&page).join(file.trim()).canonicalize() {
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

/// The graded checks of the registry that the grading page's table ("What each
/// step must show") does not name in its step's rows, as `feature_NAME` (what steps
/// 2 to 7 add) or `NAME`.
fn checks_missing_from_the_table(grading: &str) -> Vec<String> {
    let rows: Vec<&str> = grading
        .lines()
        .filter(|line| line.starts_with("| [") || line.starts_with("| 5, "))
        .collect();
    let row_of = |step: usize| -> String {
        let step_rows = rows.iter().filter(|row| {
            row.starts_with(&format!("| [{step}]")) || row.starts_with(&format!("| {step}, "))
        });
        step_rows.copied().collect::<Vec<_>>().join("\n")
    };
    let mut missing = Vec::new();
    for check in harness::registry::CHECKS {
        let name = check.test_name(check.step);
        if !row_of(check.step).contains(&format!("`{name}`")) {
            missing.push(format!("step {}: `{name}`", check.step));
        }
    }
    missing
}

#[test]
fn the_grading_page_names_every_graded_check() {
    let grading = read(&src().join("classroom/grading.md"));
    let missing = checks_missing_from_the_table(&grading);
    assert!(missing.is_empty(), "classroom/grading.md's table lacks: {missing:?}");
    let without_step_5 = grading.replace("`feature_ls_shows_the_busybox_tree`", "");
    let missing = checks_missing_from_the_table(&without_step_5);
    assert_eq!(missing, ["step 5: `feature_ls_shows_the_busybox_tree`"]);
}

/// Where a page's `<details>` will not render as written. Markdown folds only when a
/// blank line follows the `<summary>` line (else what follows stays raw HTML), and
/// the house style has one before `</details>`; a folded text that begins with `2. `
/// renders as a numbered list starting at 2.
fn unrendered_folds(text: &str) -> Vec<String> {
    let line = |offset: usize| text[..offset].matches('\n').count() + 1;
    let after_blank_line = |offset: usize| {
        let Some(end) = text[..offset].rfind('\n') else { return false };
        text[..end].rsplit('\n').next().is_some_and(|previous| previous.trim().is_empty())
    };
    let mut problems = Vec::new();
    let mut after_summary = false;
    for (event, range) in markdown(text) {
        let follows_summary = std::mem::take(&mut after_summary);
        match event {
            Event::Html(html) if follows_summary && !html.trim().is_empty() => {
                problems.push(format!("{}: no blank line after <summary>", line(range.start)));
            }
            Event::Start(Tag::List(Some(_))) if follows_summary => problems.push(format!(
                "{}: the folded text starts with a number and a period: \
                 Markdown makes it a numbered list",
                line(range.start)
            )),
            Event::End(TagEnd::HtmlBlock) => after_summary = follows_summary,
            Event::Html(html) if html.contains("</summary>") => after_summary = true,
            Event::Html(html) if html.trim() == "</details>" && !after_blank_line(range.start) => {
                problems.push(format!("{}: no blank line before </details>", line(range.start)));
            }
            _ => {}
        }
    }
    problems
}

#[test]
fn every_folded_block_renders_as_written() {
    check_every_page("folded blocks that will not render", |_, text| unrendered_folds(text));
}

/// Each check on a small page: it still catches what it is for.
mod markdown_checks {
    use super::*;

    #[test]
    fn includes_are_found_in_code_blocks_but_not_when_escaped() {
        let text =
            "```rust\n{{#include a.rs:x}}\n```\n\\{{#include b.rs}}\n{{ #rustdoc_include c.rs }}\n";
        assert_eq!(includes(text), ["a.rs:x", "c.rs"]);
    }

    #[test]
    fn a_missing_file_anchor_or_snapshot_line_is_caught() {
        let page = Path::new("step02-uts.md");
        let good = "{{#include ../../step03-reexec/src/main.rs:cli}}\n\
                    {{#include ../../step02-uts/tests/snapshots/book__a_session.snap:5:}}\n";
        assert_eq!(broken_includes(page, good), Vec::<String>::new());
        let bad = "{{#include ../../step03-reexec/src/main.rs:no_such_anchor}}\n\
                   {{#include no-such-file.rs}}\n\
                   {{#include ../../step02-uts/tests/snapshots/book__a_session.snap}}\n";
        let broken = broken_includes(page, bad);
        assert_eq!(broken.len(), 4, "{broken:#?}");
        assert!(broken[0].ends_with("no `ANCHOR: no_such_anchor`"));
        assert!(broken[1].ends_with("no `ANCHOR_END: no_such_anchor`"));
        assert!(broken[2].ends_with("no such file"));
        assert!(broken[3].contains("after insta's header"));
    }

    #[test]
    fn links_and_images_are_read_as_markdown() {
        let text = "[a](x.md) `[b](y.md)` ![i](img.svg \"title\") [r][ref] <https://e.org>\n\
                    \n```\n[c](z.md)\n```\n\n    [d](indented-code.md)\n\n[ref]: <w.md#h>\n";
        assert_eq!(links(text), ["x.md", "img.svg", "w.md#h", "https://e.org"]);
    }

    #[test]
    fn a_link_to_a_missing_page_heading_or_reference_is_caught() {
        let page = Path::new("introduction.md");
        let good = "[a](setup.md) [b](appendix/glossary.md#namespace) [c](#here) [d][def]\n\
                    \n# Here\n\n[def]: appendix/glossary.md\n";
        assert_eq!(broken_links(page, good), Vec::<String>::new());
        let bad =
            "[a](missing.md) [b](appendix/glossary.md#no-such-term) [c](#nowhere) [d][undefined]\n";
        assert_eq!(
            broken_links(page, bad),
            [
                "[undefined]: no `[undefined]: …` defines it",
                "missing.md: no such file",
                "appendix/glossary.md#no-such-term: no heading with that id",
                "#nowhere: no heading with that id",
            ]
        );
    }

    #[test]
    fn heading_ids_are_mdbooks() {
        let text = "# A `b`, c!\n## A b [c](x.md)\nSetext\n===\n\
                    ```\n# not a heading\n```\n### Custom {#mine}\n";
        let ids: Vec<String> = heading_ids(text).into_iter().collect();
        assert_eq!(ids, ["a-b-c", "a-b-c-1", "mine", "setext"]);
    }

    #[test]
    fn folds_that_will_not_render_are_caught() {
        let good = "1. Q?\n\n   <details><summary>Answer</summary>\n\n   Yes.\n\n   </details>\n\n\
                    ```html\n<details><summary>Answer</summary>\n2. in code\n</details>\n```\n";
        assert_eq!(unrendered_folds(good), Vec::<String>::new());
        let bad = "<details><summary>Answer</summary>\nNo blank line.\n\n</details>\n\n\
                   <details><summary>Answer</summary>\n\n2. A number.\n\nText.\n</details>\n";
        assert_eq!(
            unrendered_folds(bad),
            [
                "2: no blank line after <summary>",
                "8: the folded text starts with a number and a period: \
                 Markdown makes it a numbered list",
                "11: no blank line before </details>",
            ]
        );
    }
}
