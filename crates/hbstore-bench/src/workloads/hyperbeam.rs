//! The workloads of HyperBEAM's current store API (8 to 10): messages
//! written the way its cache writes them and read back whole, `match`, and
//! pages of a large group.
//!
//! A message is a group `ID` whose fields are links to content-addressed
//! values: `ID/field -> data/<sha256 of the value>`, all of one message in
//! one atomic batch. Raw RocksDB does the same puts in one write batch per
//! message, in the layout HyperBEAM's LMDB store uses (`ID` holds `group`,
//! `ID/field` holds `link:data/<hash>`); LMDB gets the calls HyperBEAM's
//! cache makes of `hb_store_lmdb` (a write per value, a `make_link` per
//! field), one message per acknowledged write.

use hbstore::{ChildKind, Direction, EntryRead, Page, RocksStore, Store};
use sha2::{Digest, Sha256};

use crate::error::CliResult;
use crate::harness::{expect, lmdb_writes, run, Ctx, Stores, Writes, LMDB_BUFFERED};
use crate::hb_lmdb::{Commit, HbLmdb, Writer};
use crate::raw::Raw;
use crate::report::{Figures, Row, Target, Unit};

/// How many distinct `process` values the messages share: a `match` on one
/// finds a message in this many.
const PROCESSES: usize = 500;
/// How many messages share one `slot` value.
const SLOT_SHARERS: usize = 50;
/// Children of a group listed in one page.
const PAGE: usize = 100;

/// sha256 in base64url without padding: 43 characters, the shape of
/// HyperBEAM's content addresses.
pub fn address(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(43);
    for chunk in digest.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// One message: its id, and its fields as (path below the id, value).
pub struct Message {
    pub id: String,
    pub fields: Vec<(String, Vec<u8>)>,
}

/// `n` messages with a 32-byte `process` (one of `PROCESSES`) and a `slot`;
/// nested ones also hold a `message/body`.
fn messages(cx: &mut Ctx<'_>, n: usize, nested: bool) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let mut fields = vec![
                (
                    "process".to_owned(),
                    format!("{:032}", i % PROCESSES).into_bytes(),
                ),
                (
                    "slot".to_owned(),
                    (i / SLOT_SHARERS).to_string().into_bytes(),
                ),
            ];
            if nested {
                fields.push((
                    "message/body".to_owned(),
                    format!("body of message {i}").into_bytes(),
                ));
            }
            Message {
                id: cx.rng.id(),
                fields,
            }
        })
        .collect()
}

fn write_hbstore(store: &RocksStore, messages: &[Message]) -> CliResult {
    for m in messages {
        let mut batch = hbstore::Batch::new();
        for (field, value) in &m.fields {
            let data = format!("data/{}", address(value));
            batch.write(data.as_str(), value)?;
            batch.make_link(data.as_str(), format!("{}/{field}", m.id))?;
        }
        store.apply(&batch)?;
    }
    Ok(())
}

fn write_raw(raw: &Raw, messages: &[Message]) -> CliResult {
    for m in messages {
        let mut records: Vec<(String, Vec<u8>)> = vec![(m.id.clone(), b"group".to_vec())];
        for (field, value) in &m.fields {
            let data = format!("data/{}", address(value));
            if let Some((group, _)) = field.rsplit_once('/') {
                records.push((format!("{}/{group}", m.id), b"group".to_vec()));
            }
            records.push((
                format!("{}/{field}", m.id),
                format!("link:{data}").into_bytes(),
            ));
            records.push((data, value.clone()));
        }
        raw.write_all(&records)?;
    }
    Ok(())
}

/// The calls HyperBEAM's cache makes of `hb_store_lmdb` for each message:
/// the value at its content address, then the field's link (which makes
/// the message's groups on the way); one acknowledged write per message.
fn write_lmdb(writer: &mut Writer<'_>, messages: &[Message]) -> CliResult {
    for m in messages {
        for (field, value) in &m.fields {
            let data = format!("data/{}", address(value));
            writer.put(data.as_bytes(), value)?;
            writer.make_link(data.as_bytes(), format!("{}/{field}", m.id).as_bytes())?;
        }
        writer.acknowledge()?;
    }
    Ok(())
}

/// A whole message on hbstore: the group in one `read_entry`, then each
/// field's value through its link (a nested group in one more).
fn read_hbstore(store: &RocksStore, id: &str) -> CliResult<usize> {
    let Some(EntryRead::Group(children)) = store.read_entry(id, 4096)? else {
        return Ok(0);
    };
    let mut values = 0;
    for child in children {
        match child.kind {
            ChildKind::Link { target } => {
                values += usize::from(store.read(target.as_str())?.is_some())
            }
            ChildKind::Group => values += read_hbstore(store, &format!("{id}/{}", child.name))?,
            ChildKind::Value { .. } => values += 1,
        }
    }
    Ok(values)
}

