//! The book's house rules that a script can check, so a reader never meets
//! a listing without a home or a paragraph twice:
//!
//! - every listing included from the code has a caption, the line just
//!   above it: ``File: [`path`](<repository>/blob/main/path)``, naming the
//!   file it shows;
//! - no listing is longer than [`MAX_LISTING_LINES`];
//! - every `### Step` of a chapter ends with a `Checkpoint:` naming the
//!   `cargo test` command the step makes pass;
//! - each chapter shows its crate's `Cargo.toml`;
//! - no paragraph appears twice;
//! - no page is longer than [`MAX_PAGE_LINES`].
//!
//! Internal links and headings are checked on the built site
//! ([`crate::links`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::book;

/// Longest listing, in lines as the reader sees them.
pub const MAX_LISTING_LINES: usize = 40;

/// Where a caption's link points: the repository in `book.toml`.
pub const REPOSITORY: &str = "https://github.com/bookshop-rs/microservices-in-rust";

/// A longer page gets sub-pages (a reader should be able to finish one).
pub const MAX_PAGE_LINES: usize = 600;

/// A paragraph shorter than this may repeat (a "Run it:" line, say).
const MIN_DUPLICATE_CHARS: usize = 80;

/// Problems on one page, as `line: what`.
pub fn check_page(root: &Path, page: &Path, text: &str) -> Vec<(usize, String)> {
    let mut problems = listing_problems(root, page, text);
    problems.extend(checkpoint_problems(text));
    let lines = text.lines().count();
    if lines > MAX_PAGE_LINES {
        problems.push((
            1,
            format!("a page of {lines} lines (at most {MAX_PAGE_LINES}): split it into sub-pages"),
        ));
    }
    problems
}

/// Chapters whose pages never show their crate's `Cargo.toml`.
pub fn missing_manifests(root: &Path, pages: &[(PathBuf, String)]) -> Vec<String> {
    let mut missing = Vec::new();
    let Ok(entries) = fs::read_dir(root.join("chapters-code")) else {
        return missing;
    };
    let mut crates: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| chapter_prefix(name).is_some())
        .collect();
    crates.sort();
    for krate in crates {
        let Some(prefix) = chapter_prefix(&krate) else {
            continue;
        };
        let manifest = format!("chapters-code/{krate}/Cargo.toml");
        let chapter_pages: Vec<&(PathBuf, String)> = pages
            .iter()
            .filter(|(page, _)| {
                page.strip_prefix(root.join("book"))
                    .ok()
                    .and_then(|p| p.components().next())
                    .is_some_and(|first| first.as_os_str().to_string_lossy().starts_with(prefix))
            })
            .collect();
        if chapter_pages.is_empty() {
            continue;
        }
        let shown = chapter_pages
            .iter()
            .any(|(_, text)| text.contains(&format!("{manifest}:")) || text.contains(&manifest));
        if !shown {
            missing.push(format!(
                "no page of {prefix} includes {manifest} (show the dependencies the chapter adds)"
            ));
        }
    }
    missing
}

/// `ch05` for `ch05-soa`.
fn chapter_prefix(name: &str) -> Option<&str> {
    let prefix = name.get(..4)?;
    let is_chapter = prefix.starts_with("ch") && prefix[2..].chars().all(|c| c.is_ascii_digit());
    is_chapter.then_some(prefix)
}

/// Paragraphs that appear more than once in the book.
pub fn duplicate_paragraphs(pages: &[(String, String)]) -> Vec<String> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (shown, text) in pages {
        for (line, paragraph) in paragraphs(text) {
            if paragraph.len() >= MIN_DUPLICATE_CHARS {
                seen.entry(paragraph)
                    .or_default()
                    .push(format!("{shown}:{line}"));
            }
        }
    }
    seen.into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(paragraph, places)| {
            let start: String = paragraph.chars().take(60).collect();
            format!(
                "the same paragraph twice ({}): \"{start}…\"",
                places.join(", ")
            )
        })
        .collect()
}

