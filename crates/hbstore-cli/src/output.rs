//! What every command shares in its output: JSON for scripts, and names
//! made safe for a person's terminal.
//!
//! Names come from the network (HyperBEAM message keys are chosen by
//! whoever sends the message), so a name may hold a newline, which would
//! break a drawing or a one-per-line listing, or a terminal escape
//! sequence, which would reach the terminal. Human-readable output shows
//! control characters escaped (`\n`, `\u{1b}`); `--json` stays exact,
//! through JSON's own escaping.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use crate::error::{CliError, CliResult};

/// Prints a value as JSON on `out`.
pub fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// The error for a path that is not there (exit 1).
pub fn not_found(path: &str) -> CliError {
    CliError::NotFound(format!("{}: no such entry", quoted(path)))
}

/// `text` with every control character escaped, for a person to read.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path in double quotes, control characters escaped: how messages name
/// a path.
pub fn quoted(path: &str) -> String {
    format!("\"{}\"", escaped(path))
}

/// Whether standard output is a terminal (names printed for a script, to a
/// pipe, stay exact where the format allows it).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// A file-system path for a message: control characters escaped, and a
/// very long path cut in the middle so that the message stays readable.
pub fn short_path(path: &std::path::Path) -> String {
    const HEAD: usize = 80;
    const TAIL: usize = 60;
    let text = path.to_string_lossy();
    let chars = text.chars().count();
    if chars <= HEAD + TAIL + 20 {
        return escaped(&text).into_owned();
    }
    let head: String = text.chars().take(HEAD).collect();
    let tail: String = text.chars().skip(chars - TAIL).collect();
    format!(
        "{}…{} ({} bytes)",
        escaped(&head),
        escaped(&tail),
        path.as_os_str().len()
    )
}

/// "3 groups, 1 value, 2 links": how every command words a count of
/// entries, singular where it is one.
pub fn counts(groups: u64, values: u64, links: u64) -> String {
    format!(
        "{}, {}, {}",
        counted(groups, "group", "groups"),
        counted(values, "value", "values"),
        counted(links, "link", "links")
    )
}

/// "1 warning", "2 warnings": a count and its noun, singular where it is one.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Bytes in the largest unit that keeps them at or above one (`1.5 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("plain/é"), "plain/é");
        assert_eq!(escaped("a\nb"), "a\\nb");
        assert_eq!(escaped("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(quoted("x\ty"), "\"x\\ty\"");
    }

    #[test]
    fn long_paths_are_cut_in_the_middle() {
        let long = std::path::PathBuf::from("/a".repeat(4_000));
        let shown = short_path(&long);
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.contains("(8000 bytes)"), "{shown}");
        assert_eq!(short_path(std::path::Path::new("/tmp/x")), "/tmp/x");
    }
}
