//! Text rules every service shares, stated so that a service's OpenAPI
//! document can say exactly the same thing.

/// Trims ASCII whitespace only. A field that must not be blank is
/// documented with the pattern `[^\t\n\f\r ]` ("has a character that
/// is not one of these"), which every regex dialect reads the same way;
/// `str::trim` would also drop Unicode spaces the pattern lets through.
pub fn trim_blank(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::trim_blank;

    #[test]
    fn only_ascii_whitespace_is_blank() {
        assert_eq!(trim_blank(" \t ada \r\n"), "ada");
        assert_eq!(trim_blank("\u{a0}"), "\u{a0}");
    }
}
