//! The steps are listed once (`harness::steps()`). Everything else that knows the
//! steps must agree with that list: the workspace's members, the step directories
//! and the book's chapters.

use std::fs;

use harness::workspace::steps_in_manifest;
use harness::{steps, workspace};

#[test]
fn the_steps_are_numbered_one_by_one_from_01() {
    assert!(!steps().is_empty(), "no workspace member named stepNN-*");
    for (i, step) in steps().iter().enumerate() {
        let number = format!("step{:02}-", i + 1);
        assert!(step.starts_with(&number), "step {} is {step}: expected {number}…", i + 1);
    }
}

#[test]
fn every_step_directory_is_a_step_of_the_workspace() {
    let entries = fs::read_dir(workspace()).into_iter().flatten().flatten();
    let mut dirs: Vec<String> = entries
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("step"))
        .collect();
    dirs.sort();
    assert_eq!(dirs, steps(), "the step packages in the workspace's directory");
    for step in steps() {
        let graded = format!("{step}/tests/{}.rs", &step[..6]);
        assert!(workspace().join(&graded).is_file(), "{graded}: each step's graded tests");
    }
}

#[test]
fn the_workspace_lists_the_same_steps() {
    let manifest = fs::read_to_string(workspace().join("Cargo.toml"))
        .unwrap_or_else(|err| panic!("read the workspace's Cargo.toml: {err}"));
    assert_eq!(steps_in_manifest(&manifest), steps(), "the workspace's members named stepNN-*");
}

#[test]
fn the_book_has_a_chapter_for_each_step_in_order() {
    let summary = fs::read_to_string(workspace().join("book/src/SUMMARY.md"))
        .unwrap_or_else(|err| panic!("read book/src/SUMMARY.md: {err}"));
    // Each chapter's link, `[…](stepNN-name.md)`; the whole programs are under code/.
    let chapters: Vec<&str> = summary
        .split("](")
        .skip(1)
        .filter_map(|link| link.split_once(".md)").map(|(page, _)| page))
        .filter(|page| page.starts_with("step"))
        .collect();
    assert_eq!(chapters, steps(), "the step chapters in book/src/SUMMARY.md");
}
