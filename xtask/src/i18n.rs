//! The Chinese edition, kept in step with the English by gettext.
//!
//! English is the source. `mdbook-xgettext` extracts every paragraph,
//! heading, table cell, list item, code comment and string literal of the
//! book (after the includes, so included code counts) into a template;
//! `msgmerge` brings `po/zh-CN.po` up to date with it, marking a message
//! whose English changed as fuzzy; `mdbook-gettext` builds the Chinese book
//! from the catalog. `po/README.md` is the translator's guide.
//!
//! - `cargo xtask i18n update`: extract, merge, and fill the messages that
//!   stay as they are (recorded sessions, string literals).
//! - `cargo xtask i18n check`: what CI runs. The catalog must be the one
//!   `update` would write (so nothing in English is new or changed since),
//!   every message translated and none fuzzy (`msgfmt --check
//!   --statistics`), and every translation must keep its code, links,
//!   anchors and shape and use the glossary's terms ([`rules`]).
//! - `cargo xtask i18n browser`: the built Chinese pages in headless
//!   Chromium ([`check_in_browser`]).

mod po;
mod rules;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use po::Catalog;

/// mdBook's name for the language, and the catalog's file name.
pub const LANGUAGE: &str = "zh-CN";
/// The Chinese book's title (the book's title is not a message).
pub const TITLE: &str = "Rust 微服务实战：循序渐进";
const CATALOG: &str = "po/zh-CN.po";
/// Where the template and the merged catalog are written.
const WORK_DIR: &str = "target/i18n";
/// The catalog's header, always written the same, so that `update` gives
/// the same file for the same English and translation.
const HEADER: &str = "Project-Id-Version: Microservices in Rust, Step by Step\n\
POT-Creation-Date: \n\
PO-Revision-Date: \n\
Last-Translator: \n\
Language-Team: Simplified Chinese\n\
MIME-Version: 1.0\n\
Content-Type: text/plain; charset=UTF-8\n\
Content-Transfer-Encoding: 8bit\n\
Language: zh_CN\n\
Plural-Forms: nplurals=1; plural=0;\n";

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("update") => update(root),
        Some("check") => check(root),
        Some("browser") => check_in_browser(root),
        _ => bail!("usage: cargo xtask i18n <update | check | browser>"),
    }
}

fn update(root: &Path) -> anyhow::Result<()> {
    let merged = merged_catalog(root)?;
    fs::write(root.join(CATALOG), po::write(&merged))?;
    let to_do = merged
        .entries
        .iter()
        .filter(|entry| !entry.is_translated())
        .count();
    println!(
        "i18n: {CATALOG} updated, {} messages, {to_do} to translate (empty or fuzzy)",
        merged.entries.len()
    );
    Ok(())
}

fn check(root: &Path) -> anyhow::Result<()> {
    let committed_text =
        fs::read_to_string(root.join(CATALOG)).with_context(|| format!("cannot read {CATALOG}"))?;
    let committed = po::parse(&committed_text).map_err(|e| anyhow::anyhow!("{CATALOG}: {e}"))?;
    let merged = merged_catalog(root)?;
    let mut problems = Vec::new();

    let untranslated: Vec<&po::Entry> = merged
        .entries
        .iter()
        .filter(|entry| !entry.is_translated())
        .collect();
    for entry in &untranslated {
        let what = if entry.is_fuzzy() {
            "changed in English since it was translated (fuzzy)"
        } else {
            "not translated"
        };
        problems.push(format!(
            "{}: {what}: \"{}\"",
            entry.locations().next().unwrap_or("?"),
            first_line(&entry.msgid)
        ));
    }
    if untranslated.is_empty() && merged != committed {
        problems.push(format!(
            "{CATALOG} is not what `cargo xtask i18n update` writes for today's English \
             (a message was removed or moved): run it and commit the result"
        ));
    }
    problems.extend(msgfmt_statistics(root)?);
    problems.extend(diagrams_left_out(root)?);

    let book = rules::Book::read(root)?;
    for entry in committed.entries.iter().filter(|e| e.is_translated()) {
        for problem in rules::problems(&book, entry) {
            problems.push(format!(
                "{}: {problem}: \"{}\"",
                entry.locations().next().unwrap_or("?"),
                first_line(&entry.msgid)
            ));
        }
    }
    if !problems.is_empty() {
        let shown = problems.len().min(60);
        bail!(
            "the Chinese edition is not in step with the English ({} problems{}); \
             po/README.md says how to mend it:\n  {}",
            problems.len(),
            if shown < problems.len() {
                format!(", the first {shown} shown")
            } else {
                String::new()
            },
            problems[..shown].join("\n  ")
        );
    }
    println!(
        "i18n: {} messages, every one translated and none fuzzy; code, links, anchors \
         and the glossary's {} terms kept",
        committed.entries.len(),
        book.glossary.len()
    );
    Ok(())
}

