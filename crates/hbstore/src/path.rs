//! Paths: parsing, validation and the canonical form.
//!
//! A path arrives as one string (`"a/b/c"`) or as a list of parts
//! (`["a", "b", "c"]`). Both are normalised the same way: parts are joined
//! with `/` (as HyperBEAM's `hb_store:path/1` does), split on `/`, and empty
//! segments dropped, so `"/a//b/"` and `["a", "", "b"]` both name `a/b`.
//! The canonical form, a [`StorePath`], is what every backend works with.

use std::fmt;

use crate::error::{quote, Error, Result};
pub use crate::limits::MAX_PATH_BYTES;

/// A validated path in canonical form: segments joined by `/`, no empty
/// segment, no `.` or `..`, no NUL, at most [`MAX_PATH_BYTES`]. The empty
/// path is the root.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StorePath(String);

impl StorePath {
    /// The root: the implicit group that always exists.
    pub fn root() -> Self {
        StorePath(String::new())
    }

    /// Parses and normalises one string.
    pub fn parse(raw: &str) -> Result<Self> {
        if is_canonical(raw) {
            return Ok(StorePath(raw.to_owned()));
        }
        let mut canonical = String::with_capacity(raw.len());
        for segment in raw.split('/').filter(|s| !s.is_empty()) {
            check_segment(raw, segment)?;
            if !canonical.is_empty() {
                canonical.push('/');
            }
            canonical.push_str(segment);
            if canonical.len() > MAX_PATH_BYTES {
                return Err(Error::invalid_path(
                    quote(raw),
                    format!("longer than {MAX_PATH_BYTES} bytes"),
                ));
            }
        }
        Ok(StorePath(canonical))
    }

    /// The canonical string; empty for the root.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root (the empty path).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The segments from the top down; none for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// The number of segments; 0 for the root.
    pub fn depth(&self) -> usize {
        depth_of(&self.0)
    }

    /// The path without its last segment; `None` for the root.
    pub fn parent(&self) -> Option<StorePath> {
        parent_of(&self.0).map(|p| StorePath(p.to_owned()))
    }

    /// The last segment; `None` for the root.
    pub fn name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            Some(self.0.rsplit('/').next().unwrap_or(&self.0))
        }
    }

    /// Concatenates two canonical paths (both already valid, so only the
    /// length can break a rule).
    pub fn join(&self, other: &StorePath) -> Result<StorePath> {
        let joined = join_str(&self.0, &other.0);
        if joined.len() > MAX_PATH_BYTES {
            return Err(Error::invalid_path(
                quote(&joined),
                format!("longer than {MAX_PATH_BYTES} bytes"),
            ));
        }
        Ok(StorePath(joined))
    }

    /// Wraps a string that the caller knows is canonical (it came out of
    /// the store or out of another `StorePath`).
    pub(crate) fn from_canonical(s: String) -> Self {
        debug_assert!(StorePath::parse(&s).map(|p| p.0 == s).unwrap_or(false));
        StorePath(s)
    }

    /// The canonical string, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorePath({:?})", self.0)
    }
}

