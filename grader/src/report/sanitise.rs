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
    fn cells_that_look_like_formulas_are_quoted() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(formula), format!("'{formula}"));
        }
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(csv_cell(""), "");
    }
}
