//! Recorded sessions: every shell session the book shows is the output of
//! a script in `book/sessions/`, recorded into `book/sessions/<name>.txt`,
//! which the pages include piece by piece (`{{#include ../sessions/x.txt:part}}`).
//!
//! `cargo xtask sessions` runs every script again against the real system
//! and compares what it prints with the recording, after normalising what
//! changes from run to run (times, ids, tokens, durations, ephemeral ports,
//! the order of lines printed at the same moment). `--update` re-records.
//! A session the check cannot run says so on its page and is listed as
//! skipped by name (see [`skipped_sessions`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use regex::Regex;

/// A session that takes longer has hung.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Directory of the scripts and recordings.
pub const SESSIONS_DIR: &str = "book/sessions";

/// `cargo xtask sessions [--update] [name ...]`.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let update = args.iter().any(|a| a == "--update");
    let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let scripts = discover(root)?;
    let bin_dir = build_binaries(root)?;
    let mut problems = Vec::new();
    let mut ran = 0;
    for script in &scripts {
        let name = session_name(script);
        if !wanted.is_empty() && !wanted.iter().any(|w| **w == name) {
            continue;
        }
        ran += 1;
        let started = Instant::now();
        let fresh = record(root, script, &name, &bin_dir)?;
        let recording = script.with_extension("txt");
        if update {
            fs::write(&recording, &fresh)
                .with_context(|| format!("cannot write {}", recording.display()))?;
            println!("session {name}: re-recorded in {:.1?}", started.elapsed());
            continue;
        }
        let recorded = fs::read_to_string(&recording).unwrap_or_default();
        match first_difference(&recorded, &fresh) {
            None => println!(
                "session {name}: matches its recording ({:.1?})",
                started.elapsed()
            ),
            Some(difference) => {
                let kept = root
                    .join("target/sessions")
                    .join(format!("{name}.fresh.txt"));
                fs::write(&kept, &fresh).ok();
                problems.push(format!(
                    "session {name} no longer matches {}:\n{difference}\n    \
                     this run's output: {}\n    \
                     re-record it with `cargo xtask sessions --update {name}` if the change is intended",
                    recording.strip_prefix(root).unwrap_or(&recording).display(),
                    kept.display()
                ));
            }
        }
    }
    if !wanted.is_empty() && ran < wanted.len() {
        bail!("no such session among {}", names(&scripts).join(", "));
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    if update {
        // The Chinese catalog shows recordings verbatim: bring it along.
        return crate::i18n::run(root, &["update".to_owned()]);
    }
    println!("sessions: {ran} re-run, every one matches what the book shows");
    Ok(())
}

/// Builds what the tests build, the way the tests step builds it (the
/// whole workspace but the exercises), and returns where the binaries
/// are: the sessions' `cargo run` runs those (see `book/sessions/lib.sh`).
fn build_binaries(root: &Path) -> anyhow::Result<PathBuf> {
    let mut command = Command::new("cargo");
    command.args(["test", "--workspace", "--no-run", "--quiet"]);
    for exercise in crate::exercises::discover(root)? {
        command.args(["--exclude", &exercise.package]);
    }
    let status = command.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("building the binaries the sessions run failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    Ok(target.join("debug"))
}

/// `book/sessions/*.sh` except the shared library, sorted.
pub fn discover(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = root.join(SESSIONS_DIR);
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sh"))
        .filter(|path| path.file_stem().is_some_and(|stem| stem != "lib"))
        .collect();
    scripts.sort();
    Ok(scripts)
}

fn session_name(script: &Path) -> String {
    script
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn names(scripts: &[PathBuf]) -> Vec<String> {
    scripts.iter().map(|s| session_name(s)).collect()
}

/// Runs one script in a fresh directory under `target/sessions/` and
/// returns what it printed.
fn record(root: &Path, script: &Path, name: &str, bin_dir: &Path) -> anyhow::Result<String> {
    let work = root.join("target/sessions").join(name);
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("cannot clear {}", work.display()))?;
    }
    fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let lib = root.join(SESSIONS_DIR).join("lib.sh");
    let script_text =
        fs::read_to_string(script).with_context(|| format!("cannot read {}", script.display()))?;
    let program = format!("source '{}'\n{script_text}", lib.display());
    let stdout_file = work.join("stdout.txt");
    let stderr_file = work.join("stderr.txt");
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg("-c")
            .arg(&program)
            .current_dir(&work)
            .env("SESSION_LOGS", work.join("logs"))
            .env("SESSION_BIN_DIR", bin_dir)
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
            .env_remove("LOG_FORMAT")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout_file)?)
            .stderr(fs::File::create(&stderr_file)?)
            .process_group(0)
            .spawn()
            .context("cannot run bash")?
    };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            bail!(
                "session {name} ran past {TIMEOUT:?}; its output so far is in {}",
                stdout_file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = fs::read_to_string(&stdout_file).unwrap_or_default();
    if !status.success() {
        let errors = fs::read_to_string(&stderr_file).unwrap_or_default();
        bail!("session {name} failed ({status}):\n{errors}\noutput so far:\n{output}");
    }
    Ok(output)
}

