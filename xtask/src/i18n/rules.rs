//! What a translated message must keep from its English: its code, links
//! and anchors, its shape, and the glossary's terms.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::{Context, bail};
use regex::Regex;

use super::po::Entry;

/// Messages shown exactly as in English: a whole recorded session or
/// command (```` ```console ````, ```` ```text ````) and a string literal
/// in code, which is what the program prints.
pub fn is_verbatim(msgid: &str) -> bool {
    static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r##"^(?:b|r#*|br#*)?"(?s:(?:[^"\\]|\\.)*)"#*$"##).expect("a valid pattern")
    });
    msgid.starts_with("```console") || msgid.starts_with("```text") || LITERAL.is_match(msgid)
}

/// What the checks need to know about the English book.
pub struct Book {
    /// Heading text → the id its translation must carry (`{#id}`), for
    /// every heading below a page title: a Chinese heading would otherwise
    /// get a Chinese id, and every link to it would break.
    pub heading_ids: HashMap<String, String>,
    pub glossary: Glossary,
}

impl Book {
    pub fn read(root: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            heading_ids: heading_ids(root)?,
            glossary: Glossary::read(&root.join("book/appendix/glossary.md"))?,
        })
    }
}

fn heading_ids(root: &Path) -> anyhow::Result<HashMap<String, String>> {
    let summary = fs::read_to_string(root.join("book/SUMMARY.md"))?;
    static TITLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\(|(?m)^# (.*)$").expect("a valid pattern"));
    let mut titles: HashSet<String> = TITLE
        .captures_iter(&summary)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_owned())
        .collect();
    let mut below = HashMap::new();
    for page in crate::files_with_extension(&root.join("book"), "md")? {
        if page.ends_with("SUMMARY.md") {
            continue;
        }
        let text = fs::read_to_string(&page)?;
        for (level, heading) in headings(&text) {
            if level == 1 {
                titles.insert(heading.to_owned());
            } else if !heading.contains("{#") {
                below.insert(heading.to_owned(), mdbook_id(heading));
            }
        }
    }
    for heading in below.keys() {
        if titles.contains(heading) {
            bail!(
                "the heading \"{heading}\" is also a page title, which shares its translation: \
                 give the heading an explicit id in English ({{#{}}})",
                mdbook_id(heading)
            );
        }
    }
    Ok(below)
}

/// `(level, text)` of every heading outside code blocks.
fn headings(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level)
            && let Some(heading) = line[level..].strip_prefix(' ')
        {
            found.push((level, heading.trim()));
        }
    }
    found
}

/// The id mdBook gives a heading: its text without markup, lower case,
/// spaces as dashes, only letters, digits, `_` and `-` kept.
pub fn mdbook_id(heading: &str) -> String {
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("a valid pattern"));
    let text = LINK.replace_all(heading, "$1");
    text.chars()
        .filter(|c| *c != '`' && *c != '*')
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().collect::<String>())
            } else if c.is_whitespace() {
                Some("-".to_owned())
            } else {
                None
            }
        })
        .collect()
}

/// The glossary's terms: English → the Chinese a translation must use.
pub struct Glossary {
    /// Longest English term first, so "quorum queue" is matched before
    /// "quorum".
    terms: Vec<Term>,
    /// The table's own English and Chinese cells, which stay as they are.
    cells: HashSet<String>,
}

struct Term {
    english: String,
    chinese: String,
    pattern: Regex,
}

impl Glossary {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text)
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        static PARENTHESES: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\s*\([^)]*\)").expect("a valid pattern"));
        static FULL_WIDTH: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"（[^）]*）").expect("a valid pattern"));
        let mut terms = Vec::new();
        let mut cells = HashSet::new();
        for line in text.lines() {
            if !line.starts_with("| ") || line.starts_with("| English") {
                continue;
            }
            let row: Vec<&str> = line.trim().trim_matches('|').split(" | ").collect();
            let [english, chinese, ..] = row[..] else {
                continue;
            };
            let (english, chinese) = (english.trim(), chinese.trim());
            cells.extend([english.to_owned(), chinese.to_owned()]);
            // "Deployment (Kubernetes)" names the object, not the act:
            // only the capitalised word counts.
            let qualified = english.ends_with("(Kubernetes)") || english.ends_with("(tower)");
            let english = PARENTHESES.replace_all(english, "").replace('`', "");
            let chinese = FULL_WIDTH.replace_all(chinese, "");
            let english: Vec<&str> = english.split(" / ").map(str::trim).collect();
            let chinese: Vec<&str> = if english.len() > 1 {
                chinese.split('/').map(str::trim).collect()
            } else {
                vec![chinese.trim()]
            };
            if english.len() != chinese.len() {
                bail!("glossary row `{line}`: the English and Chinese terms do not pair up");
            }
            for (en, zh) in english.into_iter().zip(chinese) {
                terms.push(Term {
                    english: en.to_owned(),
                    chinese: zh.to_owned(),
                    pattern: term_pattern(en, qualified)?,
                });
            }
        }
        terms.sort_by_key(|term| std::cmp::Reverse(term.english.len()));
        Ok(Self { terms, cells })
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// The glossary terms the English uses whose Chinese the translation
    /// lacks, less those the translator marked as another sense.
    fn missing(&self, msgid: &str, msgstr: &str, allowed: &HashSet<String>) -> Vec<String> {
        if self.cells.contains(msgid) {
            return Vec::new();
        }
        let mut english = prose(msgid);
        let translated = squeeze(msgstr);
        let mut missing = Vec::new();
        for term in &self.terms {
            if !term.pattern.is_match(&english) {
                continue;
            }
            english = term.pattern.replace_all(&english, " ").into_owned();
            if allowed.contains(&term.english.to_lowercase()) {
                continue;
            }
            let acronym = term
                .english
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '/');
            if translated.contains(&squeeze(&term.chinese))
                || (acronym && translated.contains(&squeeze(&term.english)))
            {
                continue;
            }
            missing.push(format!(
                "the glossary says \"{}\" is \"{}\"",
                term.english, term.chinese
            ));
        }
        missing
    }
}