impl AsRef<str> for StorePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Whether `raw` is already a canonical path: no empty segment (the empty
/// string, the root, aside), no `.` or `..`, no NUL, at most
/// [`MAX_PATH_BYTES`]. This is the one definition of "canonical" in hbstore:
/// parsing, the on-disk codec, `check` and the fuzz checks all ask it.
pub fn is_canonical(raw: &str) -> bool {
    if raw.len() > MAX_PATH_BYTES {
        return false;
    }
    if raw.is_empty() {
        return true;
    }
    raw.split('/').all(|segment| {
        !segment.is_empty() && segment != "." && segment != ".." && !segment.contains('\0')
    })
}

fn check_segment(raw: &str, segment: &str) -> Result<()> {
    let reason = if segment == "." || segment == ".." {
        format!("segment {segment:?} is not allowed")
    } else if segment.contains('\0') {
        "a segment contains a NUL byte".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::invalid_path(quote(raw), reason))
}

/// `raw` as one segment: a child's name, such as `match` keys. Refused with
/// `InvalidPath` when it is empty or holds `/`, or breaks a segment's rules.
pub(crate) fn segment(raw: &str) -> Result<String> {
    if raw.is_empty() || raw.contains('/') {
        return Err(Error::invalid_path(
            quote(raw),
            "a name must be exactly one segment",
        ));
    }
    Ok(StorePath::parse(raw)?.into_string())
}

/// A path reached through links can outgrow the limit even though every
/// link and the path itself are within it; nothing is ever stored there.
/// Public so that every backend refuses such a path in the same words.
pub fn check_resolved_len(origin: &StorePath, resolved: &str) -> Result<()> {
    if resolved.len() > MAX_PATH_BYTES {
        return Err(Error::invalid_path(
            quote(origin.as_str()),
            format!("resolves through links to a path longer than {MAX_PATH_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// `a` + `/` + `b` for canonical strings, either of which may be the root.
pub(crate) fn join_str(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => {
            let mut s = String::with_capacity(a.len() + 1 + b.len());
            s.push_str(a);
            s.push('/');
            s.push_str(b);
            s
        }
    }
}

/// The parent of a canonical path string; `None` for the root.
pub(crate) fn parent_of(path: &str) -> Option<&str> {
    if path.is_empty() {
        None
    } else {
        // A byte scan: `/` is ASCII, so it never splits a UTF-8 character,
        // and this sits on every write's path.
        let cut = path.as_bytes().iter().rposition(|&b| b == b'/');
        Some(cut.map_or("", |i| &path[..i]))
    }
}

pub(crate) fn depth_of(path: &str) -> usize {
    if path.is_empty() {
        0
    } else {
        path.as_bytes()
            .iter()
            .fold(1, |n, &b| n + usize::from(b == b'/'))
    }
}

/// Every non-root prefix of a canonical path, shortest first, ending with
/// the path itself: `a`, `a/b`, `a/b/c`.
pub(crate) fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(move |(i, _)| &path[..i])
        .chain((!path.is_empty()).then_some(path))
}

/// Anything that names a path: a string, a list of parts, raw bytes that
/// must be UTF-8, or an already canonical [`StorePath`].
pub trait IntoStorePath {
    /// The canonical path, or `InvalidPath` naming the rule broken.
    fn into_store_path(self) -> Result<StorePath>;
}

impl IntoStorePath for StorePath {
    fn into_store_path(self) -> Result<StorePath> {
        Ok(self)
    }
}

impl IntoStorePath for &StorePath {
    fn into_store_path(self) -> Result<StorePath> {
        Ok(self.clone())
    }
}

impl IntoStorePath for &str {
    fn into_store_path(self) -> Result<StorePath> {
        StorePath::parse(self)
    }
}

impl IntoStorePath for String {
    fn into_store_path(self) -> Result<StorePath> {
        StorePath::parse(&self)
    }
}

impl IntoStorePath for &String {
    fn into_store_path(self) -> Result<StorePath> {
        StorePath::parse(self)
    }
}

/// Raw bytes, as HyperBEAM hands over binaries: they must be UTF-8.
impl IntoStorePath for &[u8] {
    fn into_store_path(self) -> Result<StorePath> {
        match std::str::from_utf8(self) {
            Ok(s) => StorePath::parse(s),
            Err(_) => Err(Error::invalid_path(
                quote(&String::from_utf8_lossy(self)),
                "not valid UTF-8",
            )),
        }
    }
}

fn from_parts<S: AsRef<str>>(parts: &[S]) -> Result<StorePath> {
    let joined = parts
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("/");
    StorePath::parse(&joined)
}

impl IntoStorePath for &[&str] {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(self)
    }
}

impl IntoStorePath for &[String] {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(self)
    }
}

impl<S: AsRef<str>> IntoStorePath for Vec<S> {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(&self)
    }
}

impl<S: AsRef<str>> IntoStorePath for &Vec<S> {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(self)
    }
}