/// mdbook-xgettext extracts a code block without a known syntax only if
/// it holds a `"` or `//`: a diagram without either would stay English.
fn diagrams_left_out(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for page in crate::files_with_extension(&root.join("book"), "md")? {
        let text = fs::read_to_string(&page)?;
        let shown = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        let mut diagram: Option<(usize, bool)> = None;
        for (index, line) in text.lines().enumerate() {
            match diagram {
                None if line.trim_start().starts_with("```mermaid") => {
                    diagram = Some((index + 1, false));
                }
                Some((start, quoted)) if line.trim_start().starts_with("```") => {
                    if !quoted {
                        problems.push(format!(
                            "{shown}:{start}: a diagram without a `\"` is not extracted for \
                             translation: add a caption line `%% \"What it shows\"`"
                        ));
                    }
                    diagram = None;
                }
                Some((start, quoted)) => {
                    diagram = Some((start, quoted || line.contains('"') || line.contains("//")));
                }
                None => {}
            }
        }
    }
    Ok(problems)
}

/// The catalog as `update` writes it: today's template merged into the
/// committed translation, verbatim messages filled, the header fixed.
fn merged_catalog(root: &Path) -> anyhow::Result<Catalog> {
    let template = extract(root)?;
    let catalog = root.join(CATALOG);
    let merged_path = root.join(WORK_DIR).join("merged.po");
    if catalog.is_file() {
        let status = Command::new("msgmerge")
            .args(["--quiet", "--previous", "--no-wrap", "--add-location=file"])
            .arg("--output-file")
            .arg(&merged_path)
            .arg(&catalog)
            .arg(&template)
            .status()
            .context("cannot run msgmerge (GNU gettext)")?;
        if !status.success() {
            bail!("msgmerge failed ({status})");
        }
    } else {
        let status = Command::new("msgattrib")
            .args(["--no-wrap", "--add-location=file"])
            .arg("--output-file")
            .arg(&merged_path)
            .arg(&template)
            .status()
            .context("cannot run msgattrib (GNU gettext)")?;
        if !status.success() {
            bail!("msgattrib failed ({status})");
        }
    }
    let text = fs::read_to_string(&merged_path)?;
    let mut merged = po::parse(&text).map_err(|e| anyhow::anyhow!("merged catalog: {e}"))?;
    merged.header = HEADER.to_owned();
    for entry in &mut merged.entries {
        if rules::is_verbatim(&entry.msgid) {
            entry.msgstr = entry.msgid.clone();
            entry.settle();
        }
    }
    Ok(merged)
}

