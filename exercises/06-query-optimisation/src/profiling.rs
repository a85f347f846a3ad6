//! Request profiling.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

// ANCHOR: todo_server_timing
/// Middleware run around every request.
///
/// TODO: profile the request with `workbook::profile::profiled` and answer with a header
/// `Server-Timing: db;dur=<ms>;desc="<n> queries", cache;dur=<ms>, total;dur=<ms>`, then
/// remember the request for the slow-request page (`GET /requests/slowest`).
pub async fn server_timing(request: Request, next: Next) -> Response {
    next.run(request).await
}
// ANCHOR_END: todo_server_timing
