//! Just enough of the PO format for one catalog: singular messages without
//! context, the comment lines kept as they are, obsolete entries dropped.
//! The writer never wraps, so an entry's text is easy to find with grep and
//! a changed paragraph changes only its own lines in a diff.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Every `#` line before the entry: translator notes (`# `), extracted
    /// comments (`#.`), locations (`#:`), flags (`#,`), previous text (`#|`).
    pub comments: Vec<String>,
    pub msgid: String,
    pub msgstr: String,
}

impl Entry {
    pub fn is_fuzzy(&self) -> bool {
        self.comments
            .iter()
            .any(|line| line.starts_with("#,") && line.split([',', ' ']).any(|f| f == "fuzzy"))
    }

    pub fn is_translated(&self) -> bool {
        !self.msgstr.is_empty() && !self.is_fuzzy()
    }

    /// Marks the entry as done: no `fuzzy` flag, no previous English.
    pub fn settle(&mut self) {
        let mut kept = Vec::new();
        for line in self.comments.drain(..) {
            if line.starts_with("#|") {
                continue;
            }
            if let Some(flags) = line.strip_prefix("#,") {
                let rest: Vec<&str> = flags
                    .split(',')
                    .map(str::trim)
                    .filter(|flag| !flag.is_empty() && *flag != "fuzzy")
                    .collect();
                if !rest.is_empty() {
                    kept.push(format!("#, {}", rest.join(", ")));
                }
                continue;
            }
            kept.push(line);
        }
        self.comments = kept;
    }

    /// The translator's notes: `# i18n-same`, `# i18n-term-ok: watch`.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.comments
            .iter()
            .filter_map(|line| line.strip_prefix("# "))
            .map(str::trim)
    }

    /// The pages the message comes from (`#:` lines).
    pub fn locations(&self) -> impl Iterator<Item = &str> {
        self.comments
            .iter()
            .filter_map(|line| line.strip_prefix("#:"))
            .flat_map(str::split_whitespace)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The header's text (the `msgstr` of the entry with an empty `msgid`).
    pub header: String,
    pub entries: Vec<Entry>,
}

pub fn parse(text: &str) -> Result<Catalog, String> {
    let mut header = None;
    let mut entries = Vec::new();
    for (number, block) in blocks(text) {
        let lines: Vec<&str> = block.lines().collect();
        if lines.iter().all(|line| line.starts_with("#~")) {
            continue; // obsolete: its English is gone
        }
        let mut comments = Vec::new();
        let mut fields: Vec<(String, String)> = Vec::new();
        for (offset, line) in lines.iter().enumerate() {
            let at = number + offset;
            if line.starts_with('#') {
                if line.starts_with("#~") {
                    continue;
                }
                comments.push((*line).to_owned());
            } else if let Some(rest) = line.strip_prefix('"') {
                let Some((_, value)) = fields.last_mut() else {
                    return Err(format!("line {at}: a string before any keyword"));
                };
                value.push_str(&unquote(rest, at)?);
            } else if let Some((keyword, rest)) = line.split_once(' ') {
                if keyword != "msgid" && keyword != "msgstr" {
                    return Err(format!(
                        "line {at}: `{keyword}` is not supported (singular messages only)"
                    ));
                }
                let rest = rest
                    .strip_prefix('"')
                    .ok_or_else(|| format!("line {at}: expected a quoted string"))?;
                fields.push((keyword.to_owned(), unquote(rest, at)?));
            } else {
                return Err(format!("line {at}: cannot read `{line}`"));
            }
        }
        let field = |name: &str| {
            fields
                .iter()
                .find(|(keyword, _)| keyword == name)
                .map(|(_, value)| value.clone())
        };
        let (Some(msgid), Some(msgstr)) = (field("msgid"), field("msgstr")) else {
            return Err(format!("line {number}: an entry without msgid and msgstr"));
        };
        if msgid.is_empty() {
            header = Some(msgstr);
        } else {
            entries.push(Entry {
                comments,
                msgid,
                msgstr,
            });
        }
    }
    Ok(Catalog {
        header: header.ok_or("no header entry (msgid \"\")")?,
        entries,
    })
}

pub fn write(catalog: &Catalog) -> String {
    let mut out = String::new();
    out.push_str("msgid \"\"\n");
    write_field(&mut out, "msgstr", &catalog.header);
    for entry in &catalog.entries {
        out.push('\n');
        for line in &entry.comments {
            out.push_str(line);
            out.push('\n');
        }
        write_field(&mut out, "msgid", &entry.msgid);
        write_field(&mut out, "msgstr", &entry.msgstr);
    }
    out
}

/// Blank-line separated blocks with the line number each starts on.
fn blocks(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                found.push((start, std::mem::take(&mut current)));
            }
            start = index + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.is_empty() {
        found.push((start, current));
    }
    found
}

fn write_field(out: &mut String, keyword: &str, value: &str) {
    if !value.contains('\n') {
        let _ = writeln!(out, "{keyword} \"{}\"", escape(value));
        return;
    }
    let _ = writeln!(out, "{keyword} \"\"");
    for line in value.split_inclusive('\n') {
        let _ = writeln!(out, "\"{}\"", escape(line));
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    out
}

/// The text of a quoted PO string, given what follows its opening quote.
fn unquote(rest: &str, line: usize) -> Result<String, String> {
    let body = rest
        .strip_suffix('"')
        .ok_or_else(|| format!("line {line}: a string without its closing quote"))?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            other => return Err(format!("line {line}: unknown escape \\{other:?}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"msgid ""
msgstr ""
"Language: zh_CN\n"
"Plural-Forms: nplurals=1; plural=0;\n"

# i18n-term-ok: watch
#: book/a.md
#, fuzzy
#| msgid "Old \"text\""
msgid "New \"text\""
msgstr "新的“文本”"

#: book/b.md
msgid ""
"/// two\n"
"/// lines\n"
msgstr ""

#~ msgid "gone"
#~ msgstr "没了"
"#;

    #[test]
    fn a_catalog_reads_and_writes_back() {
        let catalog = parse(SAMPLE).unwrap();
        assert_eq!(catalog.entries.len(), 2, "the obsolete entry is dropped");
        let first = &catalog.entries[0];
        assert_eq!(first.msgid, "New \"text\"");
        assert!(first.is_fuzzy());
        assert!(!first.is_translated());
        assert_eq!(first.notes().collect::<Vec<_>>(), ["i18n-term-ok: watch"]);
        assert_eq!(first.locations().collect::<Vec<_>>(), ["book/a.md"]);
        assert_eq!(catalog.entries[1].msgid, "/// two\n/// lines\n");
        assert_eq!(parse(&write(&catalog)).unwrap(), catalog);
    }

    #[test]
    fn settling_removes_the_fuzzy_flag_and_the_previous_text() {
        let mut catalog = parse(SAMPLE).unwrap();
        let entry = &mut catalog.entries[0];
        entry.settle();
        assert!(entry.is_translated());
        assert_eq!(entry.comments, ["# i18n-term-ok: watch", "#: book/a.md"]);
    }

    #[test]
    fn a_broken_string_is_reported_with_its_line() {
        let error = parse("msgid \"\"\nmsgstr \"x\n").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }
}
