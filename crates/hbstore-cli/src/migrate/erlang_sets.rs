//! The member names in a group record of `hb_store_rocksdb`: an Erlang
//! `sets` term in the external term format, classic (a `set` record whose
//! buckets hold the elements) or map based (`#{Element => []}`, OTP 24+).

use eetf::Term;

/// The members of an encoded set, as UTF-8 names; an error says what was
/// found instead of a set.
pub fn decode_members(bytes: &[u8]) -> Result<Vec<String>, String> {
    let term = Term::decode(bytes).map_err(|e| format!("not an Erlang term: {e}"))?;
    let mut members = Vec::new();
    match &term {
        Term::Map(map) => {
            for key in map.map.keys() {
                members.push(name(key)?);
            }
        }
        Term::Tuple(record)
            if matches!(record.elements.first(), Some(Term::Atom(a)) if a.name == "set")
                && record.elements.len() == 9 =>
        {
            // {set, Size, N, MaxN, BSo, ExpSize, ConSize, Empty, Segs}: the
            // elements sit in the buckets (lists) of the segments (tuples)
            // of `Segs`, the last field.
            collect_buckets(&record.elements[8], &mut members)?;
        }
        other => return Err(format!("not a set: {}", describe(other))),
    }
    members.sort();
    Ok(members)
}

fn collect_buckets(term: &Term, out: &mut Vec<String>) -> Result<(), String> {
    match term {
        Term::Tuple(t) => t.elements.iter().try_for_each(|e| collect_buckets(e, out)),
        Term::List(bucket) => {
            for element in &bucket.elements {
                out.push(name(element)?);
            }
            Ok(())
        }
        // An empty list can be encoded as a nil list term.
        Term::ByteList(b) if b.bytes.is_empty() => Ok(()),
        other => Err(format!("unexpected {} in a set's buckets", describe(other))),
    }
}

fn name(term: &Term) -> Result<String, String> {
    match term {
        Term::Binary(b) => {
            String::from_utf8(b.bytes.clone()).map_err(|_| "a member name is not UTF-8".to_owned())
        }
        Term::ByteList(b) => {
            String::from_utf8(b.bytes.clone()).map_err(|_| "a member name is not UTF-8".to_owned())
        }
        Term::Atom(a) => Ok(a.name.clone()),
        other => Err(format!("a member is {}, not a name", describe(other))),
    }
}

fn describe(term: &Term) -> &'static str {
    match term {
        Term::Atom(_) => "an atom",
        Term::Binary(_) | Term::BitBinary(_) => "a binary",
        Term::List(_) | Term::ByteList(_) | Term::ImproperList(_) => "a list",
        Term::Tuple(_) => "a tuple",
        Term::Map(_) => "a map",
        _ => "a number or a process term",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use eetf::{Atom, ByteList, List, Map};

    use super::*;

    fn encode(term: Term) -> Vec<u8> {
        let mut out = Vec::new();
        term.encode(&mut out)
            .expect("encoding into memory cannot fail");
        out
    }

    // Both set encodings, as legacy databases hold them, are decoded in
    // tests/migrate.rs; here, the cases only a unit test reaches.
    #[test]
    fn map_sets_with_list_keys_and_empty_sets_decode() {
        let mut map = HashMap::new();
        map.insert(Term::from(ByteList::from("slot")), Term::from(List::nil()));
        assert_eq!(
            decode_members(&encode(Term::from(Map::from(map)))),
            Ok(vec!["slot".to_owned()])
        );
        let empty = Term::from(Map::from(HashMap::<Term, Term>::new()));
        assert_eq!(decode_members(&encode(empty)), Ok(vec![]));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert!(decode_members(b"\x83garbage").is_err());
        assert!(decode_members(&encode(Term::from(Atom::from("set")))).is_err());
    }
}
