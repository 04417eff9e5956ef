//! Turns the last `cargo bench` run (criterion's `target/criterion`) into the Markdown tables
//! of BENCHMARKS.md and the chart `docs/rewrite-throughput.svg`. Every ratio is between two
//! figures of that one run.
//!
//! ```text
//! BENCH_CORPUS_DIR=../shared/corpus cargo bench
//! cargo run --example bench_report > target/bench-tables.md
//! ```

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use serde_json::Value;

/// PHP 8.2's trans_sid rewriter on the corpus pages on the reference machine (MB/s, from the
/// project's design notes; not measured by this run).
const PHP: [(&str, f64); 3] = [
    ("cloudflare.com", 880.0),
    ("ecma402-spec", 610.0),
    ("html-parsing-spec", 480.0),
];

/// One benchmark: its median time (ns) and bytes per iteration, if any.
struct Figure {
    median_ns: f64,
    bytes: Option<f64>,
}

impl Figure {
    fn mb_per_s(&self) -> f64 {
        self.bytes.unwrap_or(0.0) / self.median_ns * 1e3
    }
}

type Figures = BTreeMap<(String, String, String), Figure>;

fn read(root: &Path) -> Result<Figures, String> {
    let mut figures = Figures::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e} (run cargo bench first)", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.ends_with("new/benchmark.json") {
                let json = |p: &Path| -> Result<Value, String> {
                    let text =
                        std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
                };
                let bench = json(&path)?;
                let estimates = json(&path.with_file_name("estimates.json"))?;
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                let key = (
                    text(&bench["group_id"]),
                    text(&bench["function_id"]),
                    text(&bench["value_str"]),
                );
                let bytes = bench["throughput"]
                    .as_object()
                    .and_then(|t| t.values().next())
                    .and_then(Value::as_f64);
                let median_ns = estimates["median"]["point_estimate"]
                    .as_f64()
                    .ok_or_else(|| format!("{}: no median", path.display()))?;
                figures.insert(key, Figure { median_ns, bytes });
            }
        }
    }
    Ok(figures)
}

fn get<'a>(figures: &'a Figures, group: &str, function: &str, value: &str) -> Option<&'a Figure> {
    figures.get(&(group.to_owned(), function.to_owned(), value.to_owned()))
}

fn rewrite_table(figures: &Figures, pages: &[String], out: &mut String) {
    out.push_str(
        "| page | chunks | lol_html, no handlers | lol_html, no-op (forms) | cookieless, forms | ratio | \
         lol_html, no-op (forms+links) | cookieless, forms+links | ratio | PHP trans_sid (reference) | \
         cookieless forms+links / PHP |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for page in pages {
        let group = format!("rewrite/{page}");
        for chunk in ["1KiB", "16KiB"] {
            let mbs = |f: &str| get(figures, &group, f, chunk).map_or(f64::NAN, Figure::mb_per_s);
            let (bare, noop_f, ours_f, noop_l, ours_l) = (
                mbs("lol_html no handlers"),
                mbs("lol_html no-op forms"),
                mbs("cookieless forms"),
                mbs("lol_html no-op forms+links"),
                mbs("cookieless forms+links"),
            );
            let php = PHP.iter().find(|(p, _)| p == page).map(|(_, v)| *v);
            let php_cells = php.map_or("| | ".to_owned(), |php| {
                format!("| {php:.0} | {:.2}x ", ours_l / php)
            });
            let _ = writeln!(
                out,
                "| {page} | {chunk} | {bare:.0} | {noop_f:.0} | {ours_f:.0} | **{:.2}x** | {noop_l:.0} | \
                 {ours_l:.0} | **{:.2}x** {php_cells}|",
                ours_f / noop_f,
                ours_l / noop_l,
            );
        }
    }
}

