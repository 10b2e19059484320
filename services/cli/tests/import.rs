//! `norikae import` and `norikae snapshot-info` as an operator (and the load-test scripts) run
//! them: the binary, its exit code and the summary lines scripts read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn norikae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_norikae")).args(args).output().expect("norikae runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 output")
}

fn fukuoka_feed() -> String {
    let zip = norikae_timetable::bundled::repo_feeds_dir()
        .join("fukuoka_subway/FukuokaCitySubway-20190316.zip");
    format!("fukuoka={}", zip.display())
}

/// The one line of `text` starting with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    let mut found = text.lines().filter(|line| line.starts_with(prefix));
    let first = found.next().unwrap_or_else(|| panic!("no line `{prefix}…` in:\n{text}"));
    assert!(found.next().is_none(), "two lines `{prefix}…` in:\n{text}");
    first
}

/// The number after `before` in `text` (digits and a decimal point).
fn number_after(text: &str, before: &str) -> f64 {
    let rest = &text
        [text.find(before).unwrap_or_else(|| panic!("`{before}` in `{text}`")) + before.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.parse().unwrap_or_else(|_| panic!("a number after `{before}` in `{text}`"))
}

fn import_into(out: &Path, extra: &[&str]) -> Output {
    let feed = fukuoka_feed();
    let out = out.to_str().expect("utf-8 path");
    let mut args = vec!["import", "--quiet", &feed, "--out", out];
    args.extend_from_slice(extra);
    norikae(&args)
}

#[test]
fn import_prints_its_summary_and_snapshot_info_reads_the_file_back() {
    let directory = tempfile::tempdir().expect("temp dir");
    let imported = import_into(directory.path(), &[]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(stderr(&imported), "", "--quiet draws no bars");
    let summary = stdout(&imported);

    // The lines in the order an operator reads them.
    let order = [
        "network: ",
        "  feed fukuoka ",
        "total: ",
        "transfer rules: ",
        "warnings: ",
        "import: ",
        "snapshot: ",
    ];
    let positions: Vec<Option<usize>> = order
        .iter()
        .map(|prefix| summary.lines().position(|line| line.starts_with(prefix)))
        .collect();
    assert_eq!(positions[0], Some(0), "{summary}");
    assert!(
        positions.windows(2).all(|pair| pair[0].is_some() && pair[0] < pair[1]),
        "order {order:?} in:\n{summary}"
    );

    assert!(
        line(&summary, "network: ").starts_with("network: time zone Asia/Tokyo, service days "),
        "{summary}"
    );
    let feed = line(&summary, "  feed fukuoka ");
    assert!(feed.contains(" 1 agencies, ") && feed.contains(" stop times, "), "{feed}");
    assert!(feed.ends_with("FukuokaCitySubway-20190316.zip)"), "{feed}");
    let total = line(&summary, "total: ");
    assert!(total.starts_with("total: 1 agencies, ") && total.ends_with(" fares"), "{total}");
    let rules = line(&summary, "transfer rules: ");
    assert!(
        rules.contains(" naming trips (") && rules.ends_with(" without effect (type 5)"),
        "{rules}"
    );
    let warnings = number_after(line(&summary, "warnings: "), "warnings: ");
    let kinds = summary.lines().filter(|line| {
        line.starts_with("  ") && !line.starts_with("  feed ") && !line.starts_with("      e.g. ")
    });
    let counted: f64 = kinds.map(|kind| number_after(kind, ": ")).sum();
    assert!((counted - warnings).abs() < 0.5, "warnings by kind add up to the total:\n{summary}");
    let timing = line(&summary, "import: ");
    assert!(timing.contains(" s (parse ") && timing.contains(" s, walking "), "{timing}");
    assert!(number_after(timing, "peak RSS ") > 0.0, "{timing}");

    let snapshot = directory.path().join("timetable.snapshot");
    let written = line(&summary, "snapshot: ");
    assert!(written.starts_with(&format!("snapshot: {} (", snapshot.display())), "{written}");
    let hash = written.rsplit("hash ").next().expect("hash").trim_end_matches(')');
    assert!(!hash.is_empty() && snapshot.is_file(), "{written}");

    // snapshot-info: the same network, the same hash, and the load line the scripts parse.
    for path in [directory.path().to_path_buf(), snapshot.clone()] {
        let info = norikae(&["snapshot-info", path.to_str().expect("utf-8 path")]);
        assert!(info.status.success(), "{}", stderr(&info));
        let text = stdout(&info);
        assert!(
            line(&text, "snapshot: ").starts_with(&format!("snapshot: {} (", snapshot.display()))
        );
        assert!(
            line(&text, "format version ").contains(&format!(", hash {hash}, created ")),
            "{text}"
        );
        assert_eq!(line(&text, "network: "), line(&summary, "network: "));
        assert_eq!(line(&text, "total: "), total);
        let load = line(&text, "load: ");
        assert!(number_after(load, "load: ") < 60.0, "{load}");
        assert!(number_after(load, "after load ") > 0.0, "{load}");
    }
}

#[test]
fn a_failed_import_exits_non_zero_and_keeps_the_snapshot() {
    let directory = tempfile::tempdir().expect("temp dir");
    assert!(import_into(directory.path(), &[]).status.success());
    let snapshot = directory.path().join("timetable.snapshot");
    let before = std::fs::read(&snapshot).expect("snapshot");

    let missing: PathBuf = directory.path().join("missing.zip");
    let out = directory.path().to_str().expect("utf-8 path");
    let failed = norikae(&["import", "--quiet", missing.to_str().expect("utf-8"), "--out", out]);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    let message = stderr(&failed);
    assert!(
        message.contains(&format!(
            "import into {} failed; the existing snapshot (if any) is unchanged",
            snapshot.display()
        )),
        "{message}"
    );
    assert!(message.contains("missing.zip"), "the message names the feed: {message}");
    assert_eq!(std::fs::read(&snapshot).expect("snapshot"), before, "the old snapshot is kept");

    // Bad settings are refused before anything is read, naming the flag.
    let refused = import_into(directory.path(), &["--walk-speed", "0"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--walk-speed must be positive"), "{}", stderr(&refused));
    // A missing --out is clap's usage error (exit code 2).
    let usage = norikae(&["import", &fukuoka_feed()]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));

    let unreadable = norikae(&["snapshot-info", missing.to_str().expect("utf-8")]);
    assert_eq!(unreadable.status.code(), Some(1));
    assert!(stderr(&unreadable).contains("cannot load "), "{}", stderr(&unreadable));
}
