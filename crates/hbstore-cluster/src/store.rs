//! [`ClusterStore`]: the `Store` contract on a Redis cluster, and its
//! options.

use std::time::Duration;

use hbstore::metrics::{Operation as Counted, OperationMetrics};
use hbstore::{
    Batch, Child, EntryRead, EntryType, MetricsReport, Op, Page, Result, Scope, Store, StorePath,
};

use crate::address::{redacted, Address};
use crate::client::{Client, Redirects, Timeouts};
use crate::deadline::Operation;
use crate::error::ClusterError;
use crate::journal::Journal;
use crate::layout::{check_namespace, Entry, Layout, LAYOUT_VERSION};
use crate::resolve::Hops;
use crate::resp::{Cmd, Reply};
use crate::steps::Steps;

/// How a [`ClusterStore`] uses its cluster. Builder-style setters.
#[derive(Debug, Clone)]
pub struct Options {
    /// The namespace: several stores share one cluster under different
    /// namespaces. Default `hb`.
    pub namespace: String,
    /// Socket and operation timeouts; an operation gives up with an error
    /// after `timeouts.deadline`, however the cluster behaves.
    pub timeouts: Timeouts,
    /// Replicas every write waits for (`WAIT`) before it returns: with 1, a
    /// write that returned is unlikely to be lost when its primary fails
    /// (Redis promotes replicas on a best-effort basis). 0 (the default)
    /// returns once the primary has it, as Redis itself does.
    pub replicas: u32,
    /// How long a write waits for those replicas before it fails with
    /// `NotReplicated`. Default 2 s.
    pub replica_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: "hb".into(),
            timeouts: Timeouts::default(),
            replicas: 0,
            replica_timeout: Duration::from_secs(2),
        }
    }
}

impl Options {
    /// Sets the namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets how many replicas each write waits for.
    pub fn replicas(mut self, replicas: u32) -> Self {
        self.replicas = replicas;
        self
    }

    /// Sets the deadline of one operation.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.timeouts.deadline = deadline;
        self
    }
}

/// The `Store` contract on a Redis Cluster (Redis 7, Valkey, or anything
/// speaking the protocol with Lua scripts, such as Kvrocks). Shared between
/// threads like every store; several processes on several machines may
/// open the same cluster and namespace at once. See the crate's
/// documentation for what is atomic and what is not.
pub struct ClusterStore {
    steps: Steps,
    metrics: Box<OperationMetrics>,
}

impl ClusterStore {
    /// Connects to the cluster at `address` (see [`Address`]; a namespace
    /// in the address overrides `options.namespace`).
    pub fn open(address: &str, options: Options) -> Result<ClusterStore> {
        let shown = redacted(address);
        let open_error = |e: ClusterError| e.into_store_error(format!("opening cluster {shown}"));
        let parsed = Address::parse(address).map_err(open_error)?;
        let namespace = parsed.namespace.unwrap_or(options.namespace);
        check_namespace(&namespace).map_err(|reason| {
            open_error(ClusterError::BadAddress {
                url: shown.clone(),
                reason,
            })
        })?;
        let client = Client::connect(parsed.seeds, parsed.credentials, options.timeouts)
            .map_err(open_error)?;
        let layout = Layout::new(&namespace);
        let steps = Steps::new(client, layout, options.replicas, options.replica_timeout)
            .map_err(open_error)?;
        let store = ClusterStore {
            steps,
            metrics: Box::default(),
        };
        store.check_version().map_err(open_error)?;
        Ok(store)
    }

    /// The namespace this store uses.
    pub fn namespace(&self) -> &str {
        self.steps.layout.namespace()
    }

    /// The redirects (`MOVED`, `ASK`) and retries this store's client has
    /// followed since it opened.
    pub fn redirects(&self) -> Redirects {
        self.steps.client.redirects()
    }

    /// Runs a plain command on the primary serving `key` (redirects and
    /// failovers followed like every step): for tools and the benchmark's
    /// plain-Redis baseline, beside the store on the same client.
    pub fn command(&self, key: &[u8], cmd: Cmd) -> std::result::Result<Reply, ClusterError> {
        let mut replies = self
            .steps
            .client
            .call(crate::client::slot_of(key), &[cmd])?;
        Ok(replies.pop().unwrap_or(Reply::Array(None)))
    }

    /// The operations this handle answered since it was opened, by kind
    /// and outcome, with their latencies (see
    /// [`hbstore::RocksStore::metrics`]; a cluster's size and memory are
    /// Redis's to report, through its own exporter).
    pub fn metrics(&self) -> MetricsReport {
        let mut report = MetricsReport::default();
        report.gauge(
            "hbstore_info",
            "Always 1; the labels say how the store is open.",
            vec![(
                vec![
                    ("backend", "cluster".to_owned()),
                    ("namespace", self.namespace().to_owned()),
                ],
                1.0,
            )],
        );
        self.metrics.report_into(&mut report);
        let redirects = self.redirects();
        report.counter(
            "hbstore_cluster_redirects_total",
            "Redirects (MOVED, ASK) and retries the cluster client followed.",
            hbstore::metrics::by(
                "kind",
                &[
                    ("moved", redirects.moved as f64),
                    ("ask", redirects.ask as f64),
                    ("retry", redirects.retries as f64),
                ],
            ),
        );
        report
    }