/// Prose paragraphs with their first line, whitespace collapsed; code
/// blocks, tables, HTML and headings are not prose.
fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut in_fence = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            found.extend(current.take());
            continue;
        }
        let is_prose =
            !in_fence && !trimmed.is_empty() && !trimmed.starts_with(['#', '|', '<', '{', '>']);
        if !is_prose {
            found.extend(current.take());
            continue;
        }
        match current.as_mut() {
            Some((_, paragraph)) => {
                paragraph.push(' ');
                paragraph.push_str(trimmed);
            }
            None => current = Some((index + 1, trimmed.to_owned())),
        }
    }
    found.extend(current);
    found
}

/// One fenced block that shows code from a file.
struct Listing {
    /// Line of the opening fence.
    line: usize,
    /// The non-blank line just above the fence, if any.
    caption: Option<String>,
    /// The first file it includes, relative to the repository.
    file: Option<String>,
    /// Lines the reader sees.
    length: usize,
}

fn listing_problems(root: &Path, page: &Path, text: &str) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for listing in listings(root, page, text, &mut problems) {
        let Some(file) = listing.file else { continue };
        let expected = caption_for(&file);
        let has_caption = listing
            .caption
            .as_deref()
            .is_some_and(|caption| caption.starts_with(&expected));
        if !has_caption {
            problems.push((
                listing.line,
                format!("a listing without its caption: put `{expected}` on the line above"),
            ));
        }
        if listing.length > MAX_LISTING_LINES {
            problems.push((
                listing.line,
                format!(
                    "a listing of {} lines from {file} (at most {MAX_LISTING_LINES}): \
                     include a narrower anchor, or split it with prose between",
                    listing.length
                ),
            ));
        }
    }
    problems
}

/// The caption a listing of `file` starts with.
pub fn caption_for(file: &str) -> String {
    format!("File: [`{file}`]({REPOSITORY}/blob/main/{file})")
}

fn listings(
    root: &Path,
    page: &Path,
    text: &str,
    problems: &mut Vec<(usize, String)>,
) -> Vec<Listing> {
    let base = page.parent().unwrap_or(root);
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let fence = lines[index].trim_start();
        if !fence.starts_with("```") {
            index += 1;
            continue;
        }
        let caption = lines[..index]
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .map(|line| line.trim().to_owned());
        let mut listing = Listing {
            line: index + 1,
            caption,
            file: None,
            length: 0,
        };
        index += 1;
        while index < lines.len() && !lines[index].trim_start().starts_with("```") {
            let line = lines[index];
            let directives = book::include_targets(line);
            if directives.is_empty() {
                listing.length += 1;
            }
            for target in directives {
                match book::included_lines(base, &target) {
                    Ok((file, shown)) => {
                        listing.length += shown.len();
                        if listing.file.is_none() {
                            listing.file = repository_path(root, &file);
                        }
                    }
                    Err(problem) => problems.push((index + 1, problem)),
                }
            }
            index += 1;
        }
        index += 1;
        found.push(listing);
    }
    found
}

/// `chapters-code/ch01-autonomy/src/lib.rs` for a file of the code; `None`
/// for what the book holds itself (recorded sessions).
fn repository_path(root: &Path, file: &Path) -> Option<String> {
    let canonical = file.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    let relative = canonical.strip_prefix(&root).ok()?;
    if relative.starts_with("book") {
        return None;
    }
    Some(relative.to_string_lossy().replace('\\', "/"))
}

