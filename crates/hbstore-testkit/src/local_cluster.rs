//! A real Redis cluster on this machine, for the tests and the benchmark
//! (behind the `cluster` feature, so that nothing that ships links it): Debian's `redis-server` processes on 127.0.0.1 only
//! (three primaries and a replica each, by default), joined with
//! `redis-cli --cluster create`, stopped and removed on drop.
//!
//! Each server runs under a small shell that holds a pipe from this
//! process: when this process ends, however it ends, the pipe closes and
//! the shell kills its server and removes its files, so no test run
//! leaves servers or data behind.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hbstore_cluster::{key_slot, read_reply, ClusterError, Cmd, Reply};

/// A running local cluster.
pub struct LocalCluster {
    dir: PathBuf,
    password: Option<String>,
    ports: Vec<u16>,
    watchdogs: Vec<Child>,
}

fn launch(reason: impl Into<String>) -> ClusterError {
    ClusterError::Launch {
        reason: reason.into(),
    }
}

/// One command to the node on `port`, with short timeouts.
pub fn ask(port: u16, cmd: &Cmd) -> Result<Reply, ClusterError> {
    ask_as(port, None, cmd)
}

/// One command to the node on `port`, authenticated with `password` first
/// when given.
pub fn ask_as(port: u16, password: Option<&str>, cmd: &Cmd) -> Result<Reply, ClusterError> {
    let io = |e: std::io::Error| launch(format!("127.0.0.1:{port}: {e}"));
    let stream = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    let mut writer = stream.try_clone().map_err(io)?;
    let mut reader = BufReader::new(stream);
    if let Some(password) = password {
        Cmd::new("AUTH")
            .arg(password)
            .write_to(&mut writer)
            .map_err(io)?;
        writer.flush().map_err(io)?;
        if let Reply::Error(e) = read_reply(&mut reader).map_err(io)? {
            return Err(launch(format!("127.0.0.1:{port}: AUTH: {e}")));
        }
    }
    cmd.write_to(&mut writer).map_err(io)?;
    writer.flush().map_err(io)?;
    read_reply(&mut reader).map_err(io)
}

fn info_field(cluster: &LocalCluster, port: u16, section: &str, field: &str) -> Option<String> {
    let reply = cluster.ask(port, &Cmd::new("INFO").arg(section)).ok()?;
    let text = String::from_utf8_lossy(reply.bytes()?).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_owned))
}

fn free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
        && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
}

fn pick_ports(count: usize) -> Result<Vec<u16>, ClusterError> {
    let seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
    for attempt in 0..50u64 {
        // Cluster bus ports are the data ports + 10,000: both must be free.
        let base = 20_000 + ((seed.wrapping_mul(2_654_435_761) + attempt * 7_919) % 9_000) as u16;
        let ports: Vec<u16> = (0..count as u16).map(|i| base + i).collect();
        if ports.iter().all(|&p| free(p)) {
            return Ok(ports);
        }
    }
    Err(launch("no free range of ports on 127.0.0.1"))
}

