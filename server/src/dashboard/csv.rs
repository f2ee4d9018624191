//! CSV for spreadsheets (RFC 4180), safe to open: a text cell that a
//! spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) is prefixed with `'`. Numbers are written as
//! they are, so negative numbers stay numbers.

/// One field of a row.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Text(&'a str),
    Num(&'a str),
}

pub struct Writer {
    out: String,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    /// Starts with a byte order mark, which spreadsheets need to read UTF-8
    /// (accented names) correctly.
    pub fn new() -> Writer {
        Writer {
            out: String::from("\u{feff}"),
        }
    }

    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = Field<'a>>) {
        let mut first = true;
        for f in fields {
            if !first {
                self.out.push(',');
            }
            first = false;
            match f {
                Field::Text(s) => push_text(&mut self.out, s),
                // A number is only ever digits, sign, point: anything else
                // goes through the text path.
                Field::Num(s)
                    if !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.')) =>
                {
                    self.out.push_str(s)
                }
                Field::Num(s) => push_text(&mut self.out, s),
            }
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn push_text(out: &mut String, s: &str) {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote =
        risky || s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if quote {
        out.push('"');
    }
    if risky {
        out.push('\'');
    }
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// Parse CSV as written here (for tests and for checking exports): rows of
/// fields, quotes removed, the byte order mark skipped.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut w = Writer::new();
        w.row([
            Field::Text("plain"),
            Field::Text("a, b"),
            Field::Text("say \"hi\""),
            Field::Text("=HYPERLINK(\"x\")"),
            Field::Text("+1"),
            Field::Text("-2"),
            Field::Text("@SUM(A1)"),
            Field::Num("-3.5"),
            Field::Num("=1"),
            Field::Text("two\nlines"),
        ]);
        let s = w.finish();
        assert_eq!(
            s,
            "\u{feff}plain,\"a, b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",\"'+1\",\"'-2\",\"'@SUM(A1)\",-3.5,\"'=1\",\"two\nlines\"\r\n"
        );
        let back = parse(&s);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0][1], "a, b");
        assert_eq!(back[0][2], "say \"hi\"");
        assert_eq!(back[0][3], "'=HYPERLINK(\"x\")");
        assert_eq!(back[0][7], "-3.5");
        assert_eq!(back[0][9], "two\nlines");
    }
}
