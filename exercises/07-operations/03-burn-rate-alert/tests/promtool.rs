//! `RULES` written to a file and checked by Prometheus's own `promtool`:
//! first that Prometheus would load it, then against made-up series, one
//! sample a minute, in `alerts.test.yml` beside this file.

use std::path::Path;
use std::process::Command;

use ex07_burn_rate_alert::RULES;

/// Runs `promtool` with `args` in a directory holding `alerts.yml` (the
/// exercise's rules) and the tests; its output on failure.
fn promtool(args: &[&str]) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alerts.yml"), RULES).unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alerts.test.yml");
    std::fs::copy(tests, dir.path().join("alerts.test.yml")).unwrap();
    let output = Command::new("promtool")
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|err| {
            panic!("promtool: {err} (it comes with Prometheus: `apt install prometheus`)")
        });
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

#[test]
fn prometheus_can_load_the_rules() {
    if let Err(problems) = promtool(&["check", "rules", "alerts.yml"]) {
        panic!("{problems}");
    }
}

#[test]
fn the_alerts_fire_when_they_should_and_only_then() {
    if let Err(problems) = promtool(&["test", "rules", "alerts.test.yml"]) {
        panic!("{problems}");
    }
}
