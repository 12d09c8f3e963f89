//! A Redis Cluster client, as small as hbstore needs: the slot map, a pool
//! of connections per node, redirects followed (`MOVED`, `ASK`), transient
//! states waited out (`TRYAGAIN`, `CLUSTERDOWN`, a failover) until a
//! deadline, and never a wait without one: every call has a deadline (its
//! own, or the operation's, the earlier: `deadline.rs`), and every name
//! look-up, connect, write and read on a socket takes at most the time
//! that deadline leaves, so a cluster that is down or silent gives an
//! error, not a hang.
//!
//! Commands for one slot go to the slot's primary, pipelined when several
//! are given; a redirect or a lost node retries the whole group. Every
//! step hbstore sends is safe to repeat for the store's invariant; what a
//! repeated step *answers* can differ from the first run's answer when the
//! first reply was lost (a removal repeated answers "absent"), which the
//! steps that record an undo account for (`steps.rs`).

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::deadline;
use crate::error::ClusterError;
use crate::resp::{self, Cmd, Reply};
use crate::slot::{self, SLOTS};

/// How the client talks to the cluster. `Default` suits a cluster on a
/// local network.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Opening a connection to a node.
    pub connect: Duration,
    /// Waiting for one reply on an open connection.
    pub reply: Duration,
    /// The whole of one call, redirects, retries and failovers included:
    /// after this the call fails with `Unavailable`.
    pub deadline: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(2),
            reply: Duration::from_secs(5),
            deadline: Duration::from_secs(20),
        }
    }
}

/// Credentials sent with `AUTH` on every new connection: a password,
/// and a user for Redis ACLs.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The ACL user; `None` for the default user (`requirepass`).
    pub user: Option<String>,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, in logs or error messages.
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// One open connection to a node.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    /// The socket's read and write timeout now.
    timeout: Duration,
}

/// The socket addresses of `addr` (`host:port`), looked up within `wait`:
/// an address that is already numeric needs no look-up, and a name is
/// resolved on a thread of its own, so a resolver that does not answer
/// cannot hold the call past its deadline.
fn socket_addrs(addr: &str, wait: Duration) -> std::io::Result<Vec<SocketAddr>> {
    if let Ok(numeric) = addr.parse::<SocketAddr>() {
        return Ok(vec![numeric]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = addr.to_owned();
    std::thread::Builder::new()
        .name("hbstore-dns".to_owned())
        .spawn(move || {
            let _ = tx.send(name.to_socket_addrs().map(Iterator::collect));
        })?;
    rx.recv_timeout(wait).unwrap_or_else(|_| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("looking up {addr} took longer than the time left"),
        ))
    })
}

impl Conn {
    fn open(
        addr: &str,
        timeouts: &Timeouts,
        credentials: Option<&Credentials>,
        deadline: Instant,
    ) -> std::io::Result<Conn> {
        let mut last = None;
        for sock in socket_addrs(addr, deadline::left(deadline, timeouts.connect))? {
            match TcpStream::connect_timeout(&sock, deadline::left(deadline, timeouts.connect)) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    let mut conn = Conn {
                        reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?),
                        writer: BufWriter::with_capacity(64 * 1024, stream),
                        timeout: Duration::ZERO,
                    };
                    conn.bound(deadline::left(deadline, timeouts.reply))?;
                    if let Some(credentials) = credentials {
                        conn.authenticate(credentials)?;
                    }
                    return Ok(conn);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address")))
    }

    /// `AUTH`; a refusal is `PermissionDenied`, which the client does not
    /// retry.
    fn authenticate(&mut self, credentials: &Credentials) -> std::io::Result<()> {
        let mut auth = Cmd::new("AUTH");
        if let Some(user) = &credentials.user {
            auth.push(user);
        }
        auth.push(&credentials.password);
        match self.exchange(&[&auth])?.pop() {
            Some(Reply::Status(_)) => Ok(()),
            Some(Reply::Error(e)) => Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("authentication refused: {e}"),
            )),
            other => Err(std::io::Error::other(format!("AUTH answered {other:?}"))),
        }
    }

    /// Makes every read and write on the socket wait at most `timeout`
    /// (set only when it changes: most calls have the whole reply timeout
    /// left).
    fn bound(&mut self, timeout: Duration) -> std::io::Result<()> {
        if timeout != self.timeout {
            let stream = self.writer.get_ref();
            stream.set_read_timeout(Some(timeout))?;
            stream.set_write_timeout(Some(timeout))?;
            self.timeout = timeout;
        }
        Ok(())
    }

    /// Sends `cmds` in one write and reads one reply for each.
    fn exchange(&mut self, cmds: &[&Cmd]) -> std::io::Result<Vec<Reply>> {
        for cmd in cmds {
            cmd.write_to(&mut self.writer)?;
        }
        self.writer.flush()?;
        cmds.iter().map(|_| resp::read(&mut self.reader)).collect()
    }
}

