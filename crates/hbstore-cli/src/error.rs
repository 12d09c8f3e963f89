//! How a failed command ends: a one-line message and an exit code.

use std::fmt;

/// A command's failure, carrying its exit code.
#[derive(Debug)]
pub enum CliError {
    /// The path asked for is not there, or is not what the command reads
    /// (a group where a value was asked for): exit 1, like `grep`.
    NotFound(String),
    /// Invalid input (exit 2, like a usage error).
    Invalid(String),
    /// The operation failed (exit 3).
    Failed(String),
    /// `check` found damage (exit 4); the report is already printed.
    Damaged(String),
    /// Standard output was closed early (`hbstore ls | head`): not a
    /// failure, the reader has what it wanted.
    OutputClosed,
}

impl CliError {
    /// The process's exit code for this failure (`main` ends a closed
    /// output with success before asking).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::OutputClosed => 0,
            CliError::NotFound(_) => 1,
            CliError::Invalid(_) => 2,
            CliError::Failed(_) => 3,
            CliError::Damaged(_) => 4,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::NotFound(m)
            | CliError::Invalid(m)
            | CliError::Failed(m)
            | CliError::Damaged(m) => f.write_str(m),
            CliError::OutputClosed => f.write_str("output closed"),
        }
    }
}

impl From<hbstore::Error> for CliError {
    fn from(e: hbstore::Error) -> Self {
        match e {
            hbstore::Error::InvalidPath { .. } => CliError::Invalid(e.to_string()),
            _ => CliError::Failed(e.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::OutputClosed
        } else {
            CliError::Failed(format!("input/output: {e}"))
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