/// Where two recordings differ once normalised, shown as a few lines of
/// each; `None` when they agree.
fn first_difference(recorded: &str, fresh: &str) -> Option<String> {
    let recorded = normalise(recorded);
    let fresh = normalise(fresh);
    if recorded == fresh {
        return None;
    }
    let at = recorded
        .iter()
        .zip(&fresh)
        .position(|(a, b)| a != b)
        .unwrap_or(recorded.len().min(fresh.len()));
    let excerpt = |lines: &[String]| {
        lines
            .iter()
            .enumerate()
            .skip(at.saturating_sub(1))
            .take(4)
            .map(|(i, line)| format!("      {:>4} | {line}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(format!(
        "    the book shows (normalised):\n{}\n    this run printed (normalised):\n{}",
        excerpt(&recorded),
        excerpt(&fresh)
    ))
}

static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // 2026-12-01T21:46:52.766164Z, with or without fraction or zone
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
            "<time>",
        ),
        // HTTP dates: Tue, 01 Dec 2026 21:46:55 GMT
        (
            r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
            "<date>",
        ),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uuid>",
        ),
        // event ids: 54ba49ecf90459fbbbb6b15d4fd93bf9
        (r"\b[0-9a-f]{32}\b", "<hex-id>"),
        (
            r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
            "<jwt>",
        ),
        // instance ids: orders-8003-6a650796
        (r"\b([a-z]+-\d{2,5})-[0-9a-f]{8}\b", "$1-<id>"),
        // durations: 1.2ms, 350µs, 2.5 s, 12.0s
        (r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b", "<duration>"),
        // ports the system picked (127.0.0.1:0)
        (
            r"\b(127\.0\.0\.1|localhost):(3[3-9]\d{3}|[4-6]\d{4})\b",
            "$1:<port>",
        ),
    ]
    .into_iter()
    .map(|(pattern, replacement)| {
        (
            Regex::new(pattern).unwrap_or_else(|e| panic!("bad rule {pattern}: {e}")),
            replacement,
        )
    })
    .collect()
});

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(\.\d+)?").unwrap_or_else(|e| panic!("{e}")));

/// The lines of a recording as the comparison sees them: every rule
/// applied, `any-order` regions sorted, numbers in `figures` regions
/// replaced.
fn normalise(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut any_order: Option<Vec<String>> = None;
    let mut in_figures = false;
    for line in text.lines() {
        match line.trim() {
            "ANCHOR: any-order" => {
                any_order = Some(Vec::new());
                continue;
            }
            "ANCHOR_END: any-order" => {
                let mut region = any_order.take().unwrap_or_default();
                region.sort();
                lines.extend(region);
                continue;
            }
            "ANCHOR: figures" => {
                in_figures = true;
                continue;
            }
            "ANCHOR_END: figures" => {
                in_figures = false;
                continue;
            }
            _ => {}
        }
        let mut line = line.trim_end().to_owned();
        for (rule, replacement) in RULES.iter() {
            line = rule.replace_all(&line, *replacement).into_owned();
        }
        if in_figures {
            line = NUMBER.replace_all(&line, "<n>").into_owned();
        }
        match any_order.as_mut() {
            Some(region) => region.push(line),
            None => lines.push(line),
        }
    }
    lines
}

/// A session shown in the book that the check does not re-run: the page
/// says so in a note directly above it,
/// ``*Session `name`, recorded once and not re-run by CI: why.*``.
#[derive(Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

static SKIP_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\*Session `([a-z0-9-]+)`, recorded once and not re-run by CI: (.+)\.\*$")
        .unwrap_or_else(|e| panic!("{e}"))
});

/// Problems with the sessions on one page: a session (a console block that
/// shows output, or a log) that is neither included from a recording nor
/// marked as skipped. Returns the skipped ones too.
pub fn page_sessions(text: &str) -> (Vec<(usize, String)>, Vec<Skipped>) {
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        let fence = lines[index].trim_start();
        let Some(info) = fence.strip_prefix("```") else {
            index += 1;
            continue;
        };
        let language = info.split([',', ' ']).next().unwrap_or_default().to_owned();
        let start = index;
        index += 1;
        let mut body = Vec::new();
        while index < lines.len() && !lines[index].trim_start().starts_with("```") {
            body.push(lines[index]);
            index += 1;
        }
        index += 1;
        if !shows_a_session(&language, &body) {
            continue;
        }
        let recorded = body.iter().all(|line| {
            line.trim().is_empty() || line.contains("{{#include") && line.contains("sessions/")
        });
        if recorded {
            continue;
        }
        let note = lines[..start]
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .and_then(|line| SKIP_NOTE.captures(line.trim()));
        match note {
            Some(captures) => skipped.push(Skipped {
                name: captures[1].to_owned(),
                reason: captures[2].to_owned(),
            }),
            None => problems.push((
                start + 1,
                "a shell session that is not recorded: include it from book/sessions/ \
                 (a script `cargo xtask sessions` re-runs), or put \
                 ``*Session `name`, recorded once and not re-run by CI: why.*`` above it"
                    .to_owned(),
            )),
        }
    }
    (problems, skipped)
}

