//! Project automation, run as `cargo xtask <command>` (an alias in
//! `.cargo/config.toml`). Plain Rust, so it works wherever cargo does.
//!
//! - `cargo xtask test`: everything CI checks, in order, with timings.
//! - `cargo xtask book [--serve]`: build (or serve) the book.
//! - `cargo xtask check-book`: only the book's rules (includes, listings, sessions marked).
//! - `cargo xtask sessions [--update] [name ...]`: re-run the recorded sessions and compare.
//! - `cargo xtask architecture`: no service uses another service's modules.
//! - `cargo xtask exercises`: every exercise's starter fails, its solution passes.
//! - `cargo xtask learn [list | reset] [--chapter N]`: the workshop runner.
//! - `cargo xtask preflight`: is this machine ready for the workshop?
//! - `cargo xtask performance [--from DIR]`: run every bench, write the appendix.
//! - `cargo xtask i18n <update | check | browser>`: the Chinese edition's catalog.

mod architecture;
mod book;
mod exercises;
mod i18n;
mod links;
mod performance;
mod preflight;
mod sessions;
mod style;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <test | book [--serve] | check-book | sessions [--update] [name ...] | architecture | exercises | learn [list | reset] [--chapter N] | preflight | performance [--from DIR] | i18n <update | check | browser>>";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    match args.first().map(String::as_str) {
        Some("test") => test_all(&root),
        Some("book") => {
            let serve = args.iter().any(|a| a == "--serve");
            book::check_code(&root)?;
            book::build(&root, serve)
        }
        Some("check-book") => book::check_code(&root),
        Some("sessions") => sessions::run(&root, &args[1..]),
        Some("architecture") => architecture::check(&root),
        Some("exercises") => exercises::check_all(&root),
        Some("learn") => exercises::learn(&root, &args[1..]),
        Some("preflight") => preflight::run(),
        Some("performance") => performance::run(&root, &args[1..]),
        Some("i18n") => i18n::run(&root, &args[1..]),
        _ => bail!("{USAGE}"),
    }
}

/// The repository root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// Everything CI checks. Stops at the first failing step.
fn test_all(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    step("format", || run("cargo", &["fmt", "--all", "--check"]))?;
    step("architecture", || architecture::check(root))?;
    step("clippy", || {
        let lint = ["--", "-D", "warnings"];
        run(
            "cargo",
            &[&["clippy", "--workspace", "--all-targets"][..], &lint].concat(),
        )?;
        // Again for the exercises with their solutions compiled in: the
        // `solution` features are the only ones the first pass leaves off
        // (the chapters' own features are on there, through the crates
        // that use them).
        // Over the whole workspace, so features resolve as in the first
        // pass and only the exercise crates are checked again.
        let exercises = exercises::discover(root)?;
        let mut args = vec![
            "clippy".to_owned(),
            "--workspace".to_owned(),
            "--all-targets".to_owned(),
        ];
        let mut features = Vec::new();
        for exercise in &exercises {
            features.push(format!("{}/solution", exercise.package));
        }
        args.extend(["--features".to_owned(), features.join(",")]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run("cargo", &[&args[..], &lint].concat())
    })?;
    step("tests", || run_tests(root))?;
    step("browser tests", || browser_tests(root))?;
    step("exercises, both ways", || exercises::check_all(root))?;
    step("book rules", || book::check_code(root))?;
    step("recorded sessions", || sessions::run(root, &[]))?;
    step("Chinese edition in step", || {
        i18n::run(root, &["check".to_owned()])
    })?;
    step("book build with link check", || book::build(root, false))?;
    step("Chinese pages in a browser", || {
        i18n::check_in_browser(root)
    })?;
    println!("xtask test: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Every test of the workspace except the exercises, whose starters fail
/// on purpose (they have their own step).
fn run_tests(root: &Path) -> anyhow::Result<()> {
    let mut excluded = Vec::new();
    for exercise in exercises::discover(root)? {
        excluded.extend(["--exclude".to_owned(), exercise.package]);
    }
    let excluded: Vec<&str> = excluded.iter().map(String::as_str).collect();
    if has_command("cargo-nextest") {
        // The crates have no doctests, so nextest runs every test there is.
        let nextest = ["nextest", "run", "--workspace", "--no-fail-fast"];
        run("cargo", &[&nextest[..], &excluded].concat())
    } else {
        let test = ["test", "--workspace", "--no-fail-fast"];
        run("cargo", &[&test[..], &excluded].concat())
    }
}

/// The storefront in a real browser (chapter 9): Debian's Chromium driven
/// by Playwright under `node --test`, against the launcher's system.
fn browser_tests(root: &Path) -> anyhow::Result<()> {
    let dir = root.join("chapters-code/storefront/browser");
    if !dir.join("node_modules/playwright-core").is_dir() {
        bail!(
            "the browser tests need their packages: (cd {} && npm ci), and Chromium at /usr/bin/chromium",
            dir.display()
        );
    }
    run("cargo", &["build", "--quiet", "--package", "bookshop"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let launcher = target.join("debug").join("bookshop");
    println!("$ node --test storefront.test.mjs (in {})", dir.display());
    let status = Command::new("node")
        .args(["--test", "storefront.test.mjs"])
        .current_dir(&dir)
        .env("BOOKSHOP_BIN", &launcher)
        .status()
        .context("cannot run node")?;
    if !status.success() {
        bail!("the browser tests failed ({status})");
    }
    Ok(())
}

/// Runs `f` as a named step and prints how long it took.
fn step(name: &str, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    println!("==> {name}");
    let started = Instant::now();
    let result = f();
    let status = if result.is_ok() { "ok" } else { "FAILED" };
    println!("==> {name}: {status} in {:.1?}", started.elapsed());
    result.with_context(|| format!("step `{name}` failed"))
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Every file under `dir` (recursively) whose name ends in `.{extension}`,
/// sorted.
pub fn files_with_extension(dir: &Path, extension: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_with_extension(&path, extension)?);
        } else if path.extension().is_some_and(|ext| ext == extension) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

pub fn has_command(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}