/// The same message on raw RocksDB, the field names known: a get per field
/// and one per value.
fn read_raw(raw: &Raw, m: &Message) -> CliResult<usize> {
    let mut values = 0;
    for (field, _) in &m.fields {
        if let Some(link) = raw.get(format!("{}/{field}", m.id).as_bytes())? {
            let target = link.strip_prefix(b"link:").unwrap_or(&link);
            values += usize::from(raw.get(target)?.is_some());
        }
    }
    Ok(values)
}

/// The same message through `hb_store_lmdb`, as HyperBEAM's cache reads
/// one: `list` the message, `read` each child (through its link), and a
/// child that holds no value is a nested message, read the same way. Each
/// call is its own read transaction, as each NIF call is.
fn read_lmdb(lmdb: &HbLmdb, id: &str) -> CliResult<usize> {
    let names = lmdb.reading()?.list(id.as_bytes())?;
    let mut values = 0;
    for name in names {
        let path = [id.as_bytes(), b"/", &name].concat();
        let value = lmdb.reading()?.read(&path)?.map(<[u8]>::to_vec);
        match value {
            Some(_) => values += 1,
            None => values += read_lmdb(lmdb, &String::from_utf8_lossy(&path))?,
        }
    }
    Ok(values)
}

/// Writes every message on the three stores (a batch, a write batch, an
/// acknowledged LMDB write each): workloads 8 and 11.
pub fn message_writes(
    cx: &Ctx<'_>,
    writes: Writes<'_>,
    stores: &Stores,
    all: &[Message],
) -> CliResult<Vec<Row>> {
    cx.compare_writes(
        writes,
        stores,
        run(|| write_hbstore(&stores.hbstore, all)),
        run(|| write_raw(&stores.raw, all)),
        |lmdb, commit| lmdb_writes(lmdb, commit, |w| write_lmdb(w, all)),
    )
}

/// Reads each picked message whole on the three stores, each of which
/// must find `fields` values: workloads 8 and 11.
pub fn whole_message_reads(
    cx: &Ctx<'_>,
    name: &str,
    targets: &[Target],
    stores: &Stores,
    picks: &[&Message],
    fields: usize,
) -> CliResult<Row> {
    cx.compare(
        name,
        picks.len(),
        targets,
        run(|| {
            picks.iter().try_for_each(|m| {
                let found = read_hbstore(&stores.hbstore, &m.id)?;
                expect(found == fields, "every field of a message reads back")
            })
        }),
        run(|| {
            picks.iter().try_for_each(|m| {
                let found = read_raw(&stores.raw, m)?;
                expect(found == fields, "every raw field reads back")
            })
        }),
        run(|| {
            picks.iter().try_for_each(|m| {
                let found = read_lmdb(&stores.lmdb, &m.id)?;
                expect(found == fields, "every LMDB field reads back")
            })
        }),
    )
}

/// 8: 50,000 messages written (a batch each), then 50,000 random messages
/// read whole; flat, then nested.
pub fn messages_workload(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let n = cx.sizes.messages;
    let mut rows = Vec::new();
    for (nested, form) in [(false, "flat"), (true, "nested")] {
        let stores = cx.open_stores(false)?;
        let all = messages(cx, n, nested);
        let per_message = all[0].fields.len();
        rows.extend(message_writes(
            cx,
            Writes {
                name: &format!("{form} message write ({per_message} fields)"),
                ops: n,
                targets: &[
                    Target::RatioAtLeast(if nested { 0.5 } else { 0.6 }),
                    Target::LmdbRatioAtLeast(1.5),
                ],
            },
            &stores,
            &all,
        )?);
        let picks: Vec<&Message> = (0..n).map(|_| &all[cx.rng.below(n)]).collect();
        rows.push(whole_message_reads(
            cx,
            &format!("{form} message read, whole"),
            &(!nested)
                .then_some(Target::RatioAtLeast(0.8))
                .into_iter()
                .collect::<Vec<_>>(),
            &stores,
            &picks,
            per_message,
        )?);
        if !nested {
            rows.extend(cx.bytes_rows(&stores, &[])?);
        }
    }
    Ok(rows)
}

