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

/// Pinned versions; `.ci/run` installs exactly these.
const MDBOOK_TOOLS: [(&str, &str); 3] = [
    ("mdbook", "0.5.4"),
    ("mdbook-mermaid", "0.17.1"),
    ("mdbook-linkcheck2", "0.13.0"),
];

pub fn check_code(root: &Path) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut includes = 0;
    for page in markdown_files(&root.join("book"))? {
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
    }
    if !problems.is_empty() {
        bail!(
            "the book breaks its code rules:\n  {}",
            problems.join("\n  ")
        );
    }
    println!("book: {includes} includes checked, no pasted Rust code");
    Ok(())
}

pub fn build(serve: bool) -> anyhow::Result<()> {
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
        bail!("mdbook {} failed ({status})", args.join(" "));
    }
    if !serve {
        println!("book: built into target/book/html");
    }
    Ok(())
}

fn markdown_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
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
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let directive = &after[..end];
            if let Some(target) = directive
                .strip_prefix("include ")
                .or_else(|| directive.strip_prefix("rustdoc_include "))
            {
                found.push((index + 1, target.trim().to_owned()));
            }
            rest = &after[end + 2..];
        }
    }
    found
}

/// `path`, `path:anchor`, `path:10`, `path:10:20` (numbers are line ranges).
fn check_include(base: &Path, target: &str) -> Result<(), String> {
    let mut parts = target.splitn(2, ':');
    let path = parts.next().unwrap_or_default();
    let selector = parts.next();
    let file = base.join(path);
    let text = fs::read_to_string(&file).map_err(|err| format!("include {path}: {err}"))?;
    let Some(selector) = selector else {
        return Ok(());
    };
    let is_line_range = selector
        .split(':')
        .all(|part| part.is_empty() || part.chars().all(|c| c.is_ascii_digit()));
    if is_line_range {
        return Ok(());
    }
    let has = |marker: &str| {
        text.lines().any(|line| {
            line.split_once(marker)
                .is_some_and(|(_, name)| name.trim() == selector)
        })
    };
    if !has("ANCHOR:") {
        return Err(format!(
            "include {path}: no `ANCHOR: {selector}` in that file"
        ));
    }
    if !has("ANCHOR_END:") {
        return Err(format!(
            "include {path}: no `ANCHOR_END: {selector}` in that file"
        ));
    }
    Ok(())
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
        fs::remove_dir_all(&dir).unwrap();
    }
}
