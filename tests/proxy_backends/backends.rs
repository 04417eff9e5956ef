//! The real backends the proxy tests run against: PHP's built-in server and a Flask app, each
//! a child process on a free loopback port, stopped when dropped. A missing PHP or Python (with
//! Flask) fails the test, saying what to install; nothing is skipped.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A backend process and where it listens.
pub struct Backend {
    child: Child,
    pub addr: SocketAddr,
    _scratch: Option<PathBuf>,
}

impl Backend {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self._scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/proxy_backends")
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

fn wait_until_listening(child: &mut Child, addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status}); see its output above");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {addr} within 20 s");
}

/// `php -S` serving `php/router.php`, sessions in a scratch directory of its own.
pub fn php() -> Backend {
    php_linking_away_to("https://other.example/help")
}

/// Like [`php`], its pages linking to `away` (another origin).
pub fn php_linking_away_to(away: &str) -> Backend {
    let php = std::env::var("PHP").unwrap_or_else(|_| "php".to_owned());
    let addr = free_port();
    let scratch = std::env::temp_dir().join(format!(
        "cookieless-php-{}-{}",
        std::process::id(),
        addr.port()
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut child = Command::new(&php)
        .arg("-d")
        .arg(format!("session.save_path={}", scratch.display()))
        .args(["-d", "session.use_strict_mode=1", "-S"])
        .arg(addr.to_string())
        .arg(here().join("php/router.php"))
        .env("AWAY_URL", away)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start `{php}` ({err}): install Debian's php-cli (./scripts/test-all does)"
            )
        });
    wait_until_listening(&mut child, addr, "php -S");
    Backend {
        child,
        addr,
        _scratch: Some(scratch),
    }
}

/// `flask_app.py` under the Python of `PROXY_TEST_PYTHON`, else `target/pyenv` (which
/// ./scripts/test-all makes, with Flask).
pub fn flask() -> Backend {
    let python = std::env::var("PROXY_TEST_PYTHON").unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/pyenv/bin/python")
            .display()
            .to_string()
    });
    let addr = free_port();
    let mut child = Command::new(&python)
        .arg(here().join("flask_app.py"))
        .arg(addr.port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start `{python}` ({err}): make a venv with Flask \
                 (`python3 -m venv target/pyenv && target/pyenv/bin/pip install flask`, as \
                 ./scripts/test-all does) or set PROXY_TEST_PYTHON"
            )
        });
    wait_until_listening(&mut child, addr, "the Flask app");
    Backend {
        child,
        addr,
        _scratch: None,
    }
}
