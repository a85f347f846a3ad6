//! `cargo run -p grader`: grade the workbook's exercises and print a scorecard. The command line
//! lives in the library ([`grader::cli`]), so that tests and the bench share its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    grader::cli::main()
}
