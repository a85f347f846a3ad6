//! Row structs read from query results, declared with [`row!`] instead of
//! `#[derive(sqlx::FromRow)]`.
//!
//! Why not the derive: it lives in `sqlx-macros`, a proc-macro crate that links both database
//! drivers, so every first build compiled SQLite and PostgreSQL a second time, for the
//! compiler's own use. These structs only need "each field from the column of its name",
//! which a declarative macro writes in a few lines.

/// Declares a struct whose fields are read from the query's columns of the same names, on
/// SQLite and PostgreSQL alike.
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty ),*
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'r str: sqlx::ColumnIndex<R>,
            $( $ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>, )*
        {
            fn from_row(row: &'r R) -> sqlx::Result<Self> {
                Ok(Self { $( $field: row.try_get(stringify!($field))? ),* })
            }
        }
    };
}

pub(crate) use row;