impl<S: AsRef<str>, const N: usize> IntoStorePath for [S; N] {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(&self)
    }
}

impl<S: AsRef<str>, const N: usize> IntoStorePath for &[S; N] {
    fn into_store_path(self) -> Result<StorePath> {
        from_parts(self)
    }
}

/// `hb_store:path/1`: the canonical form of a path given in either form.
pub fn path(parts: impl IntoStorePath) -> Result<String> {
    Ok(parts.into_store_path()?.into_string())
}

/// `hb_store:add_path/2`: `b` appended to `a`, in canonical form.
pub fn add_path(a: impl IntoStorePath, b: impl IntoStorePath) -> Result<String> {
    let a = a.into_store_path()?;
    let b = b.into_store_path()?;
    Ok(a.join(&b)?.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(p: impl IntoStorePath) -> String {
        p.into_store_path().expect("valid path").into_string()
    }

    #[test]
    fn empty_segments_are_dropped() {
        assert_eq!(canon("/a//b/"), "a/b");
        assert_eq!(canon("a/b"), "a/b");
        assert_eq!(canon(["a", "", "b"]), "a/b");
        assert_eq!(canon(vec!["a/b".to_owned(), "c".to_owned()]), "a/b/c");
    }

    #[test]
    fn empty_and_slashes_are_the_root() {
        assert!(canon("").is_empty());
        assert!(canon("///").is_empty());
        assert!(canon(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn dot_segments_are_invalid() {
        for bad in [".", "..", "a/./b", "a/../b", "a/.."] {
            let err = bad.into_store_path().expect_err(bad);
            assert!(matches!(err, Error::InvalidPath { .. }), "{bad}: {err}");
        }
        assert_eq!(canon("a/.b/..c/b.."), "a/.b/..c/b..");
    }

    #[test]
    fn nul_is_invalid() {
        let err = "a/b\0c".into_store_path().expect_err("nul");
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn non_utf8_bytes_are_invalid() {
        let err = (&b"a/\xff"[..]).into_store_path().expect_err("utf8");
        assert!(err.to_string().contains("UTF-8"), "{err}");
        assert_eq!(canon(&b"a/b"[..]), "a/b");
    }

    #[test]
    fn length_limit_is_on_the_canonical_form() {
        let max = "x".repeat(MAX_PATH_BYTES);
        assert_eq!(canon(format!("//{max}//")).len(), MAX_PATH_BYTES);
        let over = "x".repeat(MAX_PATH_BYTES + 1);
        let err = over.as_str().into_store_path().expect_err("too long");
        assert!(err.to_string().contains("longer than"), "{err}");
        assert!(
            err.to_string().len() < 400,
            "the message quotes a short head"
        );
    }

    #[test]
    fn parent_name_depth_and_prefixes() {
        let p = StorePath::parse("a/b/c").expect("valid");
        assert_eq!(p.parent().expect("has parent").as_str(), "a/b");
        assert_eq!(p.name(), Some("c"));
        assert_eq!(p.depth(), 3);
        assert_eq!(prefixes("a/b/c").collect::<Vec<_>>(), ["a", "a/b", "a/b/c"]);
        assert_eq!(prefixes("").count(), 0);
        assert_eq!(StorePath::root().parent(), None);
        assert_eq!(parent_of("a"), Some(""));
    }

    #[test]
    fn path_and_add_path_join_without_a_store() {
        assert_eq!(path(["a", "b"]).expect("valid"), "a/b");
        assert_eq!(add_path("a/b", "/c/d").expect("valid"), "a/b/c/d");
        assert_eq!(add_path("", "c").expect("valid"), "c");
        let long = "x".repeat(MAX_PATH_BYTES);
        assert!(add_path(long.as_str(), "y").is_err());
    }
}
