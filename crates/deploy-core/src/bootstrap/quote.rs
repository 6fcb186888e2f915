//! Quoting for PostgreSQL SQL text and libpq connection strings.
//!
//! Every name reaches SQL through [`ident`] and every value through
//! [`literal`]: identifiers are always double-quoted (so case, hyphens, spaces
//! and unicode survive), literals are correct whatever
//! `standard_conforming_strings` is.

/// `name` as a quoted SQL identifier: `"` around it, every `"` doubled.
///
/// ```
/// use deploy_core::bootstrap::quote::ident;
/// assert_eq!(ident("MixedCase"), r#""MixedCase""#);
/// assert_eq!(ident(r#"a"b"#), r#""a""b""#);
/// ```
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as a SQL string literal: `'` doubled; when it holds a backslash, the
/// escape-string form ` E'..'` with backslashes doubled, which reads the same
/// whether `standard_conforming_strings` is on or off (as libpq's
/// `PQescapeLiteral` does).
///
/// ```
/// use deploy_core::bootstrap::quote::literal;
/// assert_eq!(literal("it's"), "'it''s'");
/// assert_eq!(literal(r"a\b"), r" E'a\\b'");
/// ```
pub fn literal(value: &str) -> String {
    let body = value.replace('\'', "''");
    if value.contains('\\') { format!(" E'{}'", body.replace('\\', "\\\\")) } else { format!("'{body}'") }
}

/// `value` as a quoted value of a libpq connection string (`dbname='..'`):
/// single quotes around it, `\` and `'` escaped with a backslash.
///
/// ```
/// use deploy_core::bootstrap::quote::conninfo_value;
/// assert_eq!(conninfo_value("a b'c"), r"'a b\'c'");
/// ```
pub fn conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted_and_quotes_doubled() {
        assert_eq!(ident("plain"), "\"plain\"");
        assert_eq!(ident("\"; DROP TABLE x; --"), "\"\"\"; DROP TABLE x; --\"");
        assert_eq!(ident("ünïcødé-ß"), "\"ünïcødé-ß\"");
    }

    #[test]
    fn literals_double_quotes_and_escape_backslashes() {
        assert_eq!(literal(""), "''");
        assert_eq!(literal("'; DROP ROLE x; --"), "'''; DROP ROLE x; --'");
        assert_eq!(literal("\\'"), " E'\\\\'''");
        assert_eq!(literal("line\nbreak"), "'line\nbreak'");
    }

    #[test]
    fn conninfo_values_escape_backslash_and_quote() {
        assert_eq!(conninfo_value("db=x host=evil"), "'db=x host=evil'");
        assert_eq!(conninfo_value("\\'"), "'\\\\\\''");
    }
}
