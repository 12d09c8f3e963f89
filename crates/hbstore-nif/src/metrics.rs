//! A store's metrics as Erlang terms, for `hb_store_hbstore:metrics/1`:
//! Prometheus' data model, a family per key, so that a node can pick the
//! figures it wants or render them its own way.

use hbstore::metrics::{Family, MetricsReport};
use rustler::{Encoder, Env, Term};

use crate::terms::binary;

rustler::atoms! {
    counter,
    gauge,
    histogram,
    help,
    samples,
    undefined,
    type_ = "type",
}

/// `#{FamilyName => #{type => counter | gauge | histogram, help => Text,
/// samples => [{SampleName, #{Label => Value}, Number}]}}`, counts as
/// integers.
pub fn encode<'a>(env: Env<'a>, report: &MetricsReport) -> Term<'a> {
    let mut map = Term::map_new(env);
    for family in report.families() {
        let key = binary(env, family.name.as_bytes());
        let value = encode_family(env, family);
        map = map.map_put(key, value).unwrap_or(map);
    }
    map
}

fn encode_family<'a>(env: Env<'a>, family: &Family) -> Term<'a> {
    let kind = match family.kind {
        hbstore::metrics::FamilyKind::Counter => counter(),
        hbstore::metrics::FamilyKind::Gauge => gauge(),
        hbstore::metrics::FamilyKind::Histogram => histogram(),
    };
    let sample_terms: Vec<Term<'a>> = family
        .samples
        .iter()
        .map(|sample| {
            let mut labels = Term::map_new(env);
            for (key, value) in &sample.labels {
                let (key, value) = (binary(env, key.as_bytes()), binary(env, value.as_bytes()));
                labels = labels.map_put(key, value).unwrap_or(labels);
            }
            (
                binary(env, sample.name.as_bytes()),
                labels,
                number(env, sample.value),
            )
                .encode(env)
        })
        .collect();
    let entries = [
        (type_().encode(env), kind.encode(env)),
        (help().encode(env), binary(env, family.help.as_bytes())),
        (samples().encode(env), sample_terms.encode(env)),
    ];
    let mut map = Term::map_new(env);
    for (key, value) in entries {
        map = map.map_put(key, value).unwrap_or(map);
    }
    map
}

/// A whole number as an integer (counts, bytes), anything else a float;
/// `undefined` for NaN (a hit ratio before the first look-up), which an
/// Erlang float cannot hold.
fn number(env: Env<'_>, value: f64) -> Term<'_> {
    if !value.is_finite() {
        undefined().encode(env)
    } else if value.fract() == 0.0 && value.abs() < 9.0e15 {
        (value as i64).encode(env)
    } else {
        value.encode(env)
    }
}
