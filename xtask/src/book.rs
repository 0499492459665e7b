//! The book's rules: code shown in the book comes from compiled files.
//!
//! Every ```` ```rust ```` block must be an `{{#include}}` (or
//! `{{#rustdoc_include}}`) of a file in the repository, and every include
//! must point at a file that exists and, when it names an anchor, at an
//! anchor that file defines. mdBook itself only logs a missing include and
//! silently renders an empty block for a missing anchor, so we check first.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::{sessions, style};

/// Pinned versions; `.ci/run` installs exactly these. Diagrams are drawn
/// in the browser (`book/assets/mermaid-init.js`) and links are checked by
/// [`crate::links`], so mdBook is the only tool the English book needs.
const MDBOOK_TOOLS: [(&str, &str); 1] = [("mdbook", "0.5.4")];
/// The gettext tools for the Chinese edition (`mdbook-gettext` has no
/// `--version`; `.ci/run` installs this one).
const I18N_HELPERS: &str = "0.4.0";

/// Where `mdbook build` writes the site (`build-dir` in `book.toml`).
const SITE_DIR: &str = "target/book";

pub fn check_code(root: &Path) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut includes = 0;
    let mut pages = Vec::new();
    let mut skipped = Vec::new();
    for page in crate::files_with_extension(&root.join("book"), "md")? {
        let text =
            fs::read_to_string(&page).with_context(|| format!("cannot read {}", page.display()))?;
        let shown = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        problems.extend(pasted_rust_blocks(&text).into_iter().map(|line| {
            format!(
                "{shown}:{line}: a rust block that is not {{{{#include}}}}d from a compiled file"
            )
        }));
        for (line, directive) in include_directives(&text) {
            includes += 1;
            let base = page.parent().unwrap_or(root);
            if let Err(problem) = check_include(base, &directive) {
                problems.push(format!("{shown}:{line}: {problem}"));
            }
        }
        for (line, problem) in style::check_page(root, &page, &text) {
            problems.push(format!("{shown}:{line}: {problem}"));
        }
        let (unrecorded, skipped_here) = sessions::page_sessions(&text);
        for (line, problem) in unrecorded {
            problems.push(format!("{shown}:{line}: {problem}"));
        }
        skipped.extend(
            skipped_here
                .into_iter()
                .map(|s| format!("{} ({shown}: {})", s.name, s.reason)),
        );
        pages.push((page, text));
    }
    problems.extend(style::missing_manifests(root, &pages));
    let shown_pages: Vec<(String, String)> = pages
        .iter()
        .map(|(page, text)| {
            let shown = page
                .strip_prefix(root)
                .unwrap_or(page)
                .display()
                .to_string();
            (shown, text.clone())
        })
        .collect();
    problems.extend(style::duplicate_paragraphs(&shown_pages));
    // An include the style check also reads would be reported twice.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|problem| seen.insert(problem.clone()));
    if !problems.is_empty() {
        bail!(
            "the book breaks its rules ({} problems):\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    for session in &skipped {
        println!("book: session skipped by the re-run check: {session}");
    }
    println!(
        "book: {includes} includes checked, no pasted Rust code; every listing captioned and \
         at most {} lines, every step with a checkpoint, no paragraph twice",
        style::MAX_LISTING_LINES
    );
    Ok(())
}

pub fn build(root: &Path, serve: bool) -> anyhow::Result<()> {
    for (tool, version) in MDBOOK_TOOLS {
        let output = std::process::Command::new(tool).arg("--version").output();
        let found = output
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        match found {
            Some(text) if text.contains(version) => {}
            Some(text) => println!(
                "warning: {tool} is {}, the book is tested with {version}",
                text.trim()
            ),
            None => bail!(
                "{tool} is not installed; install it with `cargo install --locked {tool}@{version}`"
            ),
        }
    }
    let args: &[&str] = if serve {
        &["serve", "--open"]
    } else {
        &["build"]
    };
    let status = std::process::Command::new("mdbook").args(args).status()?;
    if !status.success() {
        if serve {
            bail!(
                "mdbook serve failed ({status}); CI installs mdBook without its server, \
                 `cargo install --locked mdbook@0.5.4` installs the full one"
            );
        }
        bail!("mdbook {} failed ({status})", args.join(" "));
    }
    if serve {
        return Ok(());
    }
    println!("book: built into {SITE_DIR}");
    if !crate::has_command("mdbook-gettext") {
        bail!(
            "mdbook-gettext is not installed, so the Chinese edition cannot be built; \
             install it with `cargo install --locked mdbook-i18n-helpers@{I18N_HELPERS}`"
        );
    }
    let chinese = root.join(SITE_DIR).join(crate::i18n::LANGUAGE);
    crate::i18n::build_book(root, &chinese)?;
    println!(
        "book: the Chinese edition built into {SITE_DIR}/{}",
        crate::i18n::LANGUAGE
    );
    crate::links::check(&root.join(SITE_DIR))?;
    crate::i18n::check_sessions_shown(root, &chinese)
}

