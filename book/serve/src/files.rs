//! The built book's files over HTTP: a path of the site to a file below its folder, never
//! outside it, with the content type a browser needs.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Whether `path` asks for a page (which may need a new build) rather than an asset.
pub fn is_page(path: &str) -> bool {
    path.ends_with('/') || path.ends_with(".html")
}

/// The file of `site` that `path` names (`/` and folders: their `index.html`), or 404.
pub async fn serve(site: &Path, path: &str) -> Response {
    let Some(file) = file_of(site, path) else { return StatusCode::NOT_FOUND.into_response() };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            ([(header::CONTENT_TYPE, content_type(&file))], Body::from(bytes)).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file below `site` for `path`; `None` for a path that would leave it (`..`).
fn file_of(site: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative.components().any(|part| !matches!(part, Component::Normal(_))) {
        return None;
    }
    let file = site.join(relative);
    Some(if path.ends_with('/') || file.is_dir() { file.join("index.html") } else { file })
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        let site = Path::new("/site");
        assert_eq!(file_of(site, "/"), Some(PathBuf::from("/site/index.html")));
        assert_eq!(file_of(site, "/css/general.css"), Some(PathBuf::from("/site/css/general.css")));
        assert_eq!(file_of(site, "/../etc/passwd"), None);
        assert_eq!(file_of(site, "/chapters/../../x"), None);
    }

    #[test]
    fn pages_are_told_from_assets() {
        assert!(is_page("/") && is_page("/chapters/04-invalidation.html"));
        assert!(!is_page("/searchindex.js"));
    }
}