/// Which node serves each slot, from `CLUSTER SLOTS`.
#[derive(Default)]
struct SlotMap {
    owners: Vec<Option<Arc<str>>>,
    primaries: Vec<Arc<str>>,
}

/// What to do after a reply or an error.
enum Next {
    Done(Vec<Reply>),
    /// Ask this node, with `ASKING` first.
    Ask(String),
    /// The slot moved and the map now says where: ask again at once.
    Moved(String),
    /// Ask again after the map has been refreshed.
    Retry(String),
}

/// What the client has had to follow, for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redirects {
    /// `MOVED` replies: a slot had moved to another node.
    pub moved: u64,
    /// `ASK` replies: a slot was being migrated.
    pub ask: u64,
    /// Waits for a transient state or a lost node (failover, `TRYAGAIN`).
    pub retries: u64,
}

#[derive(Default)]
struct Counters {
    moved: AtomicU64,
    ask: AtomicU64,
    retries: AtomicU64,
}

/// A client of one cluster, shared by every thread of a store.
pub struct Client {
    counters: Counters,
    credentials: Option<Credentials>,
    seeds: Vec<String>,
    timeouts: Timeouts,
    map: RwLock<SlotMap>,
    pools: Mutex<HashMap<String, Arc<Mutex<Vec<Conn>>>>>,
}

impl Client {
    /// Connects to the cluster through any of `seeds` (`host:port`) and
    /// reads its slot map.
    pub fn connect(
        seeds: Vec<String>,
        credentials: Option<Credentials>,
        timeouts: Timeouts,
    ) -> Result<Client, ClusterError> {
        let client = Client {
            counters: Counters::default(),
            credentials,
            seeds,
            timeouts,
            map: RwLock::new(SlotMap::default()),
            pools: Mutex::new(HashMap::new()),
        };
        let started = Instant::now();
        let deadline = deadline::for_call(client.timeouts.deadline);
        loop {
            match client.refresh(deadline) {
                Ok(()) => return Ok(client),
                // A wrong password stays wrong: no point waiting.
                Err(last) if last.contains("authentication refused") || last.contains("NOAUTH") => {
                    return Err(ClusterError::Refused {
                        addr: client.seeds.join(","),
                        command: "AUTH".into(),
                        message: last,
                    })
                }
                Err(last) if Instant::now() >= deadline => {
                    return Err(ClusterError::Unavailable {
                        command: "CLUSTER SLOTS".into(),
                        waited: started.elapsed(),
                        last,
                    })
                }
                Err(_) => std::thread::sleep(deadline::left(deadline, Duration::from_millis(200))),
            }
        }
    }

    /// How long one operation may take, all its calls together.
    pub(crate) fn deadline(&self) -> Duration {
        self.timeouts.deadline
    }

