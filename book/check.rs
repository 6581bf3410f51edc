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

mod chapters;

/// The course's steps, as the workspace lists them (harness::steps()).
fn steps() -> Vec<&'static str> {
    harness::steps().to_vec()
}

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
