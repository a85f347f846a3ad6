//! `cargo run -p book`: the course book, built with mdBook's library (nothing to install) and
//! served on <http://127.0.0.1:3000> (`cargo run -p book -- 3001` for another port).
//!
//! The grader's criteria tables and checklist are written in as the book's tests write them
//! (the grader's preprocessor, in process). A page asked for after a source changed (a page of
//! the book, a worked example, an exercise, a solution, the grader's criteria) is served from a
//! new build, so saving and reloading shows the change.

mod files;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use grader::book::preprocessor;
use mdbook_driver::MDBook;
use tokio::sync::Mutex;

/// The port of `mdbook serve`, so that links written for it work.
const DEFAULT_PORT: u16 = 3000;

/// The folders whose files end up in the book: its pages, and the code it includes.
const SOURCES: &[&str] =
    &["book/src", "book/examples/src", "exercises", "solutions", "grader/src/criteria"];

/// The built book and when it was built.
struct Book {
    root: PathBuf,
    built_at: Mutex<SystemTime>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<()> {
    let port = match std::env::args().nth(1) {
        Some(port) => port.parse().context("the only argument is a port number")?,
        None => DEFAULT_PORT,
    };
    let root = grader::course::root();
    let built_at = SystemTime::now();
    build(&root)?;
    let book = Arc::new(Book { root, built_at: Mutex::new(built_at) });
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}: pass another port"))?;
    println!("The book is at http://{address}/ (Ctrl-C stops it)");
    let app = Router::new().fallback(page).with_state(book);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Builds the book into `book/book`, as `mdbook build book` would.
fn build(root: &Path) -> Result<()> {
    let mut book = MDBook::load(root.join("book"))?;
    book.with_preprocessor(preprocessor::Workbook);
    book.build()
}

/// A file of the built book; a page asked for after a source changed is built again first.
async fn page(State(book): State<Arc<Book>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if files::is_page(&path) {
        let mut built_at = book.built_at.lock().await;
        if changed_since(&book.root, *built_at) {
            let started = SystemTime::now();
            match build(&book.root) {
                Ok(()) => *built_at = started,
                Err(err) => eprintln!("the book does not build: {err:#}"),
            }
        }
    }
    files::serve(&book.root.join("book/book"), &path).await
}

/// Whether a file of [`SOURCES`] was written after `since`.
fn changed_since(root: &Path, since: SystemTime) -> bool {
    let mut pending: Vec<PathBuf> = SOURCES.iter().map(|dir| root.join(dir)).collect();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && entry.file_name() != "target" {
                pending.push(entry.path());
            } else if meta.modified().is_ok_and(|modified| modified > since) {
                return true;
            }
        }
    }
    false
}
