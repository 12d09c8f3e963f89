//! `hbstore demo`: a store shown to a newcomer in seconds.

use std::io::Write;

use hbstore::{Batch, Store};

use crate::error::CliResult;

/// Message ids in the shape HyperBEAM uses (43-character base64url).
const IDS: [&str; 3] = [
    "8RY5ZxhfY0P8mLgw3Yq9Nq4Zl1dVNxbTt5W6c7bQx0U",
    "Qx2hRk0aV9b4YfP3tS1mN8zLw6cE7uJdG5oKiBnA2pE",
    "zT4nW7qX1eR6yU9iO3pA5sD8fG2hJ0kL4mN7bV1cX9Q",
];

/// `location` is how the next commands name the store (`--db DIR` or
/// `--cluster URL`).
pub fn run(store: &impl Store, location: &str, out: &mut dyn Write) -> CliResult {
    store.delete_recursive("demo")?;
    // One batch: the whole demo tree appears at once or not at all.
    let mut batch = Batch::new();
    for (slot, id) in IDS.iter().enumerate() {
        let message = format!("demo/messages/{id}");
        batch.write(
            format!("{message}/body"),
            format!("hello from message {slot}").as_bytes(),
        )?;
        batch.write(format!("{message}/slot"), slot.to_string().as_bytes())?;
        batch.write(format!("{message}/process"), b"demo-process")?;
        batch.make_link(message.as_str(), format!("demo/by-slot/{slot}"))?;
    }
    batch.make_link(format!("demo/messages/{}", IDS[2]), "demo/latest")?;
    batch.make_link("demo/latest", "demo/newest")?;
    batch.make_link("demo/no/such/message", "demo/dangling")?;
    store.apply(&batch)?;

    writeln!(
        out,
        "Wrote a message-shaped tree under demo/ in the store at {location}:\n"
    )?;
    super::listing::tree(store, "demo", None, false, out)?;
    writeln!(out, "\nReads, following links:")?;
    for path in [
        "demo/latest/body",
        "demo/newest/slot",
        "demo/by-slot/0/body",
    ] {
        let value = store.read(path)?.unwrap_or_default();
        writeln!(
            out,
            "  read    {path:<22} = {:?}   (stored at {})",
            String::from_utf8_lossy(&value),
            store.resolve(path)?
        )?;
    }
    for path in ["demo/by-slot/1", "demo/latest/slot", "demo/dangling"] {
        let kind = store.type_of(path)?.map_or("nothing", |t| t.as_str());
        writeln!(out, "  type    {path:<22} = {kind}")?;
    }
    let listed = store.list("demo/newest")?.unwrap_or_default();
    writeln!(
        out,
        "  list    {:<22} = {}",
        "demo/newest",
        listed.join(", ")
    )?;
    // The binary as it was run (`./dev demo` runs it from the target
    // directory, not from the PATH), so that the commands work as printed.
    let hbstore = invoked_as();
    writeln!(out, "\nNext, try:")?;
    for command in [
        "ls -l demo",
        "tree demo --depth 1",
        "get demo/latest/body",
        "check",
    ] {
        writeln!(out, "  {hbstore} {location} {command}")?;
    }
    if hbstore != "hbstore" {
        writeln!(
            out,
            "(`cargo install --path crates/hbstore-cli` puts `hbstore` on your PATH)"
        )?;
    }
    Ok(())
}

/// How to run this binary again from the current directory: `hbstore` when
/// the PATH finds this very binary, else its path (relative when shorter).
fn invoked_as() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "hbstore".to_owned();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::canonicalize(dir.join("hbstore")).ok() == std::fs::canonicalize(&exe).ok()
        })
    });
    if on_path {
        return "hbstore".to_owned();
    }
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        exe.strip_prefix(cwd)
            .ok()
            .map(|p| format!("./{}", p.display()))
    });
    relative.unwrap_or_else(|| exe.display().to_string())
}