fn term_pattern(english: &str, qualified: bool) -> anyhow::Result<Regex> {
    let words: Vec<String> = english
        .split([' ', '-'])
        .filter(|w| !w.is_empty())
        .map(regex::escape)
        .collect();
    let case = if qualified { "" } else { "(?i)" };
    Ok(Regex::new(&format!(
        r"{case}(?:^|[^A-Za-z0-9_]){}(?:s|es)?(?:$|[^A-Za-z0-9_])",
        words.join(r"[\s-]+")
    ))?)
}

/// The English words a reader reads: no code, no link targets, no tags.
fn prose(markdown: &str) -> String {
    static HIDDEN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"`[^`]*`|\]\([^)]*\)|<[^>]+>|\{#[^}]*\}").expect("a valid pattern")
    });
    HIDDEN.replace_all(markdown, " ").into_owned()
}

fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{3400}'..='\u{9fff}').contains(&c))
}

/// Everything wrong with one translated entry.
pub fn problems(book: &Book, entry: &Entry) -> Vec<String> {
    let (msgid, msgstr) = (entry.msgid.as_str(), entry.msgstr.as_str());
    if is_verbatim(msgid) {
        return if msgstr == msgid {
            Vec::new()
        } else {
            vec!["a recorded session or a string literal stays exactly as in English".to_owned()]
        };
    }
    let mut problems = Vec::new();
    if msgid.starts_with("```") {
        if msgid.lines().next() != msgstr.lines().next() {
            problems.push("a code block keeps its first line".to_owned());
        }
        if msgid.lines().count() != msgstr.lines().count() {
            problems.push(format!(
                "a code block keeps its {} lines",
                msgid.lines().count()
            ));
        }
        return problems;
    }
    static CODE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"`[^`\n]+`").expect("a valid pattern"));
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\]\(([^)\s]+)\)").expect("a valid pattern"));
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"</?[a-zA-Z][^>]*>").expect("a valid pattern"));
    for (what, pattern) in [
        ("inline code", &*CODE),
        ("link targets", &*LINK),
        ("HTML tags", &*TAG),
    ] {
        let (english, chinese) = (counts(pattern, msgid), counts(pattern, msgstr));
        if english != chinese {
            problems.push(format!(
                "{what} differ: English {:?}, Chinese {:?}",
                english.keys().collect::<Vec<_>>(),
                chinese.keys().collect::<Vec<_>>()
            ));
        }
    }
    if !msgid.trim_end().contains('\n') && msgstr.trim_end().contains('\n') {
        problems.push("one line in English, so one line in Chinese".to_owned());
    }
    if msgid.matches('|').count() != msgstr.matches('|').count() {
        problems.push("a different number of `|`".to_owned());
    }
    if let Some(prefix) = comment_prefix(msgid)
        && !msgstr.lines().all(|line| line.starts_with(prefix))
    {
        problems.push(format!("every line of the comment starts with `{prefix}`"));
    }
    match book.heading_ids.get(msgid) {
        Some(id) if !msgstr.ends_with(&format!(" {{#{id}}}")) => problems.push(format!(
            "a heading keeps its English id: end it with ` {{#{id}}}`"
        )),
        None if msgstr.contains("{#") && !msgid.contains("{#") => {
            problems.push("`{#id}` belongs to headings only".to_owned());
        }
        _ => {}
    }
    let notes: Vec<&str> = entry.notes().collect();
    static WORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[A-Za-z]{2,}").expect("a valid pattern"));
    if WORD.find_iter(&prose(msgid)).count() >= 3
        && !has_chinese(msgstr)
        && !notes.contains(&"i18n-same")
        && !book.glossary.cells.contains(msgid)
    {
        problems.push(
            "looks untranslated (a `# i18n-same` note says it stays English on purpose)".to_owned(),
        );
    }
    let allowed: HashSet<String> = notes
        .iter()
        .filter_map(|note| note.strip_prefix("i18n-term-ok:"))
        .flat_map(|list| list.split(','))
        .map(|term| term.trim().to_lowercase())
        .collect();
    problems.extend(book.glossary.missing(msgid, msgstr, &allowed));
    problems
}

