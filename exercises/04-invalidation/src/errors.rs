//! How a failed query becomes an HTTP answer.

use axum::http::StatusCode;

/// `409` for a name that is taken or a task in a missing category, `500` otherwise.
pub fn database_error(err: workbook::db::Error) -> StatusCode {
    match &err {
        workbook::db::Error::Database(db)
            if db.is_unique_violation() || db.is_foreign_key_violation() =>
        {
            StatusCode::CONFLICT
        }
        _ => {
            tracing::error!("query failed: {err}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
