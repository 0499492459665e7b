//! Every internal link of the built book, checked: the page it points at
//! exists, and so does the heading (or other `id`) after the `#`.
//!
//! It reads the HTML mdBook wrote, so it sees links exactly as a reader's
//! browser does, including links to a heading on another page and links
//! that an `{{#include}}` brought in. Links to other sites are not
//! followed: CI has no internet, and a dead external link is not ours to
//! fix in the same change.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

/// The pages mdBook generates for itself: their links are its own.
const GENERATED_PAGES: [&str; 2] = ["404.html", "toc.html"];

/// Checks every page under `html_dir`.
pub fn check(html_dir: &Path) -> anyhow::Result<()> {
    let mut pages = BTreeMap::new();
    for file in crate::files_with_extension(html_dir, "html")? {
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let relative = file.strip_prefix(html_dir).unwrap_or(&file).to_path_buf();
        pages.insert(relative, text);
    }
    if pages.is_empty() {
        bail!(
            "no pages under {}: build the book first",
            html_dir.display()
        );
    }
    let ids: BTreeMap<&Path, BTreeSet<&str>> = pages
        .iter()
        .map(|(page, text)| (page.as_path(), attribute_values(text, "id").collect()))
        .collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (page, text) in &pages {
        let name = page.to_string_lossy();
        // Each language's build has its own.
        let file_name = page.file_name().unwrap_or_default().to_string_lossy();
        if GENERATED_PAGES
            .iter()
            .any(|generated| file_name == *generated)
        {
            continue;
        }
        for href in attribute_values(text, "href") {
            let Some(link) = InternalLink::parse(href) else {
                continue;
            };
            checked += 1;
            if let Err(problem) = link.resolve(page, html_dir, &ids) {
                problems.push(format!("{name}: link `{href}`: {problem}"));
            }
        }
    }
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        bail!("the book has broken links:\n  {}", problems.join("\n  "));
    }
    println!(
        "book: {checked} internal links on {} pages checked",
        pages.len()
    );
    Ok(())
}

/// A link to a page of this book, maybe with a fragment.
#[derive(Debug, PartialEq, Eq)]
struct InternalLink<'a> {
    /// Empty for a fragment on the same page.
    path: &'a str,
    fragment: Option<&'a str>,
}

impl<'a> InternalLink<'a> {
    /// `None` for links to other sites, mail addresses and the like.
    fn parse(href: &'a str) -> Option<Self> {
        let is_external = href.starts_with("//")
            || href
                .split_once(':')
                .is_some_and(|(scheme, _)| !scheme.contains('/') && !scheme.contains('#'));
        if is_external || href.is_empty() {
            return None;
        }
        let without_query = href.split('?').next().unwrap_or_default();
        let (path, fragment) = match without_query.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment)),
            None => (without_query, None),
        };
        Some(Self { path, fragment })
    }

    fn resolve(
        &self,
        page: &Path,
        html_dir: &Path,
        ids: &BTreeMap<&Path, BTreeSet<&str>>,
    ) -> Result<(), String> {
        let target = if self.path.is_empty() {
            page.to_path_buf()
        } else {
            let base = page.parent().unwrap_or(Path::new(""));
            normalise(&base.join(self.path)).ok_or("points outside the book")?
        };
        let target = if html_dir.join(&target).is_dir() {
            target.join("index.html")
        } else {
            target
        };
        if !html_dir.join(&target).exists() {
            return Err(format!("{} does not exist", target.display()));
        }
        let Some(fragment) = self.fragment.filter(|f| !f.is_empty()) else {
            return Ok(());
        };
        let Some(target_ids) = ids.get(target.as_path()) else {
            return Err(format!("#{fragment}: {} is not a page", target.display()));
        };
        if target_ids.contains(fragment) {
            Ok(())
        } else {
            Err(format!(
                "no heading or element with id `{fragment}` on {}",
                target.display()
            ))
        }
    }
}

/// `a/b/../c` → `a/c`; `None` when `..` climbs above the root.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// The values of `name="..."` attributes, in order. mdBook writes every
/// attribute in double quotes, and escapes quotes inside code, so a plain
/// scan finds exactly the real attributes.
fn attribute_values<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let needle = format!(" {name}=\"");
    let mut rest = html;
    std::iter::from_fn(move || {
        let start = rest.find(&needle)? + needle.len();
        let after = &rest[start..];
        let end = after.find('"')?;
        rest = &after[end..];
        Some(&after[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_other_sites_are_not_internal() {
        for href in [
            "https://example.org/a",
            "mailto:a@b.c",
            "//cdn.example/x.js",
        ] {
            assert_eq!(InternalLink::parse(href), None, "{href}");
        }
    }

    #[test]
    fn a_link_splits_into_page_and_fragment() {
        assert_eq!(
            InternalLink::parse("ch01.html#run-it"),
            Some(InternalLink {
                path: "ch01.html",
                fragment: Some("run-it")
            })
        );
        assert_eq!(
            InternalLink::parse("#step-2"),
            Some(InternalLink {
                path: "",
                fragment: Some("step-2")
            })
        );
    }

    #[test]
    fn attributes_are_found_in_order() {
        let html = r#"<h2 id="a">A</h2><a href="b.html#c">x</a><code>href=&quot;no&quot;</code><p id="d">"#;
        assert_eq!(attribute_values(html, "id").collect::<Vec<_>>(), ["a", "d"]);
        assert_eq!(
            attribute_values(html, "href").collect::<Vec<_>>(),
            ["b.html#c"]
        );
    }

    #[test]
    fn a_missing_page_or_heading_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-links-{}", std::process::id()));
        fs::create_dir_all(dir.join("concepts")).unwrap();
        fs::write(
            dir.join("index.html"),
            r##"<h1 id="top">T</h1><a href="concepts/a.html#here">ok</a><a href="#top">ok</a>"##,
        )
        .unwrap();
        fs::write(dir.join("concepts/a.html"), r#"<h2 id="here">H</h2>"#).unwrap();
        assert!(check(&dir).is_ok());

        fs::write(
            dir.join("concepts/a.html"),
            r##"<h2 id="here">H</h2><a href="../index.html#gone">x</a><a href="b.html">y</a>"##,
        )
        .unwrap();
        let error = check(&dir).unwrap_err().to_string();
        assert!(
            error.contains("no heading or element with id `gone`"),
            "{error}"
        );
        assert!(error.contains("concepts/b.html does not exist"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