/// Every `### Step` section must end with its checkpoint.
fn checkpoint_problems(text: &str) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    let mut open_step: Option<(usize, bool)> = None; // (heading line, has checkpoint)
    let mut in_fence = false;
    let close = |step: Option<(usize, bool)>, problems: &mut Vec<(usize, String)>| {
        if let Some((line, false)) = step {
            problems.push((
                line,
                "a step without a checkpoint: end it with `Checkpoint: `cargo test -p … --test … name`` \
                 (the command this step makes pass)"
                    .to_owned(),
            ));
        }
    };
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if trimmed.starts_with('#') {
            close(open_step.take(), &mut problems);
            let title = trimmed.trim_start_matches('#').trim();
            if title.starts_with("Step ") {
                open_step = Some((index + 1, false));
            }
            continue;
        }
        if let Some((_, has)) = open_step.as_mut()
            && (trimmed.starts_with("Checkpoint:") || trimmed.starts_with("**Checkpoint:**"))
            && trimmed.contains("cargo ")
        {
            *has = true;
        }
    }
    close(open_step, &mut problems);
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-style-{name}-{}", std::process::id()));
        fs::create_dir_all(dir.join("book")).unwrap();
        fs::create_dir_all(dir.join("chapters-code/ch09-x/src")).unwrap();
        dir
    }

    #[test]
    fn an_uncaptioned_or_overlong_listing_is_rejected() {
        let root = scratch("listing");
        let long: String = (0..45).map(|i| format!("let x{i} = {i};\n")).collect();
        fs::write(
            root.join("chapters-code/ch09-x/src/lib.rs"),
            format!("// ANCHOR: short\nfn f() {{}}\n// ANCHOR_END: short\n// ANCHOR: long\n{long}// ANCHOR_END: long\n"),
        )
        .unwrap();
        let page = root.join("book/ch09-x.md");
        let caption = caption_for("chapters-code/ch09-x/src/lib.rs");
        let good = format!(
            "{caption}\n\n```rust,ignore\n{{{{#include ../chapters-code/ch09-x/src/lib.rs:short}}}}\n```\n"
        );
        assert!(check_page(&root, &page, &good).is_empty());

        let uncaptioned = "Some prose.\n\n```rust,ignore\n{{#include ../chapters-code/ch09-x/src/lib.rs:short}}\n```\n";
        let problems = check_page(&root, &page, uncaptioned);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].1.contains("without its caption"));

        let overlong = format!(
            "{caption}\n```rust,ignore\n{{{{#include ../chapters-code/ch09-x/src/lib.rs:long}}}}\n```\n"
        );
        let problems = check_page(&root, &page, &overlong);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].1.contains("a listing of 45 lines"),
            "{problems:?}"
        );

        let wrong_file = good
            .replace("src/lib.rs)", "src/main.rs)")
            .replace("src/lib.rs`]", "src/main.rs`]");
        assert_eq!(check_page(&root, &page, &wrong_file).len(), 1);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_step_needs_a_checkpoint() {
        let text = "### Step 1: data\nprose\nCheckpoint: `cargo test -p ch01-autonomy --test store`\n### Step 2: more\nprose\n## Run it\n";
        let problems = checkpoint_problems(text);
        assert_eq!(problems, vec![(4, problems[0].1.clone())]);
    }

    #[test]
    fn a_repeated_paragraph_is_found() {
        let long = "This paragraph is long enough to count as prose that a reader would notice twice on a page.";
        let pages = vec![
            ("a.md".to_owned(), format!("{long}\n\nOther.\n")),
            ("b.md".to_owned(), format!("# T\n\n{long}\n")),
        ];
        let found = duplicate_paragraphs(&pages);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("a.md:1, b.md:3"), "{found:?}");
    }

    #[test]
    fn a_chapter_must_show_its_manifest() {
        let root = scratch("manifest");
        let page = root.join("book/ch09-x.md");
        let without = vec![(page.clone(), "no toml here".to_owned())];
        assert_eq!(missing_manifests(&root, &without).len(), 1);
        let with = vec![(
            page,
            "{{#include ../chapters-code/ch09-x/Cargo.toml:dependencies}}".to_owned(),
        )];
        assert!(missing_manifests(&root, &with).is_empty());
        fs::remove_dir_all(&root).unwrap();
    }
}
