//! Full-text search over every installed course and language (FTS5,
//! `unicode61 remove_diacritics 2`: "evacuation" finds "évacuation").
//!
//! User input never reaches FTS5's query syntax: it is split into words,
//! each word is quoted, and the last one is a prefix (search as you type).

use crate::error::Result;
use crate::Store;
use rusqlite::params;
use serde::Serialize;

/// Where the snippet's highlighted words start and end before escaping.
/// Private-use characters: they never occur in course text.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub course_id: String,
    pub course_title: String,
    pub module_id: String,
    pub module_title: String,
    pub lesson_id: String,
    pub lesson_title: String,
    pub lang: String,
    /// HTML-escaped text around the match, the matched words in `<mark>`.
    pub snippet_html: String,
    /// bm25 rank: lower is better.
    pub rank: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOptions {
    /// Only this language (a course language code); all when None.
    pub lang: Option<String>,
    /// Only this course; all when None.
    pub course: Option<String>,
    pub limit: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            lang: None,
            course: None,
            limit: 20,
        }
    }
}

/// Turn what the user typed into a safe FTS5 query, or None if it has no
/// words. Every word is a quoted string (so `AND`, `"`, `*`, `:`, `-` are
/// text, not syntax); the last word matches as a prefix.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<&str> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .collect();
    let last = words.len().checked_sub(1)?;
    let mut q = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            q.push(' ');
        }
        q.push('"');
        q.push_str(&w.replace('"', "\"\""));
        q.push('"');
        if i == last {
            q.push('*');
        }
    }
    Some(q)
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            MARK_START => out.push_str("<mark>"),
            MARK_END => out.push_str("</mark>"),
            c => out.push(c),
        }
    }
    out
}

impl Store {
    /// Search lesson titles and text, best matches first.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let limit = options.limit.clamp(1, 200) as i64;
        // `ORDER BY rank` with the ranking set through `rank MATCH` lets FTS5
        // hand rows over best first, so the LIMIT stops early and snippets
        // are made only for the rows returned. Title words weigh 5, body 1.
        let mut stmt = self.conn.prepare(
            "WITH hits AS ( \
                SELECT course_id, module_id, lesson_id, lang, title, \
                       snippet(search, -1, char(57344), char(57345), '…', 16) AS snip, rank \
                FROM search \
                WHERE search MATCH ?1 AND rank MATCH 'bm25(0.0, 0.0, 0.0, 0.0, 5.0, 1.0)' \
                  AND (?2 IS NULL OR lang = ?2) AND (?3 IS NULL OR course_id = ?3) \
                ORDER BY rank LIMIT ?4) \
             SELECT h.course_id, h.module_id, h.lesson_id, h.lang, h.title, h.snip, h.rank, \
                    coalesce(ct.title, h.course_id), coalesce(mt.title, h.module_id) \
             FROM hits h \
             LEFT JOIN titles ct ON ct.course_id = h.course_id AND ct.activity_id = h.course_id AND ct.lang = h.lang \
             LEFT JOIN titles mt ON mt.course_id = h.course_id AND mt.activity_id = h.module_id AND mt.lang = h.lang \
             ORDER BY h.rank",
        )?;
        let rows = stmt.query_map(params![fts, options.lang, options.course, limit], |r| {
            Ok(SearchHit {
                course_id: r.get(0)?,
                module_id: r.get(1)?,
                lesson_id: r.get(2)?,
                lang: r.get(3)?,
                lesson_title: r.get(4)?,
                snippet_html: escape_html(&r.get::<_, String>(5)?),
                rank: r.get(6)?,
                course_title: r.get(7)?,
                module_title: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_words_with_a_prefix_last() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("évac"), Some("\"évac\"*".into()));
        assert_eq!(
            fts_query("consular AND \"register\" OR NOT x:*"),
            Some("\"consular\" \"AND\" \"register\" \"OR\" \"NOT\" \"x\"*".into())
        );
        assert_eq!(fts_query("-)(*^"), None);
    }

    #[test]
    fn snippets_escape_html_and_mark_matches() {
        let s = format!("a <b> & {MARK_START}évacuation{MARK_END}");
        assert_eq!(escape_html(&s), "a &lt;b&gt; &amp; <mark>évacuation</mark>");
    }
}