    /// The primaries, as the client last saw them.
    pub fn primaries(&self) -> Vec<String> {
        self.steps.client.primaries()
    }

    pub(crate) fn steps(&self) -> &Steps {
        &self.steps
    }

    /// Records the layout version on first use; refuses a namespace
    /// written with another one.
    fn check_version(&self) -> std::result::Result<(), ClusterError> {
        let key = self.steps.layout.version();
        let slot = crate::client::slot_of(&key);
        let set = Cmd::new("SET").arg(&key).arg(LAYOUT_VERSION).arg("NX");
        let get = Cmd::new("GET").arg(&key);
        let replies = self.steps.client.call(slot, &[set, get])?;
        match replies.get(1).and_then(Reply::bytes) {
            Some(v) if v == LAYOUT_VERSION.as_bytes() => Ok(()),
            other => Err(ClusterError::Unexpected {
                command: format!("the layout version of namespace {:?}", self.namespace()),
                reply: format!(
                    "{:?} (this hbstore reads version {LAYOUT_VERSION})",
                    other.map(String::from_utf8_lossy)
                ),
            }),
        }
    }

    /// Every key of the namespace, node by node (`SCAN`): for `reset` and
    /// `check`, never on an operation's path.
    pub(crate) fn scan(&self, each: impl FnMut(Vec<u8>) -> Result<()>) -> Result<()> {
        self.scan_matching(&self.steps.layout.pattern(), each)
    }