/// 9: `match` on a store of 50,000 messages, one pair and two, against the
/// full scan a store without an index does (raw RocksDB's, and LMDB's as
/// `hb_store_lmdb` would).
pub fn match_workload(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let n = cx.sizes.messages;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let all = messages(cx, n, false);
    write_hbstore(store, &all)?;
    write_raw(raw, &all)?;
    lmdb_writes(lmdb, Commit::Every(LMDB_BUFFERED), |w| write_lmdb(w, &all))?;
    let queries = cx.sizes.match_queries;
    let picks: Vec<usize> = (0..queries).map(|_| cx.rng.below(n)).collect();
    let target = |i: usize, field: usize| format!("data/{}", address(&all[i].fields[field].1));
    let mut rows = Vec::new();
    for pairs in [1, 2] {
        let expected = |i: usize| {
            all.iter()
                .filter(|m| (0..pairs).all(|f| m.fields[f] == all[i].fields[f]))
                .count()
        };
        let sizes: Vec<usize> = picks.iter().map(|&i| expected(i)).collect();
        let asked: Vec<Vec<(&str, String)>> = picks
            .iter()
            .map(|&i| {
                ["process", "slot"][..pairs]
                    .iter()
                    .enumerate()
                    .map(|(f, &key)| (key, target(i, f)))
                    .collect()
            })
            .collect();
        let (asked, sizes) = (&asked, &sizes);
        rows.push(cx.compare(
            &format!(
                "match, {pairs} pair{} ({n} messages)",
                if pairs == 1 { "" } else { "s" }
            ),
            queries,
            &[Target::RatioAtLeast(100.0), Target::LmdbRatioAtLeast(100.0)],
            run(move || {
                asked.iter().zip(sizes).try_for_each(|(pairs, &size)| {
                    let found = store.match_links(pairs, None)?;
                    expect(found.len() == size, "match finds every message")
                })
            }),
            run(move || {
                asked.iter().zip(sizes).try_for_each(|(pairs, &size)| {
                    let found = raw.scan_match(pairs)?;
                    expect(found == size, "the full scan finds every message")
                })
            }),
            run(move || {
                asked.iter().zip(sizes).try_for_each(|(pairs, &size)| {
                    let found = lmdb.reading()?.scan_match(pairs)?;
                    expect(found == size, "LMDB's full scan finds every message")
                })
            }),
        )?);
    }
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}

/// 10: pages of 100 children at the start, the middle and the end of a
/// group of 200,000, against the same range scan on raw RocksDB and LMDB;
/// a page must cost the same wherever it starts.
pub fn pages_workload(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let n = cx.sizes.big_group;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let mut names: Vec<String> = (0..n).map(|_| cx.rng.id()).collect();
    lmdb_writes(lmdb, Commit::Every(LMDB_BUFFERED), |w| {
        w.put(b"big", crate::hb_lmdb::GROUP)?;
        for chunk in names.chunks(1_000) {
            let mut batch = hbstore::Batch::new();
            for name in chunk {
                batch.write(["big", name.as_str()], b"v")?;
                w.put(format!("big/{name}").as_bytes(), b"v")?;
                w.acknowledge()?;
            }
            store.apply(&batch)?;
            let records: Vec<(String, Vec<u8>)> = chunk
                .iter()
                .map(|name| (format!("big/{name}"), b"v".to_vec()))
                .collect();
            raw.write_all(&records)?;
        }
        Ok(())
    })?;
    names.sort();
    let pages = cx.sizes.pages;
    let mut rows = Vec::new();
    let mut per_page = Vec::new();
    for (at, position) in [(0, "start"), (n / 2, "middle"), (n - PAGE, "end")] {
        let from = names[at].clone();
        let page = Page {
            from: Some(from.clone()),
            limit: Some(PAGE),
            direction: Direction::Ascending,
        };
        let (page, from) = (&page, &from);
        let row = cx.compare(
            &format!("page of {PAGE} at the {position} of {n}"),
            pages,
            &[],
            run(move || {
                (0..pages).try_for_each(|_| {
                    let got = store.list_range("big", page)?.map_or(0, |c| c.len());
                    expect(got == PAGE, "a page holds 100 children")
                })
            }),
            run(move || {
                (0..pages).try_for_each(|_| {
                    let got = raw.scan_page(b"big/", from.as_bytes(), PAGE)?;
                    expect(got == PAGE, "a raw page holds 100 keys")
                })
            }),
            run(move || {
                (0..pages).try_for_each(|_| {
                    let got = lmdb.reading()?.page(b"big/", from.as_bytes(), PAGE)?;
                    expect(got == PAGE, "an LMDB page holds 100 keys")
                })
            }),
        )?;
        per_page.push(1.0 / row.hbstore);
        rows.push(row);
    }
    let slowest = per_page.iter().copied().fold(f64::MIN, f64::max);
    let fastest = per_page.iter().copied().fold(f64::MAX, f64::min);
    rows.push(cx.row(
        "page cost: slowest / fastest position",
        Unit::Times,
        Figures {
            hbstore: slowest / fastest,
            ..Figures::default()
        },
        &[Target::AtMost(1.3)],
    ));
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_base64url_sha256() {
        // sha256("") in base64url, as HyperBEAM writes content addresses.
        assert_eq!(address(b""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
        assert_eq!(address(b"abc").len(), 43);
    }
}
