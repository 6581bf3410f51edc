//! The book's pages, for its checks (check.rs, commands.rs).

use std::fs;
use std::path::{Path, PathBuf};

pub fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every Markdown page of the book, relative to `src/`.
pub fn pages() -> Vec<PathBuf> {
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