    /// Every key of the cluster matching the glob `pattern`, primary by
    /// primary (`SCAN`): for tools and the benchmark's clean-up.
    pub fn scan_matching(
        &self,
        pattern: &str,
        mut each: impl FnMut(Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        for node in self.primaries() {
            let mut cursor = b"0".to_vec();
            loop {
                let cmd = Cmd::new("SCAN")
                    .arg(&cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg("1000");
                let reply = self
                    .steps
                    .client
                    .call_node(&node, &[cmd])
                    .map_err(|e| e.into_store_error(format!("scanning {node}")))?;
                let mut items = reply
                    .into_iter()
                    .next()
                    .map(Reply::into_items)
                    .unwrap_or_default();
                if items.len() != 2 {
                    return Err(ClusterError::Unexpected {
                        command: "SCAN".into(),
                        reply: format!("{items:?}").chars().take(200).collect(),
                    }
                    .into_store_error(format!("scanning {node}")));
                }
                let keys = items.pop().map(Reply::into_items).unwrap_or_default();
                cursor = items.pop().and_then(Reply::into_bytes).unwrap_or_default();
                for key in keys {
                    if let Some(key) = key.into_bytes() {
                        each(key)?;
                    }
                }
                if cursor == b"0" {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The deadline of one operation, for as long as the guard lives.
    fn operation(&self) -> Operation {
        Operation::begin(self.steps.client.deadline())
    }

    fn apply_op(&self, op: &Op, journal: &mut Journal) -> Result<()> {
        match op {
            Op::Write { path, value } => self.steps.write(path, value, journal),
            Op::MakeGroup { path } => self.steps.make_group(path, journal),
            Op::MakeLink { existing, new } => self.steps.make_link(existing, new, journal),
            Op::Delete { path, recursive } => {
                self.steps.delete(path, *recursive, journal).map(drop)
            }
        }
    }
}

impl Store for ClusterStore {
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        self.metrics.observe(Counted::Read, || {
            let _op = self.operation();
            let located = self.steps.locate(path.as_str(), &mut Hops::new(path))?;
            Ok(match located.entry {
                Some(Entry::Value(v)) => Some(v),
                _ => None,
            })
        })
    }

    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>> {
        self.metrics.observe(Counted::Type, || {
            let _op = self.operation();
            let located = self.steps.locate(path.as_str(), &mut Hops::new(path))?;
            Ok(match located.entry {
                Some(Entry::Value(_)) => Some(EntryType::Simple),
                Some(_) => Some(EntryType::Composite),
                None => None,
            })
        })
    }

    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>> {
        self.metrics.observe(Counted::List, || {
            let _op = self.operation();
            self.steps.list_range(path, &Page::default())
        })
    }

    fn resolve_at(&self, path: &StorePath) -> Result<StorePath> {
        self.metrics.observe(Counted::Resolve, || {
            let _op = self.operation();
            let located = self.steps.locate(path.as_str(), &mut Hops::new(path))?;
            StorePath::parse(&located.path)
        })
    }

    fn list_range_at(&self, path: &StorePath, page: &Page) -> Result<Option<Vec<Child>>> {
        self.metrics.observe(Counted::List, || {
            let _op = self.operation();
            self.steps.list_range(path, page)
        })
    }

    fn read_entry_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        self.metrics.observe(Counted::ReadEntry, || {
            let _op = self.operation();
            self.steps.read_entry(path, inline_up_to)
        })
    }

    fn match_at(&self, pairs: &[(String, StorePath)], limit: Option<usize>) -> Result<Vec<String>> {
        self.metrics.observe(Counted::Match, || {
            let _op = self.operation();
            self.steps.match_links(pairs, limit)
        })
    }

    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()> {
        self.metrics.observe(Counted::Write, || {
            let _op = self.operation();
            self.steps.write(path, value, &mut Journal::off())
        })
    }

    fn make_group_at(&self, path: &StorePath) -> Result<()> {
        self.metrics.observe(Counted::Group, || {
            let _op = self.operation();
            self.steps.make_group(path, &mut Journal::off())
        })
    }

    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()> {
        self.metrics.observe(Counted::Link, || {
            let _op = self.operation();
            self.steps.make_link(existing, new, &mut Journal::off())
        })
    }

    /// A recursive delete is as long as its subtree: its steps each keep
    /// their own deadline, and it is not bounded as a whole.
    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool> {
        self.metrics.observe(Counted::Delete, || {
            let _op = (!recursive).then(|| self.operation());
            self.steps.delete(path, recursive, &mut Journal::off())
        })
    }

    /// Applies the batch's operations in order; when one fails, the steps
    /// already taken are undone, last first, and the error returned. Not
    /// isolated: other clients may see the batch's first operations before
    /// its last ones, or before an undo (see the crate's documentation).
    ///
    /// The batch, undo included, keeps to one deadline: its operations get
    /// four fifths of it, so that an undo after a failure has time left.
    fn apply(&self, batch: &Batch) -> Result<()> {
        self.metrics.observe(Counted::Batch, || {
            let _op = self.operation();
            let mut journal = Journal::on();
            let ops = batch.ops();
            let mut at = 0;
            let forward = Operation::part(0.8);
            while at < ops.len() {
                let siblings = siblings(&ops[at..]);
                let done = if siblings.len() > 1 {
                    let parent = siblings[0].0.parent().unwrap_or_else(StorePath::root);
                    self.steps
                        .put_siblings(&parent, &siblings, &mut journal)
                        .map(|()| siblings.len())
                } else {
                    self.apply_op(&ops[at], &mut journal).map(|()| 1)
                };
                match done {
                    Ok(n) => at += n,
                    Err(e) => {
                        drop(forward);
                        return Err(match journal.roll_back(&self.steps) {
                            Ok(()) => e,
                            Err(unfinished) => unfinished.into_error(&e),
                        });
                    }
                }
            }
            Ok(())
        })
    }

    /// Removes every key of the namespace, node by node. Not atomic: a
    /// writer running meanwhile may leave entries behind.
    fn reset(&self) -> Result<()> {
        self.metrics.observe(Counted::Reset, || {
            let version = self.steps.layout.version();
            let mut doomed: Vec<Vec<u8>> = Vec::new();
            self.scan(|key| {
                if key != version {
                    doomed.push(key);
                }
                Ok(())
            })?;
            for chunk in doomed.chunks(1000) {
                let cmds = chunk
                    .iter()
                    .map(|key| (crate::client::slot_of(key), Cmd::new("UNLINK").arg(key)))
                    .collect();
                self.steps
                    .client
                    .call_each(cmds)
                    .map_err(|e| e.into_store_error("reset"))?;
            }
            Ok(())
        })
    }

    fn scope(&self) -> Scope {
        Scope::Remote
    }
}

/// The writes and links at the start of `ops` that share one parent (as
/// written): a message's fields, put in one step.
fn siblings(ops: &[Op]) -> Vec<(&StorePath, Entry)> {
    let mut found: Vec<(&StorePath, Entry)> = Vec::new();
    for op in ops {
        let (path, entry) = match op {
            Op::Write { path, value } => (path, Entry::Value(value.clone())),
            Op::MakeLink { existing, new } if existing != new => {
                (new, Entry::Link(existing.to_string()))
            }
            _ => break,
        };
        // One step holds at most this many, so no script holds its node
        // for long; a larger message takes a few steps.
        if found.len() == 256 {
            break;
        }
        let same = !path.is_root()
            && found
                .first()
                .is_none_or(|(first, _)| first.parent() == path.parent());
        if !same {
            break;
        }
        found.push((path, entry));
    }
    found
}

impl std::fmt::Debug for ClusterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterStore")
            .field("namespace", &self.namespace())
            .field("primaries", &self.primaries())
            .finish()
    }
}
