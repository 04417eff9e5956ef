//! A Redis Cluster of a test's own: three masters on free loopback ports, joined by
//! `redis-cli --cluster create`, a node stoppable and restartable with its data and slots.
//! Needs `redis-server` and `redis-cli` (./scripts/test-all installs them).

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A Redis Cluster of three masters (no replicas) of this test's own, each node saving to a
/// directory of its own so one can be stopped and started again with its data and slots.
pub struct PrivateCluster {
    nodes: Vec<PrivateNode>,
    dir: PathBuf,
}

struct PrivateNode {
    port: u16,
    child: Option<Child>,
}

/// A free port whose cluster bus port (+10000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(args)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run redis-cli ({err}): install redis-tools (./scripts/test-all does)")
        });
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

impl PrivateCluster {
    /// Starts three nodes and joins them (`redis-cli --cluster create`). A node that is down
    /// leaves the others serving their slots (`cluster-require-full-coverage no`).
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cookieless-cluster-{}-{}",
            std::process::id(),
            free_cluster_port()
        ));
        let mut cluster = Self {
            nodes: (0..3)
                .map(|_| PrivateNode {
                    port: free_cluster_port(),
                    child: None,
                })
                .collect(),
            dir,
        };
        for node in 0..3 {
            cluster.resume(node);
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut create = vec!["--cluster", "create"];
        create.extend(addresses.iter().map(String::as_str));
        create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = redis_cli(&create);
        assert!(out.contains("[OK] All 16384 slots covered"), "{out}");
        cluster.wait_until_ok();
        cluster
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// Waits until every node says the cluster is up and knows the three masters.
    pub fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            loop {
                let info = redis_cli(&["-p", &node.port.to_string(), "cluster", "info"]);
                if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the cluster did not form: {info}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Starts node `i` (again), with the slots and data it had when stopped.
    pub fn resume(&mut self, i: usize) {
        let port = self.nodes[i].port;
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
            .args(["--cluster-node-timeout", "1000"])
            .args(["--cluster-require-full-coverage", "no"])
            .args(["--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start redis-server ({err}): install it (`apt-get install redis-server`) or run ./scripts/test-all")
            });
        self.nodes[i].child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves node `i`'s data and stops it.
    pub fn stop(&mut self, i: usize) {
        let port = self.nodes[i].port.to_string();
        redis_cli(&["-p", &port, "shutdown", "save"]);
        let mut child = self.nodes[i].child.take().unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "redis-server exited with {status}");
    }

    /// The keys matching `pattern` on node `i`.
    pub fn keys_on(&self, i: usize, pattern: &str) -> Vec<String> {
        redis_cli(&[
            "-p",
            &self.nodes[i].port.to_string(),
            "--raw",
            "keys",
            pattern,
        ])
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