static LOG_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}").unwrap_or_else(|e| panic!("{e}"))
});

/// A console block that shows output (not only commands to type), or a
/// text block of log lines.
fn shows_a_session(language: &str, body: &[&str]) -> bool {
    match language {
        "console" => {
            let mut continued = false;
            body.iter().any(|line| {
                let trimmed = line.trim();
                let is_command = continued || trimmed.starts_with("$ ") || trimmed.starts_with('#');
                continued = trimmed.ends_with('\\');
                let is_recording = trimmed.contains("{{#include") && trimmed.contains("sessions/");
                let is_output =
                    !trimmed.is_empty() && !is_command && !trimmed.contains("{{#include");
                is_output || is_recording
            })
        }
        "text" => body.iter().any(|line| LOG_TIME.is_match(line)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_changes_between_runs_is_normalised() {
        let a = "[orders] 2026-12-01T21:46:53.329730Z INFO registered instance_id=orders-8003-6a650796\n\
                 {\"token\":\"eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl\",\"id\":\"0b9c3c8e-4f7a-4c1e-9a53-2f0c1d7e8a90\"}\n\
                 took 1.25ms on 127.0.0.1:41234";
        let b = "[orders] 2026-12-02T08:00:00.000001Z INFO registered instance_id=orders-8003-0badf00d\n\
                 {\"token\":\"eyJxxx.eyJyyy.zzz\",\"id\":\"11111111-2222-4333-8444-555555555555\"}\n\
                 took 900µs on 127.0.0.1:52000";
        assert_eq!(first_difference(a, b), None);
        assert!(first_difference(a, &b.replace("INFO", "WARN")).is_some());
        // Fixed ports are part of what the book promises.
        assert!(first_difference("127.0.0.1:8003", "127.0.0.1:8004").is_some());
    }

    #[test]
    fn any_order_regions_compare_as_sets() {
        let a = "start\nANCHOR: any-order\nx\ny\nANCHOR_END: any-order\nend";
        let b = "start\nANCHOR: any-order\ny\nx\nANCHOR_END: any-order\nend";
        assert_eq!(first_difference(a, b), None);
        assert!(first_difference(a, "start\nx\ny\nend\n").is_none());
        assert!(first_difference(a, &b.replace("end", "fin")).is_some());
    }

    #[test]
    fn figures_regions_compare_numbers_as_numbers() {
        let a = "ANCHOR: figures\nRequests/sec: 15225.31\nANCHOR_END: figures";
        let b = "ANCHOR: figures\nRequests/sec: 9986.02\nANCHOR_END: figures";
        assert_eq!(first_difference(a, b), None);
        assert!(first_difference("Requests/sec: 1", "Requests/sec: 2").is_some());
    }

    #[test]
    fn an_edited_recording_is_caught() {
        let recorded = "$ curl -s localhost:8003/v1/orders/1\n{\"status\":\"confirmed\"}\n";
        let edited = recorded.replace("confirmed", "cancelled");
        let difference = first_difference(&edited, recorded).unwrap();
        assert!(difference.contains("cancelled") && difference.contains("confirmed"));
    }

    #[test]
    fn unrecorded_sessions_are_found_and_skips_named() {
        let page = "Type:\n\n```console\n$ cargo run -p bookshop\n```\n\n\
                    ```console\n{{#include ../sessions/ch06-run-it.txt:registry}}\n```\n\n\
                    ```console\n$ curl -s localhost:8002/v1/books/1\n{\"id\":1}\n```\n\n\
                    *Session `ch02-docker`, recorded once and not re-run by CI: it needs Docker.*\n\n\
                    ```console\n$ docker run x\nhello\n```\n\n\
                    ```text\n2026-12-01T21:46:52.766164Z  INFO listening\n```\n";
        let (problems, skipped) = page_sessions(page);
        let lines: Vec<usize> = problems.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![11, 23]);
        assert_eq!(
            skipped,
            vec![Skipped {
                name: "ch02-docker".to_owned(),
                reason: "it needs Docker".to_owned()
            }]
        );
    }
}