    /// How many redirects and retries the client has followed so far.
    pub fn redirects(&self) -> Redirects {
        Redirects {
            moved: self.counters.moved.load(Ordering::Relaxed),
            ask: self.counters.ask.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// The primaries, as the last slot map listed them.
    pub fn primaries(&self) -> Vec<String> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.primaries.iter().map(|a| a.to_string()).collect()
    }

    /// Sends `cmds` (all for `slot`) to the slot's primary, pipelined, and
    /// returns their replies; follows redirects and waits out failovers
    /// until the deadline.
    pub fn call(&self, slot: u16, cmds: &[Cmd]) -> Result<Vec<Reply>, ClusterError> {
        let started = Instant::now();
        let deadline = deadline::for_call(self.timeouts.deadline);
        let mut ask: Option<String> = None;
        let mut pause = Duration::from_millis(20);
        let mut redirects = 0;
        loop {
            let (addr, asking) = match ask.take() {
                Some(addr) => (addr, true),
                None => match self.owner(slot) {
                    Some(addr) => (addr, false),
                    None => {
                        let last = format!("no node serves slot {slot}");
                        self.back_off(started, deadline, &mut pause, cmds, last)?;
                        continue;
                    }
                },
            };
            match self.send(&addr, cmds, asking, slot, deadline) {
                Next::Done(replies) => return Ok(replies),
                Next::Ask(to) => {
                    self.counters.ask.fetch_add(1, Ordering::Relaxed);
                    redirects += 1;
                    if redirects > 5 {
                        self.back_off(started, deadline, &mut pause, cmds, format!("ASK to {to}"))?;
                    }
                    ask = Some(to);
                }
                // A slot in migration can bounce a few times; more than
                // that, and the map is refreshed with a pause between.
                Next::Moved(last) => {
                    self.counters.moved.fetch_add(1, Ordering::Relaxed);
                    redirects += 1;
                    if redirects > 5 {
                        self.back_off(started, deadline, &mut pause, cmds, last)?;
                    }
                }
                Next::Retry(last) => self.back_off(started, deadline, &mut pause, cmds, last)?,
            }
        }
    }

    /// Sends commands for many slots: those of one node in one pipeline,
    /// one node after another; a command that meets a redirect or a failed
    /// node is sent again on its own through [`Client::call`]. Replies in
    /// the order of `cmds`.
    pub fn call_each(&self, cmds: Vec<(u16, Cmd)>) -> Result<Vec<Reply>, ClusterError> {
        let mut by_node: HashMap<String, Vec<usize>> = HashMap::new();
        let mut replies: Vec<Option<Reply>> = vec![None; cmds.len()];
        for (i, (slot, _)) in cmds.iter().enumerate() {
            // A slot nobody serves yet goes through `call`, which waits.
            if let Some(addr) = self.owner(*slot) {
                by_node.entry(addr).or_default().push(i);
            }
        }
        let deadline = deadline::for_call(self.timeouts.deadline);
        for (addr, indices) in by_node {
            let group: Vec<&Cmd> = indices.iter().map(|&i| &cmds[i].1).collect();
            if let Ok(got) = self.exchange(&addr, &group, deadline) {
                for (i, reply) in indices.into_iter().zip(got) {
                    let redirected = matches!(&reply, Reply::Error(e)
                        if ["MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN", "READONLY"]
                            .iter().any(|w| e.starts_with(w)));
                    if !redirected {
                        replies[i] = Some(reply);
                    }
                }
            }
        }
        replies
            .into_iter()
            .zip(cmds)
            .map(|(reply, (slot, cmd))| match reply {
                Some(reply) => Ok(reply),
                None => self
                    .call(slot, std::slice::from_ref(&cmd))
                    .map(|mut r| r.remove(0)),
            })
            .collect()
    }

    /// Sends `cmds` to the node at `addr` itself (for commands about the
    /// node: `SCAN`, `INFO`, `DBSIZE`), with the same deadline.
    pub fn call_node(&self, addr: &str, cmds: &[Cmd]) -> Result<Vec<Reply>, ClusterError> {
        let started = Instant::now();
        let deadline = deadline::for_call(self.timeouts.deadline);
        let mut pause = Duration::from_millis(20);
        loop {
            let refs: Vec<&Cmd> = cmds.iter().collect();
            match self.exchange(addr, &refs, deadline) {
                Ok(replies) => return Ok(replies),
                Err(e) => {
                    let last = format!("{addr}: {e}");
                    self.back_off(started, deadline, &mut pause, cmds, last)?;
                }
            }
        }
    }

    fn back_off(
        &self,
        started: Instant,
        deadline: Instant,
        pause: &mut Duration,
        cmds: &[Cmd],
        last: String,
    ) -> Result<(), ClusterError> {
        if Instant::now() + *pause >= deadline {
            return Err(ClusterError::Unavailable {
                command: cmds.first().map(Cmd::name).unwrap_or_default(),
                waited: started.elapsed(),
                last,
            });
        }
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(*pause);
        *pause = (*pause * 2).min(Duration::from_millis(500));
        // A failed refresh is the same news as the failure that led here;
        // the next attempt, or the deadline, decides.
        let _ = self.refresh(deadline);
        Ok(())
    }

    fn send(&self, addr: &str, cmds: &[Cmd], asking: bool, slot: u16, deadline: Instant) -> Next {
        let asking_cmd = Cmd::new("ASKING");
        let mut refs: Vec<&Cmd> = Vec::with_capacity(cmds.len() + 1);
        if asking {
            refs.push(&asking_cmd);
        }
        refs.extend(cmds.iter());
        let mut replies = match self.exchange(addr, &refs, deadline) {
            Ok(replies) => replies,
            Err(e) => return Next::Retry(format!("{addr}: {e}")),
        };
        if asking {
            replies.remove(0);
        }
        // A redirect or a transient state is said by the first command of
        // the group, and applies to the whole group (same slot).
        if let Some(Reply::Error(message)) = replies.first() {
            let word = message.split(' ').next().unwrap_or("");
            match word {
                "MOVED" => {
                    if let Some(to) = message.split(' ').nth(2) {
                        self.set_owner(slot, to);
                    }
                    return Next::Moved(message.clone());
                }
                "ASK" => match message.split(' ').nth(2) {
                    Some(to) => return Next::Ask(to.to_owned()),
                    None => return Next::Retry(message.clone()),
                },
                "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN" | "READONLY" => {
                    return Next::Retry(format!("{addr}: {message}"))
                }
                _ => {}
            }
        }
        Next::Done(replies)
    }

    fn exchange(
        &self,
        addr: &str,
        cmds: &[&Cmd],
        deadline: Instant,
    ) -> std::io::Result<Vec<Reply>> {
        if Instant::now() >= deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the operation's deadline has passed",
            ));
        }
        let pool = self.pool(addr);
        let idle = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => Conn::open(addr, &self.timeouts, self.credentials.as_ref(), deadline)?,
        };
        conn.bound(deadline::left(deadline, self.timeouts.reply))?;
        // A connection that failed mid-exchange is dropped, never reused:
        // its stream may hold half a reply.
        let replies = conn.exchange(cmds)?;
        pool.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        Ok(replies)
    }

    fn pool(&self, addr: &str) -> Arc<Mutex<Vec<Conn>>> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.entry(addr.to_owned()).or_default().clone()
    }

    fn owner(&self, slot: u16) -> Option<String> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.owners
            .get(usize::from(slot))
            .and_then(|o| o.as_ref())
            .map(|a| a.to_string())
    }

    fn set_owner(&self, slot: u16, addr: &str) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if let Some(owner) = map.owners.get_mut(usize::from(slot)) {
            *owner = Some(Arc::from(addr));
        }
    }

    /// Reads the slot map from the first node that gives one, each node
    /// asked once and none after `deadline`; `Err` says why none did.
    fn refresh(&self, deadline: Instant) -> Result<(), String> {
        let mut candidates = self.primaries();
        candidates.extend(self.seeds.iter().cloned());
        let mut asked = std::collections::HashSet::new();
        candidates.retain(|addr| asked.insert(addr.clone()));
        let mut last = String::from("no node to ask");
        for addr in candidates {
            if Instant::now() >= deadline {
                break;
            }
            match self.exchange(&addr, &[&Cmd::new("CLUSTER").arg("SLOTS")], deadline) {
                Ok(replies) => match parse_slots(&addr, &replies[0]) {
                    Ok(map) => {
                        *self.map.write().unwrap_or_else(|p| p.into_inner()) = map;
                        return Ok(());
                    }
                    Err(e) => last = format!("{addr}: {e}"),
                },
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(last)
    }
}

/// `CLUSTER SLOTS`: `[[start, end, [host, port, id, ...], replicas...], ...]`.
fn parse_slots(asked: &str, reply: &Reply) -> Result<SlotMap, String> {
    if let Reply::Error(e) = reply {
        return Err(e.clone());
    }
    let asked_host = asked.rsplit_once(':').map(|(h, _)| h).unwrap_or(asked);
    let mut map = SlotMap {
        owners: vec![None; usize::from(SLOTS)],
        primaries: Vec::new(),
    };
    for range in reply.items() {
        let items = range.items();
        let (Some(Reply::Int(start)), Some(Reply::Int(end)), Some(primary)) =
            (items.first(), items.get(1), items.get(2))
        else {
            return Err(format!("a slot range that does not parse: {range:?}"));
        };
        let node = primary.items();
        let host = node
            .first()
            .and_then(Reply::bytes)
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .filter(|h| !h.is_empty() && h != "?")
            .unwrap_or_else(|| asked_host.to_owned());
        let Some(Reply::Int(port)) = node.get(1) else {
            return Err(format!("a node without a port: {primary:?}"));
        };
        let addr: Arc<str> = Arc::from(format!("{host}:{port}"));
        if !map.primaries.contains(&addr) {
            map.primaries.push(addr.clone());
        }
        let (start, end) = (
            *start.max(&0) as usize,
            (*end.max(&0) as usize).min(usize::from(SLOTS) - 1),
        );
        if start > end {
            return Err(format!(
                "a slot range that ends before it starts: {range:?}"
            ));
        }
        for owner in &mut map.owners[start..=end] {
            *owner = Some(addr.clone());
        }
    }
    if map.primaries.is_empty() {
        return Err("no slot is served (is cluster mode on, and the cluster created?)".into());
    }
    Ok(map)
}

/// The slot a group of keys lives in (hbstore puts every key of one step in
/// one slot, through hash tags).
pub fn slot_of(key: &[u8]) -> u16 {
    slot::of(key)
}
