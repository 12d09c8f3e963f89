//! A snapshot of a store's metrics in Prometheus' data model, and its one
//! rendering as the text exposition format (version 0.0.4).

use std::fmt::Write as _;

/// What a family of samples measures, as Prometheus types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyKind {
    /// Only ever grows while the store is open (a count of operations).
    Counter,
    /// Goes up and down (bytes on disk, what a cache holds).
    Gauge,
    /// Observations counted into cumulative buckets, with their sum and
    /// count (latencies).
    Histogram,
}

impl FamilyKind {
    /// The word the exposition format's `# TYPE` line uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FamilyKind::Counter => "counter",
            FamilyKind::Gauge => "gauge",
            FamilyKind::Histogram => "histogram",
        }
    }
}

/// One figure: a sample name (the family's, or a histogram's `_bucket`,
/// `_sum` and `_count`), its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name.
    pub name: String,
    /// Its labels, in order.
    pub labels: Labels,
    /// Its value.
    pub value: f64,
}

/// Samples of one metric, with what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The metric's name (`hbstore_...`, in base units, `_total` for
    /// counters).
    pub name: &'static str,
    /// What it measures, for a person reading `# HELP`.
    pub help: &'static str,
    /// How Prometheus should treat it.
    pub kind: FamilyKind,
    /// Its samples.
    pub samples: Vec<Sample>,
}

/// A store's metrics at one moment: see [`crate::RocksStore::metrics`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsReport {
    families: Vec<Family>,
}

/// A sample's labels: names and values, in order.
pub type Labels = Vec<(&'static str, String)>;

/// Labels and a value, as the builders take them.
pub type Series = (Labels, f64);

/// A sample without labels, as the builders take it.
pub fn one(value: f64) -> Vec<Series> {
    vec![(Vec::new(), value)]
}

/// Samples labelled `label=` each name, as the builders take them.
pub fn by(label: &'static str, parts: &[(&str, f64)]) -> Vec<Series> {
    parts
        .iter()
        .map(|(name, value)| (vec![(label, (*name).to_owned())], *value))
        .collect()
}

/// A histogram's labels, its count per bucket (not cumulative) and the
/// sum of its observations, as [`MetricsReport::histogram`] takes them.
pub type HistogramSeries = (Labels, Vec<u64>, f64);

impl MetricsReport {
    /// The families, in the order they were added.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The value of the sample named `name` whose labels include every one
    /// of `labels`, if the report has one.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families
            .iter()
            .flat_map(|family| &family.samples)
            .find(|sample| {
                sample.name == name
                    && labels.iter().all(|(key, value)| {
                        sample.labels.iter().any(|(k, v)| k == key && v == value)
                    })
            })
            .map(|sample| sample.value)
    }

    /// Adds a counter family with one sample per series.
    pub fn counter(&mut self, name: &'static str, help: &'static str, series: Vec<Series>) {
        self.add_plain(name, help, FamilyKind::Counter, series);
    }

    /// Adds a gauge family with one sample per series.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, series: Vec<Series>) {
        self.add_plain(name, help, FamilyKind::Gauge, series);
    }

    fn add_plain(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: FamilyKind,
        series: Vec<Series>,
    ) {
        let samples = series
            .into_iter()
            .map(|(labels, value)| Sample {
                name: name.to_owned(),
                labels,
                value,
            })
            .collect();
        self.families.push(Family {
            name,
            help,
            kind,
            samples,
        });
    }

    /// Adds a histogram family: per series, its labels, the count of
    /// observations in each bucket (not cumulative: the first bucket whose
    /// bound an observation is under, then one past the last bound) and
    /// the sum of the observations.
    pub fn histogram(
        &mut self,
        name: &'static str,
        help: &'static str,
        bounds: &[f64],
        series: Vec<HistogramSeries>,
    ) {
        let mut samples = Vec::new();
        for (labels, buckets, sum) in series {
            let mut cumulative = 0u64;
            for (index, count) in buckets.iter().enumerate() {
                cumulative += count;
                let le = match bounds.get(index) {
                    Some(bound) => format_value(*bound),
                    None => "+Inf".to_owned(),
                };
                let mut bucket_labels = labels.clone();
                bucket_labels.push(("le", le));
                samples.push(Sample {
                    name: format!("{name}_bucket"),
                    labels: bucket_labels,
                    value: cumulative as f64,
                });
            }
            samples.push(Sample {
                name: format!("{name}_sum"),
                labels: labels.clone(),
                value: sum,
            });
            samples.push(Sample {
                name: format!("{name}_count"),
                labels,
                value: cumulative as f64,
            });
        }
        self.families.push(Family {
            name,
            help,
            kind: FamilyKind::Histogram,
            samples,
        });
    }

    /// The report in Prometheus' text exposition format (0.0.4): for each
    /// family a `# HELP` and a `# TYPE` line, then its samples.
    pub fn prometheus_text(&self) -> String {
        let mut text = String::new();
        for family in &self.families {
            let _ = writeln!(text, "# HELP {} {}", family.name, escape_help(family.help));
            let _ = writeln!(text, "# TYPE {} {}", family.name, family.kind.as_str());
            for sample in &family.samples {
                text.push_str(&sample.name);
                if !sample.labels.is_empty() {
                    text.push('{');
                    for (index, (key, value)) in sample.labels.iter().enumerate() {
                        if index > 0 {
                            text.push(',');
                        }
                        let _ = write!(text, "{key}=\"{}\"", escape_label(value));
                    }
                    text.push('}');
                }
                let _ = writeln!(text, " {}", format_value(sample.value));
            }
        }
        text
    }
}

/// A value as Prometheus parses it (Go's float syntax: `+Inf`, `NaN`).
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

/// `# HELP` text escapes backslashes and line feeds.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Label values also escape double quotes.
fn escape_label(text: &str) -> String {
    escape_help(text).replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut report = MetricsReport::default();
        report.gauge(
            "hbstore_test",
            "a \\ help\nwith two lines",
            vec![(vec![("path", "a\"b\\c\nd".to_owned())], 1.5)],
        );
        assert_eq!(
            report.prometheus_text(),
            "# HELP hbstore_test a \\\\ help\\nwith two lines\n\
             # TYPE hbstore_test gauge\n\
             hbstore_test{path=\"a\\\"b\\\\c\\nd\"} 1.5\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_and_end_in_inf() {
        let mut report = MetricsReport::default();
        report.histogram(
            "hbstore_seconds",
            "h",
            &[0.001, 0.01],
            vec![(vec![("op", "read".to_owned())], vec![2, 0, 3], 0.5)],
        );
        let text = report.prometheus_text();
        assert!(
            text.contains("hbstore_seconds_bucket{op=\"read\",le=\"0.001\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("hbstore_seconds_bucket{op=\"read\",le=\"0.01\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("hbstore_seconds_bucket{op=\"read\",le=\"+Inf\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("hbstore_seconds_sum{op=\"read\"} 0.5\n"),
            "{text}"
        );
        assert!(
            text.contains("hbstore_seconds_count{op=\"read\"} 5\n"),
            "{text}"
        );
    }

    #[test]
    fn special_values_are_written_as_prometheus_reads_them() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(1e-6), "0.000001");
        assert_eq!(format_value(12.0), "12");
    }
}