/// Runs `mdbook-xgettext` over the English book; returns the template.
fn extract(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join(WORK_DIR);
    fs::create_dir_all(&dir)?;
    let output = Command::new("mdbook")
        .args(["build", "--dest-dir"])
        .arg(&dir)
        .env(
            "MDBOOK_OUTPUT",
            r#"{"xgettext": {"pot-file": "messages.pot"}}"#,
        )
        .output()
        .context("cannot run mdbook")?;
    if !output.status.success() {
        bail!(
            "mdbook-xgettext failed ({}); is mdbook-i18n-helpers installed? \
             `cargo install --locked mdbook-i18n-helpers@0.4.0`\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(dir.join("messages.pot"))
}

/// `msgfmt --check --statistics` on the committed catalog: what it says
/// about fuzzy and untranslated messages, as problems.
fn msgfmt_statistics(root: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new("msgfmt")
        .args([
            "--check",
            "--statistics",
            "--output-file=/dev/null",
            CATALOG,
        ])
        .current_dir(root)
        .output()
        .context("cannot run msgfmt (GNU gettext)")?;
    let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    println!("$ msgfmt --check --statistics {CATALOG}\n{said}");
    if !output.status.success() {
        return Ok(vec![format!("msgfmt --check refuses {CATALOG}: {said}")]);
    }
    if said.contains("fuzzy") || said.contains("untranslated") {
        return Ok(vec![format!("msgfmt counts messages still to do: {said}")]);
    }
    Ok(Vec::new())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut shown: String = line.chars().take(90).collect();
    if shown.len() < line.len() || text.lines().count() > 1 {
        shown.push('…');
    }
    shown
}

/// Builds the Chinese book into `dest` with the catalog.
pub fn build_book(root: &Path, dest: &Path) -> anyhow::Result<()> {
    let status = Command::new("mdbook")
        .args(["build", "--dest-dir"])
        .arg(dest)
        .current_dir(root)
        .env("MDBOOK_BOOK__LANGUAGE", LANGUAGE)
        .env("MDBOOK_BOOK__TITLE", TITLE)
        .env("MDBOOK_PREPROCESSOR__GETTEXT", r#"{"after": ["links"]}"#)
        .status()
        .context("cannot run mdbook")?;
    if !status.success() {
        bail!("mdbook build for {LANGUAGE} failed ({status})");
    }
    Ok(())
}

/// The Chinese site shows every recorded session exactly as recorded:
/// each line an `{{#include}}` of `book/sessions/` brings in is in the
/// code blocks of the page's Chinese HTML.
pub fn check_sessions_shown(root: &Path, chinese_site: &Path) -> anyhow::Result<()> {
    let book_dir = root.join("book");
    let mut problems = Vec::new();
    let mut lines_checked = 0;
    for page in crate::files_with_extension(&book_dir, "md")? {
        let text = fs::read_to_string(&page)?;
        let targets: Vec<String> = text
            .lines()
            .flat_map(crate::book::include_targets)
            .filter(|target| target.contains("sessions/"))
            .collect();
        if targets.is_empty() {
            continue;
        }
        let relative = page.strip_prefix(&book_dir).unwrap_or(&page);
        let html_path = chinese_site.join(relative).with_extension("html");
        let html = fs::read_to_string(&html_path)
            .with_context(|| format!("cannot read {}", html_path.display()))?;
        let shown = code_text(&html);
        let base = page.parent().unwrap_or(&book_dir);
        for target in targets {
            let (_, lines) = crate::book::included_lines(base, &target)
                .map_err(|problem| anyhow::anyhow!("{}: {problem}", relative.display()))?;
            for line in lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()) {
                lines_checked += 1;
                if !shown.contains(line) {
                    problems.push(format!(
                        "{}: {target}: the Chinese page does not show `{line}`",
                        relative.display()
                    ));
                    break;
                }
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "the Chinese edition changes recorded sessions:\n  {}",
            problems.join("\n  ")
        );
    }
    println!("book: {lines_checked} recorded lines shown unchanged in the Chinese edition");
    Ok(())
}

/// The text inside the `<code>` elements of a page, tags removed and
/// entities decoded.
fn code_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<code") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(end) = after.find("</code>") else {
            break;
        };
        let inner = &after[open_end + 1..end.max(open_end + 1)];
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.push('\n');
        rest = &after[end + "</code>".len()..];
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The Chinese pages as a reader sees them, in headless Chromium with a
/// CJK font: every diagram draws (a translated label can break mermaid's
/// syntax), every page links to its English twin, and a chapter and the
/// glossary are photographed into `target/i18n/screenshots/` for a person
/// to look at (missing glyphs, overflowing tables, English left in the
/// navigation). Run after `cargo xtask book`.
pub fn check_in_browser(root: &Path) -> anyhow::Result<()> {
    let site = root.join("target/book");
    let chinese = site.join(LANGUAGE);
    if !chinese.join("index.html").is_file() {
        bail!(
            "no Chinese edition under {}: run `cargo xtask book` first",
            chinese.display()
        );
    }
    let fonts = Command::new("fc-list")
        .args([":lang=zh", "family"])
        .output()
        .context("cannot run fc-list (fontconfig)")?;
    if String::from_utf8_lossy(&fonts.stdout).trim().is_empty() {
        bail!("no font with Chinese glyphs is installed: `apt-get install fonts-noto-cjk`");
    }
    let browser = Browser::new(root)?;
    let mut problems = Vec::new();
    let mut diagrams = 0;
    for page in crate::files_with_extension(&chinese, "html")? {
        let html = fs::read_to_string(&page)?;
        let name = page.strip_prefix(&chinese).unwrap_or(&page).to_path_buf();
        if !html.contains("language-mermaid") {
            continue;
        }
        let dom = browser.dom(&page)?;
        let drawn = dom.matches("<svg aria-roledescription=").count();
        let expected = html.matches("language-mermaid").count();
        diagrams += drawn;
        if dom.contains("Syntax error in text") || drawn < expected {
            problems.push(format!(
                "{}: {drawn} of {expected} diagrams drawn (a translated label breaks mermaid?)",
                name.display()
            ));
        }
    }
    let shots = root.join(WORK_DIR).join("screenshots");
    fs::create_dir_all(&shots)?;
    for page in ["ch04-gateway.html", "appendix/glossary.html"] {
        let path = chinese.join(page);
        let dom = browser.dom(&path)?;
        if !dom.contains("<html lang=\"zh-CN\"") {
            problems.push(format!("{page}: the page does not say it is in Chinese"));
        }
        let english = site.join(page);
        let twin = format!("href=\"file://{}\"", english.display());
        if !dom.contains(&twin) || !english.is_file() {
            problems.push(format!(
                "{page}: no language switch to {}",
                english.display()
            ));
        }
        let png = shots.join(page.replace('/', "-").replace(".html", ".png"));
        browser.screenshot(&path, &png)?;
        println!("book: {} photographed: {}", page, png.display());
    }
    if !problems.is_empty() {
        bail!(
            "the Chinese pages in a browser:\n  {}",
            problems.join("\n  ")
        );
    }
    println!("book: {diagrams} diagrams drawn in the Chinese pages, language switches in place");
    Ok(())
}

/// Debian's Chromium, headless, with a profile of its own and nothing that
/// reaches for the network.
struct Browser {
    profile: PathBuf,
}

impl Browser {
    fn new(root: &Path) -> anyhow::Result<Self> {
        if !crate::has_command("chromium") {
            bail!("Chromium is not installed: `apt-get install chromium`");
        }
        let profile = root.join(WORK_DIR).join("chromium-profile");
        fs::create_dir_all(&profile)?;
        Ok(Self { profile })
    }

    fn command(&self) -> Command {
        let mut command = Command::new("chromium");
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--allow-file-access-from-files",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", self.profile.display()));
        command
    }

    /// The page's DOM after its scripts ran.
    fn dom(&self, page: &Path) -> anyhow::Result<String> {
        let output = self
            .command()
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .context("cannot run chromium")?;
        if !output.status.success() {
            bail!(
                "chromium could not open {} ({})",
                page.display(),
                output.status
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn screenshot(&self, page: &Path, png: &Path) -> anyhow::Result<()> {
        let output = self
            .command()
            .arg("--window-size=1280,2400")
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .context("cannot run chromium")?;
        if !output.status.success() || !png.is_file() {
            bail!(
                "chromium could not photograph {} ({})",
                page.display(),
                output.status
            );
        }
        Ok(())
    }
}