/// One group's figures, the baseline first; `speed` compares per-second rates (higher is
/// better), otherwise times (how many baselines each one costs).
fn simple_table(figures: &Figures, group: &str, baseline: &str, speed: bool, out: &mut String) {
    let rows: Vec<(&str, f64)> = figures
        .iter()
        .filter(|((g, _, _), _)| g == group)
        .map(|((_, f, _), fig)| (f.as_str(), fig.median_ns))
        .collect();
    let Some(&(_, base)) = rows.iter().find(|(f, _)| *f == baseline) else {
        return;
    };
    let header = if speed {
        "per second, ratio"
    } else {
        "time, ratio"
    };
    let _ = writeln!(
        out,
        "| {group} | median | per second | {header} to \"{baseline}\" |\n|---|---:|---:|---:|"
    );
    let ordered = rows
        .iter()
        .filter(|(f, _)| *f == baseline)
        .chain(rows.iter().filter(|(f, _)| *f != baseline));
    for (function, ns) in ordered {
        let ratio = if speed { base / ns } else { ns / base };
        let _ = writeln!(
            out,
            "| {function} | {:.2} µs | {:.0} | {ratio:.2}x |",
            ns / 1e3,
            1e9 / ns
        );
    }
}

/// Grouped horizontal bars: MB/s in 16 KiB chunks, per page.
fn chart(figures: &Figures, pages: &[String]) -> String {
    let series: [(&str, &str, Option<&str>); 5] = [
        (
            "lol_html, no handlers",
            "#b0b0b0",
            Some("lol_html no handlers"),
        ),
        (
            "lol_html, no-op handlers (forms+links)",
            "#7aa6c2",
            Some("lol_html no-op forms+links"),
        ),
        (
            "actix-cookieless, forms+links",
            "#d9822b",
            Some("cookieless forms+links"),
        ),
        (
            "actix-cookieless, forms",
            "#f0b878",
            Some("cookieless forms"),
        ),
        ("PHP trans_sid (reference figure)", "#6a4c93", None),
    ];
    let value = |page: &str, bench: Option<&str>| match bench {
        Some(f) => get(figures, &format!("rewrite/{page}"), f, "16KiB").map(Figure::mb_per_s),
        None => PHP.iter().find(|(p, _)| *p == page).map(|(_, v)| *v),
    };
    let max = pages
        .iter()
        .flat_map(|p| series.iter().filter_map(|s| value(p, s.2)))
        .fold(1.0_f64, f64::max);
    let (left, width, bar, gap) = (150.0, 560.0, 14.0, 18.0);
    let group_h = bar * series.len() as f64 + gap;
    let height = 60.0 + group_h * pages.len() as f64 + 20.0 * series.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">HTML rewrite throughput, MB/s (16 KiB chunks, median of one run)</text>\n",
        w = left + width + 80.0
    );
    for (i, page) in pages.iter().enumerate() {
        let top = 40.0 + group_h * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{:.1}\">{page}</text>",
            top + bar * series.len() as f64 / 2.0 + 4.0
        );
        for (j, (_, colour, bench)) in series.iter().enumerate() {
            let Some(v) = value(page, *bench) else {
                continue;
            };
            let y = top + bar * j as f64;
            let w = v / max * width;
            let _ = writeln!(
                svg,
                "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{v:.0}</text>",
                bar - 2.0,
                left + w + 4.0,
                y + bar - 4.0
            );
        }
    }
    let legend_top = 50.0 + group_h * pages.len() as f64;
    for (j, (label, colour, _)) in series.iter().enumerate() {
        let y = legend_top + 20.0 * j as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{left}\" y=\"{y:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{label}</text>",
            left + 18.0,
            y + 10.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn main() -> Result<(), String> {
    let figures = read(Path::new("target/criterion"))?;
    let mut pages: Vec<String> = figures
        .keys()
        .filter_map(|(g, _, _)| g.strip_prefix("rewrite/").map(str::to_owned))
        .collect();
    pages.dedup();
    // The generated page first, then the corpus in name order.
    pages.sort_by_key(|p| (p != "generated", p.clone()));

    let mut out = String::new();
    out.push_str("### Rewrite throughput (MB/s)\n\n");
    rewrite_table(&figures, &pages, &mut out);
    out.push_str("\n### Token\n\n");
    simple_table(&figures, "token", "baseline/sha256_1k", false, &mut out);
    out.push_str("\n### Middleware, in-process\n\n");
    simple_table(
        &figures,
        "middleware/50KB page",
        "without middleware",
        true,
        &mut out,
    );
    print!("{out}");

    std::fs::create_dir_all("docs").map_err(|e| format!("docs/: {e}"))?;
    std::fs::write("docs/rewrite-throughput.svg", chart(&figures, &pages))
        .map_err(|e| format!("docs/rewrite-throughput.svg: {e}"))?;
    eprintln!("wrote docs/rewrite-throughput.svg");
    Ok(())
}