/// Line numbers of ```` ```rust ```` blocks without an include inside.
fn pasted_rust_blocks(text: &str) -> Vec<usize> {
    let mut pasted = Vec::new();
    let mut open: Option<(usize, bool)> = None; // (start line, has include)
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match open {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`');
                let lang = info.split([',', ' ']).next().unwrap_or_default();
                let is_rust = lang == "rust";
                open = Some((index + 1, !is_rust));
            }
            Some((start, has_include)) if trimmed.starts_with("```") => {
                if !has_include {
                    pasted.push(start);
                }
                open = None;
            }
            Some((start, false)) if is_include(trimmed) => open = Some((start, true)),
            _ => {}
        }
    }
    pasted
}

fn is_include(line: &str) -> bool {
    line.contains("{{#include ") || line.contains("{{#rustdoc_include ")
}

/// `(line, "path:anchor")` for every include directive.
fn include_directives(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .flat_map(|(index, line)| {
            include_targets(line)
                .into_iter()
                .map(move |target| (index + 1, target))
        })
        .collect()
}

/// The targets (`path:anchor`) of the include directives on one line.
pub fn include_targets(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = &after[..end];
        if let Some(target) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        {
            found.push(target.trim().to_owned());
        }
        rest = &after[end + 2..];
    }
    found
}

/// `path`, `path:anchor`, `path:10`, `path:10:20` (numbers are line ranges).
fn check_include(base: &Path, target: &str) -> Result<(), String> {
    included_lines(base, target).map(|_| ())
}

/// The name after `marker` on a line, as mdBook reads it: the word
/// characters and dashes that follow, so `<!-- ANCHOR: task -->` names
/// `task`.
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let (_, rest) = line.split_once(marker)?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// What an include shows: the file it reads and the lines it brings in
/// (without mdBook's `ANCHOR` marker lines), or why it cannot.
pub fn included_lines(base: &Path, target: &str) -> Result<(PathBuf, Vec<String>), String> {
    let mut parts = target.splitn(2, ':');
    let path = parts.next().unwrap_or_default();
    let selector = parts.next();
    let file = base.join(path);
    let text = fs::read_to_string(&file).map_err(|err| format!("include {path}: {err}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let is_marker = |line: &&str| line.contains("ANCHOR:") || line.contains("ANCHOR_END:");
    let shown = |range: &[&str]| {
        range
            .iter()
            .filter(|line| !is_marker(line))
            .map(|line| (*line).to_owned())
            .collect::<Vec<_>>()
    };
    let Some(selector) = selector else {
        return Ok((file, shown(&lines)));
    };
    let numbers: Vec<&str> = selector.split(':').collect();
    if numbers
        .iter()
        .all(|part| part.chars().all(|c| c.is_ascii_digit()))
    {
        let number = |i: usize| numbers.get(i).and_then(|n| n.parse::<usize>().ok());
        let first = number(0).unwrap_or(1).max(1);
        let last = match numbers.len() {
            1 => first,
            _ => number(1).unwrap_or(lines.len()),
        }
        .min(lines.len());
        let range = lines.get(first - 1..last).unwrap_or_default();
        return Ok((file, shown(range)));
    }
    let marks = |marker: &str| {
        lines
            .iter()
            .position(|line| anchor_name(line, marker) == Some(selector))
    };
    let Some(start) = marks("ANCHOR:") else {
        return Err(format!(
            "include {path}: no `ANCHOR: {selector}` in that file"
        ));
    };
    let Some(end) = marks("ANCHOR_END:") else {
        return Err(format!(
            "include {path}: no `ANCHOR_END: {selector}` in that file"
        ));
    };
    if end < start {
        return Err(format!(
            "include {path}: `ANCHOR_END: {selector}` comes before its start"
        ));
    }
    Ok((file, shown(&lines[start + 1..end])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_rust_block_is_found() {
        let text = "# Page\n```rust\nfn main() {}\n```\n```rust\n{{#include a.rs:x}}\n```\n";
        assert_eq!(pasted_rust_blocks(text), vec![2]);
    }

    #[test]
    fn other_languages_are_not_checked() {
        let text = "```console\n$ cargo run\n```\n```rust,ignore\n{{#rustdoc_include a.rs}}\n```\n";
        assert!(pasted_rust_blocks(text).is_empty());
    }

    #[test]
    fn include_targets_are_parsed() {
        let text = "x {{#include ../a.rs:serve}} and {{#include b.rs}}\n";
        assert_eq!(
            include_directives(text),
            vec![(1, "../a.rs:serve".to_owned()), (1, "b.rs".to_owned())]
        );
    }

    #[test]
    fn a_missing_anchor_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-anchor-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("a.rs"),
            "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n",
        )
        .unwrap();
        assert!(check_include(&dir, "a.rs:here").is_ok());
        assert!(check_include(&dir, "a.rs:there").is_err());
        assert!(check_include(&dir, "missing.rs").is_err());
        fs::write(
            dir.join("README.md"),
            "# T\n<!-- ANCHOR: task -->\nDo it.\n<!-- ANCHOR_END: task -->\n",
        )
        .unwrap();
        assert_eq!(
            included_lines(&dir, "README.md:task").map(|(_, lines)| lines),
            Ok(vec!["Do it.".to_owned()])
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
