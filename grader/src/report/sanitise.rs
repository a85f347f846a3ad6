//! Making what a submission wrote safe to show: on a terminal, in Markdown and in a CSV file.
//!
//! A service's output, a compiler's errors and the evidence of a check all carry text that the
//! student controls. Shown as is, it could repaint the terminal (ANSI escapes: a fake green
//! total, a cleared screen, a clipboard write), break out of a Markdown code block (and bring
//! raw HTML or headings with it) or run as a formula in a spreadsheet.

/// `text` without escape sequences (a coloured log line keeps its words, not its `[2m`) and
/// without any other control character but newlines (tabs become spaces): nothing reaches the
/// terminal but text.
pub fn for_terminal(text: &str) -> String {
    strip_ansi_escapes::strip_str(text.replace('\t', "    "))
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// A Markdown code fence longer than any run of backticks in `text`, so `text` cannot close it.
pub fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// `text` as a fenced Markdown code block that shows it verbatim.
pub fn code_block(text: &str) -> String {
    let text = for_terminal(text);
    let fence = fence_for(&text);
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

/// `text` as plain Markdown text on one line: every punctuation mark that Markdown or HTML
/// could read as syntax is backslash-escaped, so a student's name stays a name.
pub fn markdown_text(text: &str) -> String {
    let mut escaped = String::new();
    for c in for_terminal(text).chars() {
        match c {
            '\n' | '\t' => escaped.push(' '),
            c if c.is_ascii_punctuation() => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` as an inline Markdown code span, verbatim: a file name keeps its underscores and
/// stars, whatever backticks it holds.
pub fn code_span(text: &str) -> String {
    let text: String =
        for_terminal(text).chars().map(|c| if c == '\n' { ' ' } else { c }).collect();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space at each end of a span, so a name with backticks at its ends
    // is padded.
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The grader's own sentence, whose `` `code` `` spans quote a submission (a file name, an
/// item): the prose is [`markdown_text`], each span a [`code_span`]. Text with unpaired
/// backticks is all prose.
pub fn markdown_with_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return markdown_text(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| if index % 2 == 0 { markdown_text(part) } else { code_span(part) })
        .collect()
}

/// A CSV cell that no spreadsheet takes for a formula: a leading `= + - @`, tab or carriage
/// return gets a `'` before it.
pub fn csv_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_do_not_reach_the_terminal() {
        let forged = "\x1b[2J\x1b[32mTotal 20/20\x1b[0m\x1b]52;c;ZXZpbA==\x07\r\nnext\tline";
        assert_eq!(for_terminal(forged), "Total 20/20\nnext    line");
        assert_eq!(for_terminal("\u{9b}31m"), "31m", "the one-character CSI too");
    }

    #[test]
    fn a_fence_is_longer_than_any_backticks_inside() {
        assert_eq!(fence_for("no backticks"), "```");
        assert_eq!(fence_for("a ```` b ` c"), "`````");
        let block = code_block("```\n# Fake heading\n<script>x</script>\n```");
        assert!(block.starts_with("````text\n") && block.ends_with("\n````"), "{block}");
    }

    #[test]
    fn markdown_text_is_shown_not_interpreted() {
        assert_eq!(markdown_text("José García"), "José García");
        assert_eq!(markdown_text("<b>*x*</b>\n# h"), "\\<b\\>\\*x\\*\\<\\/b\\> \\# h");
    }

    #[test]
    fn names_in_code_keep_their_underscores() {
        assert_eq!(code_span("parkmin_24680_workbook.zip"), "`parkmin_24680_workbook.zip`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(
            markdown_with_code("`src/old_cache.rs` is a link: left out *now*"),
            "`src/old_cache.rs` is a link\\: left out \\*now\\*"
        );
        assert_eq!(markdown_with_code("one ` backtick"), "one \\` backtick");
    }

    #[test]
    fn cells_that_look_like_formulas_are_quoted() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(formula), format!("'{formula}"));
        }
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(csv_cell(""), "");
    }
}
