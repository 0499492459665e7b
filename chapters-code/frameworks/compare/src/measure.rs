//! Counting lines of code for the bench (wrk's figures and memory are
//! `testkit::measure`'s, shared with the chapters' benches).

use std::path::Path;

use anyhow::Context;

/// Lines of Rust under `dir` that are neither blank nor only a comment.
pub fn code_lines(dir: &Path) -> anyhow::Result<usize> {
    let mut lines = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            lines += code_lines(&path)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path)?;
            lines += text.lines().filter(|line| is_code(line)).count();
        }
    }
    Ok(lines)
}

fn is_code(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_not_comments_or_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.rs"),
            "//! doc\n\nfn a() {\n    // why\n}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.md"), "fn not_rust() {}\n").unwrap();
        assert_eq!(code_lines(dir.path()).unwrap(), 2);
    }
}
