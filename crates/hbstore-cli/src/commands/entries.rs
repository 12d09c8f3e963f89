//! Commands on one entry: put, get, type, resolve, mkgroup, link, rm.

use std::io::{Read, Write};

use hbstore::Store;
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::output::{not_found, print_json, quoted};

pub fn put(store: &impl Store, path: &str, value: Option<String>) -> CliResult {
    let bytes = match value.as_deref() {
        None | Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin().lock().read_to_end(&mut buf)?;
            buf
        }
        Some(v) => v.as_bytes().to_vec(),
    };
    store.write(path, &bytes)?;
    Ok(())
}

pub fn get(store: &impl Store, path: &str, out: &mut dyn Write) -> CliResult {
    match store.read(path)? {
        Some(bytes) => {
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
        None => match store.type_of(path)? {
            Some(_) => Err(CliError::NotFound(format!(
                "{} is a group, not a value (`hbstore ls` lists it)",
                quoted(path)
            ))),
            None => Err(not_found(path)),
        },
    }
}

#[derive(Serialize)]
struct TypeAnswer<'a> {
    path: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

pub fn type_of(store: &impl Store, path: &str, json: bool, out: &mut dyn Write) -> CliResult {
    let kind = store.type_of(path)?.ok_or_else(|| not_found(path))?;
    if json {
        return print_json(
            out,
            &TypeAnswer {
                path,
                kind: kind.as_str(),
            },
        );
    }
    writeln!(out, "{}", kind.as_str())?;
    Ok(())
}

#[derive(Serialize)]
struct ResolveAnswer<'a> {
    path: &'a str,
    resolved: String,
}

pub fn resolve(store: &impl Store, path: &str, json: bool, out: &mut dyn Write) -> CliResult {
    let resolved = store.resolve(path)?;
    if json {
        return print_json(out, &ResolveAnswer { path, resolved });
    }
    writeln!(out, "{resolved}")?;
    Ok(())
}

pub fn mkgroup(store: &impl Store, path: &str) -> CliResult {
    Ok(store.make_group(path)?)
}

pub fn link(store: &impl Store, existing: &str, new: &str) -> CliResult {
    Ok(store.make_link(existing, new)?)
}

pub fn rm(store: &impl Store, path: &str, recursive: bool) -> CliResult {
    let removed = if recursive {
        store.delete_recursive(path)?
    } else {
        store.delete(path)?
    };
    if removed {
        Ok(())
    } else {
        Err(not_found(path))
    }
}