fn counts<'a>(pattern: &Regex, text: &'a str) -> BTreeMap<&'a str, usize> {
    let mut found = BTreeMap::new();
    for m in pattern.find_iter(text) {
        *found.entry(m.as_str()).or_default() += 1;
    }
    found
}

/// The comment marker every line of a code comment starts with.
fn comment_prefix(msgid: &str) -> Option<&'static str> {
    ["///", "//!", "//", "#", "--"]
        .into_iter()
        .find(|prefix| msgid.lines().all(|line| line.starts_with(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOSSARY: &str = "\
| English | 中文 | Meaning | Introduced in |
|---|---|---|---|
| Ack / nack | 确认（ack）/ 否定确认（nack） | m | l |
| API gateway | API 网关 | m | l |
| Deployment (Kubernetes) | Deployment（无状态工作负载） | m | l |
| Quorum | 法定多数（quorum） | m | l |
| Quorum queue | 仲裁队列 | m | l |
| TTL (time to live) | 存活时间（TTL） | m | l |
| Watch | 监听（watch） | m | l |
";

    fn book() -> Book {
        Book {
            heading_ids: HashMap::from([(
                "Step 3: the HTTP API".to_owned(),
                "step-3-the-http-api".to_owned(),
            )]),
            glossary: Glossary::parse(GLOSSARY).unwrap(),
        }
    }

    fn entry(msgid: &str, msgstr: &str) -> Entry {
        Entry {
            comments: Vec::new(),
            msgid: msgid.to_owned(),
            msgstr: msgstr.to_owned(),
        }
    }

    #[test]
    fn sessions_and_string_literals_stay_as_they_are() {
        assert!(is_verbatim("```console\n$ curl localhost:8080\n```"));
        assert!(is_verbatim("\"a string\""));
        assert!(!is_verbatim("\"Small\" is about scope, not size."));
        let changed = entry("\"listening\"", "\"监听\"");
        assert_eq!(problems(&book(), &changed).len(), 1);
    }

    #[test]
    fn a_good_translation_passes() {
        let good = entry(
            "The API gateway acks with `200` and [a link](a.md#x).",
            "API 网关以 `200` 确认，见[链接](a.md#x)。",
        );
        assert_eq!(problems(&book(), &good), Vec::<String>::new());
    }

    #[test]
    fn code_links_and_terms_are_checked() {
        let bad = entry(
            "The API gateway returns `200`, see [this](a.md#x).",
            "网关返回 `201`，见[这里](a.md)。",
        );
        let found = problems(&book(), &bad);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[2].contains("API 网关"), "{found:?}");
    }

    #[test]
    fn the_longest_term_wins_and_acronyms_may_stay() {
        let good = entry("A quorum queue with a TTL.", "带 TTL 的仲裁队列。");
        assert_eq!(problems(&book(), &good), Vec::<String>::new());
    }

    #[test]
    fn another_sense_is_allowed_when_the_translator_says_so() {
        let mut other = entry(
            "Watch the logs during the deployment.",
            "部署期间盯着日志。",
        );
        assert_eq!(problems(&book(), &other).len(), 1, "watch, not deployment");
        other.comments.push("# i18n-term-ok: watch".to_owned());
        assert_eq!(problems(&book(), &other), Vec::<String>::new());
    }

    #[test]
    fn headings_keep_their_english_ids() {
        let heading = entry("Step 3: the HTTP API", "第 3 步：HTTP API");
        assert!(problems(&book(), &heading)[0].contains("{#step-3-the-http-api}"));
        let heading = entry(
            "Step 3: the HTTP API",
            "第 3 步：HTTP API {#step-3-the-http-api}",
        );
        assert_eq!(problems(&book(), &heading), Vec::<String>::new());
        assert_eq!(mdbook_id("Step 2: `GET /v1/books`"), "step-2-get-v1books");
    }

    #[test]
    fn comments_keep_their_marker_and_blocks_their_lines() {
        let comment = entry("/// One.\n/// Two.\n", "/// 一。\n二。\n");
        assert!(problems(&book(), &comment)[0].contains("///"));
        let block = entry(
            "```mermaid\nA-->B: go\n```",
            "```mermaid\nA-->B: 走\n走\n```",
        );
        assert_eq!(problems(&book(), &block).len(), 1);
    }

    #[test]
    fn english_left_in_place_is_noticed() {
        let same = entry("This is still English here.", "This is still English here.");
        assert_eq!(problems(&book(), &same).len(), 1);
    }
}