/// Where `program` is, or why it cannot be run.
fn installed(program: &str) -> Result<PathBuf, ClusterError> {
    which(program).ok_or_else(|| {
        launch(format!(
            "{program} not found: install Debian's redis-server and redis-tools (./dev test does)"
        ))
    })
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

impl LocalCluster {
    /// Three primaries with a replica each, in a new directory under the
    /// system's temporary directory.
    pub fn start() -> Result<LocalCluster, ClusterError> {
        LocalCluster::start_with(3, 1)
    }

    /// `primaries` primaries with `replicas` replicas each.
    pub fn start_with(primaries: usize, replicas: usize) -> Result<LocalCluster, ClusterError> {
        LocalCluster::launch(primaries, replicas, None)
    }

    /// `primaries` primaries, no replicas, every server asking for
    /// `password` (`requirepass`).
    pub fn start_with_password(
        primaries: usize,
        password: &str,
    ) -> Result<LocalCluster, ClusterError> {
        LocalCluster::launch(primaries, 0, Some(password))
    }

    fn launch(
        primaries: usize,
        replicas: usize,
        password: Option<&str>,
    ) -> Result<LocalCluster, ClusterError> {
        let server = installed("redis-server")?;
        // Checked now, before any server starts, for the clear message.
        installed("redis-cli")?;
        let count = primaries * (1 + replicas);
        let ports = pick_ports(count)?;
        let dir = std::env::temp_dir().join(format!(
            "hbstore-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).map_err(|e| launch(format!("{dir:?}: {e}")))?;
        let mut cluster = LocalCluster {
            dir,
            password: password.map(str::to_owned),
            ports: Vec::new(),
            watchdogs: Vec::new(),
        };
        for &port in &ports {
            cluster.spawn(&server, port)?;
        }
        cluster.wait(Duration::from_secs(20), "servers to answer PING", |c| {
            c.ports.iter().all(|&p| c.ask(p, &Cmd::new("PING")).is_ok())
        })?;
        let mut create = vec!["--cluster".to_owned(), "create".to_owned()];
        create.extend(ports.iter().map(|port| format!("127.0.0.1:{port}")));
        create.extend(["--cluster-replicas".to_owned(), replicas.to_string()]);
        cluster.redis_cli(&create)?;
        cluster.wait_healthy(Duration::from_secs(60))?;
        Ok(cluster)
    }

    fn spawn(&mut self, server: &Path, port: u16) -> Result<(), ClusterError> {
        let node_dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&node_dir).map_err(|e| launch(format!("{node_dir:?}: {e}")))?;
        let args = [
            "--port".to_owned(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--cluster-enabled".into(),
            "yes".into(),
            "--cluster-config-file".into(),
            "nodes.conf".into(),
            "--cluster-node-timeout".into(),
            "1000".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            node_dir.to_string_lossy().into_owned(),
            "--logfile".into(),
            "redis.log".into(),
        ];
        let mut args = args.to_vec();
        if let Some(password) = &self.password {
            // Clients and the replicas' link to their primary both ask.
            args.extend(["--requirepass".into(), password.clone()]);
            args.extend(["--masterauth".into(), password.clone()]);
        }
        // The shell starts the server, then waits on its stdin: the pipe
        // from this process. End of file (this process gone) kills it.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"dir="$1"; server="$2"; shift 2; "$server" "$@" & pid=$!; read _; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; rmdir "${dir%/*}" 2>/dev/null"#)
            .arg("sh")
            .arg(&node_dir)
            .arg(server)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| launch(format!("starting redis-server on port {port}: {e}")))?;
        self.ports.push(port);
        self.watchdogs.push(watchdog);
        Ok(())
    }

    fn wait(
        &self,
        timeout: Duration,
        what: &str,
        ready: impl Fn(&LocalCluster) -> bool,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        while !ready(self) {
            if started.elapsed() > timeout {
                return Err(launch(format!(
                    "gave up after {timeout:?} waiting for {what}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Waits until every live node sees the cluster as `ok` with every slot
    /// served, and every replica is in sync with its primary.
    pub fn wait_healthy(&self, timeout: Duration) -> Result<(), ClusterError> {
        self.wait(timeout, "the cluster to be healthy", |c| {
            let live: Vec<u16> = c
                .ports
                .iter()
                .copied()
                .filter(|&p| c.ask(p, &Cmd::new("PING")).is_ok())
                .collect();
            !live.is_empty()
                && live.iter().all(|&p| {
                    let info = c
                        .ask(p, &Cmd::new("CLUSTER").arg("INFO"))
                        .ok()
                        .and_then(|r| r.bytes().map(|b| String::from_utf8_lossy(b).into_owned()))
                        .unwrap_or_default();
                    let synced = info_field(c, p, "replication", "role").as_deref()
                        != Some("slave")
                        || info_field(c, p, "replication", "master_link_status").as_deref()
                            == Some("up");
                    info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384")
                        && synced
                })
        })
    }

    /// One command to the node on `port`, authenticated when the cluster
    /// asks for a password.
    pub fn ask(&self, port: u16, cmd: &Cmd) -> Result<Reply, ClusterError> {
        ask_as(port, self.password.as_deref(), cmd)
    }

    /// `redis://` address naming every node (with the password, if any).
    pub fn address(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let auth = self
            .password
            .as_ref()
            .map(|p| format!(":{p}@"))
            .unwrap_or_default();
        format!("redis://{auth}{}", nodes.join(","))
    }

    /// The nodes' ports.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The port of the primary serving `key` now.
    pub fn primary_of(&self, key: &[u8]) -> Result<u16, ClusterError> {
        let slot = key_slot(key);
        for &port in &self.ports {
            let Ok(reply) = self.ask(port, &Cmd::new("CLUSTER").arg("SLOTS")) else {
                continue;
            };
            for range in reply.items() {
                let items = range.items();
                if let (Some(Reply::Int(start)), Some(Reply::Int(end)), Some(node)) =
                    (items.first(), items.get(1), items.get(2))
                {
                    if (*start..=*end).contains(&i64::from(slot)) {
                        if let Some(Reply::Int(p)) = node.items().get(1) {
                            return Ok(*p as u16);
                        }
                    }
                }
            }
        }
        Err(launch(format!("no node says who serves slot {slot}")))
    }

    /// Moves `count` slots, with their keys, from the primary on `from` to
    /// the one on `to` (`redis-cli --cluster reshard`): clients meet `ASK`
    /// while a slot migrates and `MOVED` after.
    pub fn reshard(&self, from: u16, to: u16, count: u32) -> Result<(), ClusterError> {
        let id = |port: u16| -> Result<String, ClusterError> {
            self.ask(port, &Cmd::new("CLUSTER").arg("MYID"))?
                .bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .ok_or_else(|| launch(format!("no node id from port {port}")))
        };
        let mut args = vec!["--cluster".to_owned(), "reshard".to_owned()];
        args.push(format!("127.0.0.1:{from}"));
        args.extend(["--cluster-from".to_owned(), id(from)?]);
        args.extend(["--cluster-to".to_owned(), id(to)?]);
        args.extend(["--cluster-slots".to_owned(), count.to_string()]);
        args.extend(["--cluster-pipeline".to_owned(), "10".to_owned()]);
        self.redis_cli(&args)
    }

    /// Runs `redis-cli ARGS --cluster-yes`, with the cluster's password if
    /// it has one; a failure says what redis-cli said.
    fn redis_cli(&self, args: &[String]) -> Result<(), ClusterError> {
        let mut command = Command::new(installed("redis-cli")?);
        if let Some(password) = &self.password {
            // From the environment, not the command line (where any user
            // of the machine could read it).
            command.env("REDISCLI_AUTH", password);
        }
        let output = command
            .args(args)
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| launch(format!("redis-cli: {e}")))?;
        if output.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = said.lines().collect();
        let errors: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.contains("ERR") || l.contains("rror"))
            .collect();
        let shown = if errors.is_empty() {
            &lines[lines.len().saturating_sub(5)..]
        } else {
            &errors[..]
        };
        Err(launch(format!(
            "redis-cli {} failed: {}",
            args.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
            shown.join("; ")
        )))
    }

    /// Kills the server on `port` with SIGKILL, as a crash would.
    pub fn kill(&self, port: u16) -> Result<(), ClusterError> {
        let pid = info_field(self, port, "server", "process_id")
            .ok_or_else(|| launch(format!("no process id from port {port}")))?;
        let status = Command::new("kill")
            .arg("-9")
            .arg(pid.trim())
            .status()
            .map_err(|e| launch(format!("kill: {e}")))?;
        if !status.success() {
            return Err(launch(format!("kill -9 {pid} failed")));
        }
        Ok(())
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for watchdog in &mut self.watchdogs {
            // Closing the pipe makes the shell kill its server.
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
