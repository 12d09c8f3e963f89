//! Erlang terms in and out: paths as HyperBEAM gives them, and results and
//! errors in the shapes `hb_store` expects (`ok`, `{ok, _}`, `not_found`,
//! `{error, Reason}`, `{failure, Reason}`).

use hbstore::{Error, IntoStorePath, StorePath};
use rustler::{Binary, Encoder, Env, NewBinary, Term};

rustler::atoms! {
    ok,
    error,
    failure,
    not_found,
    not_open,
    simple,
    composite,
    invalid_path,
    not_a_group,
    is_group,
    already_exists,
    link_loop,
    not_empty,
    locked,
    read_only,
    not_a_store,
    unsupported_format,
    corrupt,
    io,
    panic,
    badarg,
    value,
    group,
    link,
    cluster,
    open_with_other_options,
}

/// A path: a binary (`<<"a/b">>`) or a list of binaries
/// (`[<<"a">>, <<"b">>]`), as `hb_path:to_binary` takes them.
pub fn path(term: Term<'_>) -> Result<StorePath, Refusal<'_>> {
    let parsed = if let Ok(bin) = term.decode::<Binary<'_>>() {
        bin.as_slice().into_store_path()
    } else if let Ok(parts) = term.decode::<Vec<Binary<'_>>>() {
        let texts = parts
            .iter()
            .map(|b| std::str::from_utf8(b.as_slice()))
            .collect::<Result<Vec<&str>, _>>();
        match texts {
            Ok(texts) => texts.into_store_path(),
            Err(_) => return Err(Refusal::InvalidPath(term, "a segment is not valid UTF-8")),
        }
    } else {
        return Err(Refusal::InvalidPath(
            term,
            "a path is a binary or a list of binaries",
        ));
    };
    parsed.map_err(Refusal::Store)
}

/// Why a call was refused before or by the engine.
pub enum Refusal<'a> {
    /// A path term of the wrong shape, with the term as given.
    InvalidPath(Term<'a>, &'static str),
    /// An argument of the wrong shape (a value that is not a binary, ...).
    BadArg(&'static str),
    /// No store of that name is open.
    NotOpen(std::path::PathBuf),
    /// A store of that name is open with other settings: each difference.
    OtherSettings(std::path::PathBuf, Vec<String>),
    /// What the engine said.
    Store(Error),
}

impl From<Error> for Refusal<'_> {
    fn from(e: Error) -> Self {
        Refusal::Store(e)
    }
}

/// A binary term holding `bytes`: made by the VM in place
/// (`enif_make_new_binary`), a binary on the calling process's heap when
/// it is small (names, a message's fields), a reference-counted one
/// otherwise. An `OwnedBinary` is always reference-counted: allocated off
/// the heap, then wrapped; with it, `hbstore_nif:read` of a 43-byte value
/// ran at 1.19M/s from Erlang, with this at 1.93M/s, and `list` of ten
/// names at 0.39M/s instead of 0.67M/s.
pub fn binary<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    NewBinary::from_slice(env, bytes).into()
}

fn text<'a>(env: Env<'a>, text: &str) -> Term<'a> {
    binary(env, text.as_bytes())
}

fn dir<'a>(env: Env<'a>, dir: &std::path::Path) -> Term<'a> {
    text(env, &dir.to_string_lossy())
}

/// The term for a refusal: `{error, Reason}` for what the caller can act
/// on ("not here, try the next store"), `{failure, Reason}` for faults of
/// the disk or the database, worth a retry or an operator's look.
pub fn refusal<'a>(env: Env<'a>, refusal: Refusal<'a>) -> Term<'a> {
    let e = |reason: Term<'a>| (error(), reason).encode(env);
    match refusal {
        Refusal::InvalidPath(term, why) => e((invalid_path(), term, text(env, why)).encode(env)),
        Refusal::BadArg(why) => e((badarg(), text(env, why)).encode(env)),
        Refusal::NotOpen(d) => e((not_open(), dir(env, &d)).encode(env)),
        Refusal::OtherSettings(d, differences) => {
            let differences: Vec<Term<'a>> = differences.iter().map(|t| text(env, t)).collect();
            e((open_with_other_options(), dir(env, &d), differences).encode(env))
        }
        Refusal::Store(err) => engine_error(env, err),
    }
}

fn engine_error(env: Env<'_>, err: Error) -> Term<'_> {
    let message = err.to_string();
    let e = |reason: Term<'_>| (error(), reason).encode(env);
    match err {
        Error::InvalidPath { path, reason } => {
            e((invalid_path(), text(env, &path), text(env, &reason)).encode(env))
        }
        Error::NotAGroup { path, .. } => e((not_a_group(), text(env, &path)).encode(env)),
        Error::IsGroup { path } => e((is_group(), text(env, &path)).encode(env)),
        Error::AlreadyExists { path, .. } => e((already_exists(), text(env, &path)).encode(env)),
        Error::LinkLoop { path, .. } => e((link_loop(), text(env, &path)).encode(env)),
        Error::NotEmpty { path } => e((not_empty(), text(env, &path)).encode(env)),
        Error::Locked { dir: d } => e((locked(), dir(env, &d)).encode(env)),
        Error::ReadOnly { dir: d, .. } => e((read_only(), dir(env, &d)).encode(env)),
        Error::NotAStore { dir: d, reason } => {
            e((not_a_store(), dir(env, &d), text(env, &reason)).encode(env))
        }
        Error::UnsupportedFormat { dir: d, .. } | Error::NeedsUpgrade { dir: d, .. } => {
            e((unsupported_format(), dir(env, &d), text(env, &message)).encode(env))
        }
        Error::Corrupt { key, reason } => {
            (failure(), (corrupt(), text(env, &key), text(env, &reason))).encode(env)
        }
        Error::Remote { .. } => (failure(), (cluster(), text(env, &message))).encode(env),
        _ => (failure(), (io(), text(env, &message))).encode(env),
    }
}

/// `{failure, {panic, Message}}`: a bug in hbstore, reported as a term so
/// that the caller (and the VM) carries on.
pub fn panicked<'a>(env: Env<'a>, payload: &(dyn std::any::Any + Send)) -> Term<'a> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    (failure(), (panic(), text(env, &message))).encode(env)
}
