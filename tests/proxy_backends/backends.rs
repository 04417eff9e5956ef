//! The real backends the proxy tests run against: PHP's built-in server, a Flask app and a
//! Django app under gunicorn, each a child process on a free loopback port, stopped when
//! dropped. A missing PHP or Python (with Flask, Django, gunicorn) fails the test, saying what
//! to install; nothing is skipped.

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
    python_app("flask_app.py", &[], None, "the Flask app")
}

/// How the Django app keeps its sessions.
#[derive(Clone, Copy, Debug)]
pub enum DjangoSessions {
    /// `django.contrib.sessions.backends.db`, Django's default: the cookie holds a key.
    Database,
    /// `signed_cookies`: the cookie holds the session itself.
    SignedCookies,
}

/// `django_app.py` under gunicorn (16 threads), its SQLite database and the log of what it
/// received in a scratch directory of its own.
pub fn django(sessions: DjangoSessions) -> Backend {
    let scratch = std::env::temp_dir().join(format!(
        "cookieless-django-{}-{}",
        std::process::id(),
        free_port().port()
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    let engine = match sessions {
        DjangoSessions::Database => "db",
        DjangoSessions::SignedCookies => "signed_cookies",
    };
    let dir = scratch.display().to_string();
    python_app(
        "django_app.py",
        &[&dir, engine],
        Some(scratch),
        "the Django app",
    )
}

impl Backend {
    /// Checks that the Django app never received any of `tokens`, nor a field, parameter or
    /// header named `param` or `X-Session-ID`, in what its middleware recorded (path and query,
    /// headers with `Referer`, body) and in gunicorn's access log.
    pub fn assert_django_never_received(&self, param: &str, tokens: &[String]) {
        let (requests, access_log) = self.django_received();
        assert!(
            !requests.is_empty(),
            "the recording middleware wrote nothing"
        );
        for request in &requests {
            let text = request.to_string();
            assert!(
                !text.contains(param) && !text.contains("HTTP_X_SESSION_ID"),
                "Django received the token's name: {text}"
            );
            for token in tokens {
                assert!(!text.contains(token), "Django received a token: {text}");
            }
        }
        for token in tokens {
            assert!(
                !access_log.contains(token),
                "gunicorn's access log holds a token"
            );
        }
        assert!(!access_log.contains(param), "{access_log}");
    }

    /// Every request the Django app received (path and query, `HTTP_*` headers, body), in
    /// order, as its recording middleware wrote them; and gunicorn's access log.
    pub fn django_received(&self) -> (Vec<serde_json::Value>, String) {
        let dir = self
            ._scratch
            .as_ref()
            .expect("the Django app's scratch directory");
        let requests = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap_or_default();
        let requests = requests
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        let access = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
        (requests, access)
    }
}

/// `script` with `args` after its port, under the Python of `PROXY_TEST_PYTHON`, else
/// `target/pyenv` (which ./scripts/test-all makes, with Flask, Django and gunicorn).
fn python_app(script: &str, args: &[&str], scratch: Option<PathBuf>, what: &str) -> Backend {
    let python = std::env::var("PROXY_TEST_PYTHON").unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/pyenv/bin/python")
            .display()
            .to_string()
    });
    let addr = free_port();
    let mut child = Command::new(&python)
        .arg(here().join(script))
        .arg(addr.port().to_string())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start `{python}` ({err}): make a venv with Flask, Django and gunicorn \
                 (`python3 -m venv target/pyenv && target/pyenv/bin/pip install flask django \
                 gunicorn`, as ./scripts/test-all does) or set PROXY_TEST_PYTHON"
            )
        });
    wait_until_listening(&mut child, addr, what);
    Backend {
        child,
        addr,
        _scratch: scratch,
    }
}
