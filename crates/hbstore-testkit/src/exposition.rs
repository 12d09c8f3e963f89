//! A strict reader of Prometheus' text exposition format (0.0.4), for the
//! tests of every place that prints hbstore's metrics: each line must be a
//! `# HELP`, a `# TYPE` or a sample of a family typed before it, and each
//! histogram's buckets must be cumulative, in increasing `le`, end in
//! `+Inf` and agree with its `_count`.

use std::collections::BTreeMap;

/// A sample's labels, sorted by name.
pub type Labels = Vec<(String, String)>;

/// Every sample: by its name and labels, its value.
pub type Parsed = BTreeMap<(String, Labels), f64>;

/// Reads `text`, answering every sample, or the first thing wrong with it
/// (naming the line).
pub fn parse_exposition(text: &str) -> Result<Parsed, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: BTreeMap<String, ()> = BTreeMap::new();
    let mut samples = Parsed::new();
    // Per histogram series, its buckets' (le, count) in order.
    let mut histograms: BTreeMap<(String, Labels), Vec<(f64, f64)>> = BTreeMap::new();
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text does not end with a line feed".to_owned());
    }
    for (number, line) in text.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(name), Some(_)) => {
                    check_name(name).map_err(|e| at(&e))?;
                    if helped.insert(name.to_owned(), ()).is_some() {
                        return Err(at("a second HELP for the family"));
                    }
                }
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_name(name).map_err(|e| at(&e))?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at("an unknown type"));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at("a second TYPE for the family"));
                    }
                }
                _ => return Err(at("a comment that is neither HELP nor TYPE")),
            }
            continue;
        }
        let (name, labels, value) = parse_sample(line).map_err(|e| at(&e))?;
        let (family, suffix) =
            family_of(&name, &types).ok_or_else(|| at("a sample of no typed family"))?;
        let kind = &types[&family];
        if kind == "counter" && value < 0.0 {
            return Err(at("a negative counter"));
        }
        if suffix == "_bucket" {
            let le = labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or_else(|| at("a bucket without le"))?;
            let bound = parse_value(&le.1).map_err(|e| at(&e))?;
            let rest: Vec<_> = labels.iter().filter(|(k, _)| k != "le").cloned().collect();
            histograms
                .entry((family.clone(), rest))
                .or_default()
                .push((bound, value));
        }
        if samples.insert((name, labels), value).is_some() {
            return Err(at("the same sample twice"));
        }
    }
    for ((family, labels), buckets) in &histograms {
        let name = || format!("{family}{labels:?}");
        for pair in buckets.windows(2) {
            if pair[1].0 <= pair[0].0 {
                return Err(format!("{}: le not increasing", name()));
            }
            if pair[1].1 < pair[0].1 {
                return Err(format!("{}: buckets not cumulative", name()));
            }
        }
        let last = buckets.last().expect("at least one bucket");
        if last.0 != f64::INFINITY {
            return Err(format!("{}: the last bucket is not +Inf", name()));
        }
        let count = samples
            .get(&(format!("{family}_count"), labels.clone()))
            .ok_or_else(|| format!("{}: no _count", name()))?;
        if *count != last.1 {
            return Err(format!(
                "{}: _count {count} is not the +Inf bucket {}",
                name(),
                last.1
            ));
        }
        if !samples.contains_key(&(format!("{family}_sum"), labels.clone())) {
            return Err(format!("{}: no _sum", name()));
        }
    }
    Ok(samples)
}

/// The value of the sample `name` with exactly `labels`.
pub fn sample(parsed: &Parsed, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    parsed.get(&(name.to_owned(), labels)).copied()
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("an invalid metric name {name:?}"))
    }
}

/// The family a sample belongs to, and its suffix (`""`, `_bucket`, ...).
fn family_of(name: &str, types: &BTreeMap<String, String>) -> Option<(String, &'static str)> {
    if types.contains_key(name) {
        return Some((name.to_owned(), ""));
    }
    ["_bucket", "_sum", "_count"]
        .into_iter()
        .find_map(|suffix| {
            let family = name.strip_suffix(suffix)?;
            (types.get(family)? == "histogram").then(|| (family.to_owned(), suffix))
        })
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text
            .parse()
            .map_err(|_| format!("an invalid value {text:?}")),
    }
}

fn parse_sample(line: &str) -> Result<(String, Labels, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let bytes = line.as_bytes();
    let mut at = name_end;
    let mut labels = Vec::new();
    if bytes[at] == b'{' {
        at += 1;
        while bytes.get(at) != Some(&b'}') {
            let eq = line[at..].find('=').ok_or("a label without =")? + at;
            let key = &line[at..eq];
            check_name(key)?;
            if bytes.get(eq + 1) != Some(&b'"') {
                return Err("a label value not quoted".to_owned());
            }
            let mut value = String::new();
            let mut escaped = false;
            let mut closed = None;
            for (i, c) in line[eq + 2..].char_indices() {
                match (escaped, c) {
                    (true, 'n') => value.push('\n'),
                    (true, '\\' | '"') => value.push(c),
                    (true, _) => return Err("an invalid escape in a label value".to_owned()),
                    (false, '\\') => {}
                    (false, '"') => {
                        closed = Some(eq + 2 + i + 1);
                        break;
                    }
                    (false, _) => value.push(c),
                }
                escaped = !escaped && c == '\\';
            }
            at = closed.ok_or("a label value not closed")?;
            labels.push((key.to_owned(), value));
            match bytes.get(at) {
                Some(b',') => at += 1,
                Some(b'}') => {}
                _ => return Err("labels not separated by commas or not closed".to_owned()),
            }
        }
        at += 1;
    }
    let value = line[at..]
        .strip_prefix(' ')
        .ok_or("no space before the value")?;
    let value = parse_value(value)?;
    labels.sort();
    Ok((name.to_owned(), labels, value))
}
