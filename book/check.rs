//! The book must never go stale: every `{{#include}}` names a file, anchor or
//! snapshot that exists, every link and image resolves, every page is in
//! SUMMARY.md, and every step chapter has its eight parts and shows the change and
//! session that the step's tests keep as snapshots.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const STEPS: [&str; 7] = [
    "step01-exec",
    "step02-uts",
    "step03-reexec",
    "step04-pid",
    "step05-chroot-proc",
    "step06-mount-ns",
    "step07-cgroups",
];

/// The parts of every step chapter, in order, as `##` headings.
const PARTS: [&str; 8] = [
    "What you will see",
    "The change",
    "The code",
    "Run it",
    "How it works",
    "Check your work",
    "Gotchas",
    "Exercises",
];

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

/// The `{{#include …}}` directives of a page, as written.
fn includes(text: &str) -> Vec<&str> {
    text.split("{{#include ")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(i, _)| i)
        .collect()
}

/// The targets of the page's Markdown links and images, outside code.
fn links(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
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
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
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

#[test]
fn every_page_is_in_the_summary() {
    let summary = read(&src().join("SUMMARY.md"));
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let orphans: Vec<_> = pages()
        .into_iter()
        .map(|page| page.display().to_string())
        .filter(|page| page != "SUMMARY.md" && !listed.contains(page))
        .collect();
    assert!(orphans.is_empty(), "pages missing from SUMMARY.md: {orphans:?}");
}

#[test]
fn every_step_chapter_has_its_eight_parts_in_order() {
    for step in STEPS {
        let text = read(&src().join(format!("{step}.md")));
        let headings: Vec<&str> =
            text.lines().filter_map(|line| line.strip_prefix("## ")).map(str::trim).collect();
        assert_eq!(headings, PARTS, "{step}.md: its `##` headings");
    }
}

#[test]
fn every_step_chapter_shows_its_change_and_session_from_the_tests() {
    for (n, step) in STEPS.iter().enumerate() {
        let text = read(&src().join(format!("{step}.md")));
        let included = includes(&text).join("\n");
        let mut wanted = vec![format!("{step}/tests/snapshots/book__a_session.snap")];
        if n > 0 {
            wanted.push(format!("{step}/tests/snapshots/book__the_change_from_step_{n}.snap"));
        }
        wanted.push(format!("{step}/src/main.rs:"));
        for file in wanted {
            assert!(included.contains(&file), "{step}.md does not include {file}");
        }
    }
}
