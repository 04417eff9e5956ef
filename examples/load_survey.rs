//! A bounded load test of the survey demo: visitors that follow their tokens through every step
//! (step 1, then POSTs to step 2, step 3 and the summary, each carrying the token the last
//! page put in its form), with the server's memory sampled every second.
//!
//! ```text
//! ./scripts/load-survey-flow            # builds and starts the demo, runs this for 60 s
//! cargo run --release --example load_survey -- ADDR SECONDS CONNECTIONS SERVER_PID
//! ```
//!
//! Std only (threads and blocking sockets, HTTP/1.1 keep-alive): nothing to install.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

struct Counts {
    requests: AtomicU64,
    visits: AtomicU64,
    errors: AtomicU64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: load_survey ADDR SECONDS CONNECTIONS SERVER_PID";
    let addr: SocketAddr = args.get(1).expect(usage).parse().expect("ADDR: host:port");
    let seconds: u64 = args.get(2).expect(usage).parse().expect("SECONDS");
    let connections: usize = args.get(3).expect(usage).parse().expect("CONNECTIONS");
    let pid: u32 = args.get(4).expect(usage).parse().expect("SERVER_PID");

    let counts = Arc::new(Counts {
        requests: AtomicU64::new(0),
        visits: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let rss_start = rss_kib(pid);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|n| {
            let (counts, stop) = (Arc::clone(&counts), Arc::clone(&stop));
            std::thread::spawn(move || visitor_loop(addr, n, &counts, &stop))
        })
        .collect();
    let mut samples = Vec::new();
    for second in 1..=seconds {
        std::thread::sleep(Duration::from_secs(second).saturating_sub(started.elapsed()));
        samples.push(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a visitor thread panicked");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = counts.requests.load(Ordering::Relaxed);
    println!("duration: {elapsed:.1} s, {connections} connections");
    println!(
        "requests: {requests} ({:.0}/s); visits completed: {}; errors: {}",
        requests as f64 / elapsed,
        counts.visits.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed)
    );
    println!(
        "server RSS: {rss_start} KiB at start, {} KiB at the end, {} KiB at most",
        samples.last().copied().unwrap_or(rss_start),
        samples.iter().copied().max().unwrap_or(rss_start)
    );
    println!("RSS each second (KiB): {samples:?}");
}

/// Visit after visit until told to stop; a failed step counts an error and starts over.
fn visitor_loop(addr: SocketAddr, n: usize, counts: &Counts, stop: &AtomicBool) {
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut visit = 0u64;
    while !stop.load(Ordering::Relaxed) {
        visit += 1;
        let name = format!("visitor-{n}-{visit}");
        match one_visit(addr, &mut conn, &name, counts) {
            Ok(()) => {
                counts.visits.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => {
                counts.errors.fetch_add(1, Ordering::Relaxed);
                if counts.errors.load(Ordering::Relaxed) <= 5 {
                    eprintln!("visit failed: {err}");
                }
                conn = None;
            }
        }
    }
}

fn one_visit(
    addr: SocketAddr,
    conn: &mut Option<BufReader<TcpStream>>,
    name: &str,
    counts: &Counts,
) -> Result<(), String> {
    let mut send = |method: &str, path: &str, form: Option<&str>| {
        counts.requests.fetch_add(1, Ordering::Relaxed);
        exchange(addr, conn, method, path, form)
    };
    send("GET", "/survey/", None)?;
    let step2 = send("POST", "/survey/step/2", Some(&format!("name={name}")))?;
    let token = hidden_token(&step2).ok_or("step 2 has no token in its form")?;
    let step3 = send(
        "POST",
        "/survey/step/3",
        Some(&format!("sessionid={token}&colour=blue")),
    )?;
    let token = hidden_token(&step3).ok_or("step 3 has no token in its form")?;
    let summary = send(
        "POST",
        "/survey/summary",
        Some(&format!("sessionid={token}&comments=fine")),
    )?;
    if !summary.contains(name) {
        return Err("the summary lost the visitor's answers".to_owned());
    }
    Ok(())
}

/// The value of the first `name="sessionid"` input of a page.
fn hidden_token(page: &str) -> Option<&str> {
    let at = page.find(r#"name="sessionid" value=""#)? + r#"name="sessionid" value=""#.len();
    page[at..].split('"').next()
}

/// One request on the kept-alive connection (opened when there is none); the body of a 200.
fn exchange(
    addr: SocketAddr,
    conn: &mut Option<BufReader<TcpStream>>,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> Result<String, String> {
    if conn.is_none() {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        *conn = Some(BufReader::new(stream));
    }
    let reader = conn.as_mut().expect("just connected");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: load-survey\r\nOrigin: http://{addr}\r\n"
    );
    if let Some(form) = form {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(form.unwrap_or(""));
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;

    let mut status = String::new();
    reader
        .read_line(&mut status)
        .map_err(|e| format!("read: {e}"))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse::<usize>().ok();
        }
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length.unwrap_or(0)];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
        body
    };
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("{method} {path}: {}", status.trim_end()));
    }
    String::from_utf8(body).map_err(|_| "a body that is not UTF-8".to_owned())
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// The server's resident memory, from `/proc/PID/status`.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
