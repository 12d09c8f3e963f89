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
    use super::*;

    /// Encodes members as the classic record-based set that OTP 25's
    /// `sets:from_list/1` builds, for tests that write legacy databases.
    fn encode_classic(members: &[&str]) -> Vec<u8> {
        use eetf::{Atom, Binary, FixInteger, List, Tuple};
        let seg_size = 16;
        let mut buckets: Vec<Vec<Term>> = vec![Vec::new(); seg_size];
        for (i, m) in members.iter().enumerate() {
            buckets[i % seg_size].push(Term::from(Binary::from(m.as_bytes())));
        }
        let segment = Term::from(Tuple::from(
            buckets
                .into_iter()
                .map(|b| Term::from(List::from(b)))
                .collect::<Vec<_>>(),
        ));
        let empty = Term::from(Tuple::from(vec![Term::from(List::nil()); seg_size]));
        // {set, Size, N, MaxN, BSo, ExpSize, ConSize, Empty, Segs}
        let int = |n: usize| Term::from(FixInteger::from(n as i32));
        let record = Tuple::from(vec![
            Term::from(Atom::from("set")),
            int(members.len()),
            int(seg_size),
            int(seg_size),
            int(seg_size / 2),
            int(seg_size * 5),
            int(seg_size * 3),
            empty,
            Term::from(Tuple::from(vec![segment])),
        ]);
        encode(Term::from(record))
    }

    /// Encodes members as the map-based set of OTP 24+ (`sets:new([{version, 2}])`).
    fn encode_map(members: &[&str]) -> Vec<u8> {
        use eetf::{Binary, List, Map};
        let map: std::collections::HashMap<Term, Term> = members
            .iter()
            .map(|m| {
                (
                    Term::from(Binary::from(m.as_bytes())),
                    Term::from(List::nil()),
                )
            })
            .collect();
        encode(Term::from(Map::from(map)))
    }

    fn encode(term: Term) -> Vec<u8> {
        let mut out = Vec::new();
        term.encode(&mut out)
            .expect("encoding into memory cannot fail");
        out
    }

    #[test]
    fn both_set_encodings_decode_to_their_members() {
        let members = ["body", "slot", "ao-types", "process"];
        let mut sorted = members.map(String::from).to_vec();
        sorted.sort();
        assert_eq!(
            decode_members(&encode_classic(&members)),
            Ok(sorted.clone())
        );
        assert_eq!(decode_members(&encode_map(&members)), Ok(sorted));
        assert_eq!(decode_members(&encode_classic(&[])), Ok(vec![]));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert!(decode_members(b"\x83garbage").is_err());
        assert!(decode_members(&encode(Term::from(eetf::Atom::from("set")))).is_err());
    }
}
