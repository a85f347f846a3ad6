//! One of rustc's diagnostics as cargo's JSON carries it: what [`super::diagnostics`] reads
//! out of a build and [`super::error_notes`] looks into, a module of its own so that neither
//! of them imports the other.

use serde::Deserialize;

/// One of rustc's diagnostics, or one of its `note:` and `help:` children.
#[derive(Deserialize)]
pub(crate) struct CompilerMessage {
    pub message: String,
    pub level: String,
    pub code: Option<Code>,
    #[serde(default)]
    pub spans: Vec<Span>,
    #[serde(default)]
    pub children: Vec<CompilerMessage>,
    pub rendered: Option<String>,
}

impl CompilerMessage {
    /// This message and its children, depth first.
    pub fn all(&self) -> Box<dyn Iterator<Item = &CompilerMessage> + '_> {
        Box::new(std::iter::once(self).chain(self.children.iter().flat_map(CompilerMessage::all)))
    }

    /// `E0277`, when the message has a code.
    pub fn code(&self) -> Option<&str> {
        self.code.as_ref().map(|code| code.code.as_str())
    }
}

#[derive(Deserialize)]
pub(crate) struct Code {
    code: String,
}

/// A stretch of source a message points at.
#[derive(Deserialize)]
pub(crate) struct Span {
    pub file_name: String,
    pub line_start: u64,
    pub column_start: u64,
    pub is_primary: bool,
    /// What rustc writes under the carets, e.g. "has type `Rc<u8>` which is not `Send`".
    #[serde(default)]
    pub label: Option<String>,
    /// The source lines the span covers.
    #[serde(default)]
    pub text: Vec<SpanText>,
}

impl Span {
    /// `src/lib.rs:42:9`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file_name, self.line_start, self.column_start)
    }
}

#[derive(Deserialize)]
pub(crate) struct SpanText {
    pub text: String,
}
