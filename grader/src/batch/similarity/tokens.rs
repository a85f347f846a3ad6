//! A file as a normalised token stream: what is left of code once everything a copier changes
//! cheaply is gone. Comments and layout are dropped, every name becomes `ident` and every
//! literal `lit` (as MOSS and JPlag do), so renaming, rewording comments and reformatting
//! leave the stream as it was; keywords and punctuation, the code's shape, stay.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// One normalised token and the line (1-based) it starts on, to mark matches in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The normalised text, hashed (see [`id_of`]).
    pub id: u64,
    pub line: u32,
}

/// Rust's keywords: the words that keep their identity in the stream.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

/// The tokens of a file of the exercise: Rust sources through Rust's own lexer (in
/// `proc-macro2`), anything else (templates) word by word.
pub fn of_file(path: &str, text: &str) -> Vec<Token> {
    if path.ends_with(".rs") { rust(text) } else { words(text, Words::Kept) }
}

/// A Rust source as tokens. A file that does not lex (unbalanced brackets: work in progress)
/// is still compared, word by word with Rust's normalisation.
pub fn rust(source: &str) -> Vec<Token> {
    let parsed = source.parse::<TokenStream>();
    let mut tokens = Vec::new();
    if let Ok(stream) = &parsed {
        push_stream(stream.clone(), &mut tokens);
    }
    // The lexer keeps every file's text for its spans until told to forget: a class is
    // thousands of files.
    proc_macro2::extra::invalidate_current_thread_spans();
    match parsed {
        Ok(_) => tokens,
        Err(_) => words(source, Words::Rust),
    }
}

fn push_stream(stream: TokenStream, tokens: &mut Vec<Token>) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut index = 0;
    while let Some(tree) = trees.get(index) {
        index += 1;
        match tree {
            // `///` and `//!` comments reach the lexer as `#[doc = ...]` and `#![doc = ...]`:
            // comments all the same.
            TokenTree::Punct(punct) if punct.as_char() == '#' => {
                let inner =
                    matches!(trees.get(index), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let attribute = index + usize::from(inner);
                if is_doc(trees.get(attribute)) {
                    index = attribute + 1;
                } else {
                    push(tokens, "#", punct.span().start().line);
                }
            }
            TokenTree::Punct(punct) => {
                let mut text = [0; 4];
                push(tokens, punct.as_char().encode_utf8(&mut text), punct.span().start().line);
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let word = if KEYWORDS.contains(&name.as_str()) { name.as_str() } else { "ident" };
                push(tokens, word, ident.span().start().line);
            }
            TokenTree::Literal(literal) => push(tokens, "lit", literal.span().start().line),
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    push(tokens, open, group.span_open().start().line);
                }
                push_stream(group.stream(), tokens);
                if !close.is_empty() {
                    push(tokens, close, group.span_close().start().line);
                }
            }
        }
    }
}

/// Whether an attribute's bracket is `[doc = ...]`.
fn is_doc(attribute: Option<&TokenTree>) -> bool {
    let Some(TokenTree::Group(group)) = attribute else { return false };
    group.delimiter() == Delimiter::Bracket
        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(name)) if name == "doc")
}

/// How [`words`] treats a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// As written: a template's words are mostly its HTML and template syntax.
    Kept,
    /// Like Rust's lexer: keywords kept, other names `ident`, numbers `lit`.
    Rust,
}

/// Text as words, numbers and single punctuation marks, with whitespace dropped.
pub fn words(text: &str, treatment: Words) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            let length = if c.is_alphanumeric() || c == '_' {
                rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
            } else {
                c.len_utf8()
            };
            let (token, after) = rest.split_at(length);
            rest = after;
            if c.is_whitespace() {
                continue;
            }
            let normalised = match treatment {
                Words::Kept => token,
                Words::Rust if c.is_ascii_digit() => "lit",
                Words::Rust if KEYWORDS.contains(&token) => token,
                Words::Rust if c.is_alphanumeric() || c == '_' => "ident",
                Words::Rust => token,
            };
            push(&mut tokens, normalised, index + 1);
        }
    }
    tokens
}

fn push(tokens: &mut Vec<Token>, text: &str, line: usize) {
    let line = u32::try_from(line).unwrap_or(u32::MAX);
    tokens.push(Token { id: id_of(text), line });
}

/// A token's text as a number: FNV-1a, fixed, so every run and machine agrees.
pub fn id_of(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes().fold(OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(tokens: &[Token]) -> Vec<u64> {
        tokens.iter().map(|token| token.id).collect()
    }

    #[test]
    fn names_comments_and_layout_do_not_change_the_stream() {
        let original =
            "//! Sums.\n/// Adds.\nfn add(a: u32, b: u32) -> u32 {\n    a + b // sum\n}\n";
        let disguised = "fn plus(x:u32,y:u32)->u32{ /* renamed */ x+y }";
        assert_eq!(ids(&rust(original)), ids(&rust(disguised)));
        assert_ne!(ids(&rust(original)), ids(&rust("fn add(a: u32, b: u32) -> u32 { a * b }")));
    }

    #[test]
    fn each_token_knows_its_line() {
        let lines: Vec<u32> = rust("fn a() {\n    1\n}\n").iter().map(|t| t.line).collect();
        assert_eq!(lines, [1, 1, 1, 1, 1, 2, 3]);
    }

    #[test]
    fn code_that_does_not_lex_is_read_word_by_word() {
        let unfinished = "fn a() {\n    let x = 1;\n";
        let tokens = rust(unfinished);
        // fn ident ( ) { let ident = lit ;
        assert_eq!(tokens.len(), 10);
        assert_eq!(tokens[1].id, id_of("ident"));
        assert_eq!(tokens[9].line, 2);
    }

    #[test]
    fn template_words_stay_as_written() {
        let tokens = words("<li>{{ name }}</li>", Words::Kept);
        assert_eq!(tokens.len(), 12);
        assert_eq!(tokens[5].id, id_of("name"));
    }
}
