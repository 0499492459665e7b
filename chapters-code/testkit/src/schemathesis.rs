//! Schemathesis (PyPI) against a running service's OpenAPI document: it
//! generates requests from the document, sends them, and checks every
//! answer. Install it with `pip install schemathesis==4.32.5` (`.ci/run`
//! does), or set `SCHEMATHESIS` to the `st` program.

use tokio::process::Command;

/// Every check schemathesis has: besides the answers' conformance, that
/// every request the document allows is accepted, every request it
/// forbids is refused, and operations that ask who calls refuse a request
/// without the caller. The document must say exactly what the code does.
pub const CHECKS: &str = "all";

/// Runs `st run` against `document_url`, sending `headers` (`name: value`)
/// with every request. Panics with schemathesis' report when a check
/// fails; returns the summary line otherwise.
pub async fn check(service: &str, document_url: &str, headers: &[&str]) -> String {
    let program = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "st".to_owned());
    let output = Command::new(&program)
        .args(["run", document_url, "--checks", CHECKS])
        .args(headers.iter().flat_map(|header| ["--header", header]))
        .args(["--max-examples", "25", "--seed", "5", "--no-color"])
        .output()
        .await
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `{program}` ({err}): install schemathesis with \
                 `pip install schemathesis==4.32.5`, or set SCHEMATHESIS to its path"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems in {service}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout
        .lines()
        .map(str::trim)
        .find(|line| line.contains(" generated, "))
        .unwrap_or("(no summary line)")
        .to_owned();
    assert!(summary.contains("passed"), "{service}: {summary}");
    summary
}

/// Compares a generated OpenAPI document (pretty JSON) with the file
/// checked in at `path`. With `UPDATE_CONTRACTS=1` it writes the file
/// instead: review the diff and commit it, as any other change.
pub fn assert_checked_in(service: &str, path: &std::path::Path, generated: &str) {
    if std::env::var_os("UPDATE_CONTRACTS").is_some() {
        if let Err(err) = std::fs::write(path, generated) {
            panic!("cannot write {}: {err}", path.display());
        }
        return;
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "the {service} API changed but {} did not. If the change is meant, run the \
         test again with UPDATE_CONTRACTS=1 and commit the diff",
        path.display()
    );
}
