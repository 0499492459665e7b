//! The workshop: find the exercises, check both sides of each in CI, and
//! walk a learner through them in order.
//!
//! An exercise is a small crate, `exercises/NN-topic/MM-name/`. The learner
//! edits `src/exercise.rs` (the starter); the solution is
//! `solution/exercise.rs`, which `src/lib.rs` compiles instead when the
//! crate's `solution` feature is on. So one `cargo test -p <exercise>`
//! checks the learner's work, and `--features solution` checks ours, with
//! no files copied and the workspace's one target directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

/// One exercise crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// `01-autonomy/01-problem-json`
    pub id: String,
    pub dir: PathBuf,
    pub package: String,
    pub chapter: u32,
}

/// Every exercise under `exercises/`, in order.
pub fn discover(root: &Path) -> anyhow::Result<Vec<Exercise>> {
    let mut found = Vec::new();
    let base = root.join("exercises");
    for chapter_dir in sorted_dirs(&base)? {
        let chapter_name = file_name(&chapter_dir);
        let Some(chapter) = number_prefix(&chapter_name) else {
            continue;
        };
        for dir in sorted_dirs(&chapter_dir)? {
            let manifest = dir.join("Cargo.toml");
            if number_prefix(&file_name(&dir)).is_none() || !manifest.is_file() {
                continue;
            }
            found.push(Exercise {
                id: format!("{chapter_name}/{}", file_name(&dir)),
                package: package_name(&manifest)?,
                dir,
                chapter,
            });
        }
    }
    Ok(found)
}

/// CI: every starter compiles and fails its tests; every solution passes.
///
/// Each side is built once for all exercises (one cargo invocation over
/// the workspace, so the chapters' crates are the ones the tests step
/// built), then every exercise's test binaries run directly. Running
/// `cargo test -p <exercise>` per exercise would resolve features for that
/// one package and rebuild what it shares with the others, 36 times.
pub fn check_all(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let exercises = discover(root)?;
    if exercises.is_empty() {
        println!("exercises: none yet");
        return Ok(());
    }
    let starters = build_tests(&exercises, false).context("a starter does not compile")?;
    let solutions = build_tests(&exercises, true).context("a solution does not compile")?;

    let mut problems = Vec::new();
    for exercise in &exercises {
        let starter = run_tests(exercise, &starters)?;
        if starter.passed {
            problems.push(format!("{}: the starter passes its tests", exercise.id));
        }
        let solution = run_tests(exercise, &solutions)?;
        if !solution.passed {
            problems.push(format!(
                "{}: the solution fails its tests:\n{}",
                exercise.id, solution.output
            ));
        }
        let starter_verdict = if starter.passed { "PASSES" } else { "fails" };
        let solution_verdict = if solution.passed { "passes" } else { "FAILS" };
        println!(
            "exercise {}: starter {starter_verdict}, solution {solution_verdict}",
            exercise.id
        );
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    println!(
        "exercises: {} checked both ways in {:.1?}",
        exercises.len(),
        started.elapsed()
    );
    Ok(())
}

/// Test executables by the manifest of the crate they test.
type TestBinaries = Vec<(PathBuf, PathBuf)>;

/// Builds every exercise's tests (starters, or solutions with each crate's
/// `solution` feature) in one invocation and returns the executables.
fn build_tests(exercises: &[Exercise], solution: bool) -> anyhow::Result<TestBinaries> {
    // The whole workspace, so features resolve as in the tests step and
    // the chapters' crates are reused as built there; only the exercise
    // crates change when their `solution` feature is on.
    let mut command = Command::new("cargo");
    command.args([
        "test",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    if solution {
        let features: Vec<String> = exercises
            .iter()
            .map(|e| format!("{}/solution", e.package))
            .collect();
        command.args(["--features", &features.join(",")]);
    }
    command.stderr(std::process::Stdio::inherit());
    let output = command.output().context("cannot run cargo test --no-run")?;
    if !output.status.success() {
        bail!("`cargo test --no-run` failed ({})", output.status);
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let executable = message["executable"].as_str();
        let manifest = message["manifest_path"].as_str();
        if let (Some(executable), Some(manifest)) = (executable, manifest) {
            binaries.push((PathBuf::from(manifest), PathBuf::from(executable)));
        }
    }
    Ok(binaries)
}

struct TestRun {
    passed: bool,
    output: String,
}

/// Runs the exercise's test executables the way `cargo test` does: from
/// the crate's directory, with its manifest directory in the environment.
fn run_tests(exercise: &Exercise, binaries: &TestBinaries) -> anyhow::Result<TestRun> {
    let manifest = exercise.dir.join("Cargo.toml");
    let mine: Vec<&PathBuf> = binaries
        .iter()
        .filter(|(m, _)| same_file(m, &manifest))
        .map(|(_, executable)| executable)
        .collect();
    if mine.is_empty() {
        bail!("{}: cargo built no test executable", exercise.id);
    }
    let mut run = TestRun {
        passed: true,
        output: String::new(),
    };
    for executable in mine {
        let output = Command::new(executable)
            .current_dir(&exercise.dir)
            .env("CARGO_MANIFEST_DIR", &exercise.dir)
            .env("CARGO_PKG_NAME", &exercise.package)
            .output()
            .with_context(|| format!("cannot run {}", executable.display()))?;
        run.passed &= output.status.success();
        run.output
            .push_str(&String::from_utf8_lossy(&output.stdout));
        run.output
            .push_str(&String::from_utf8_lossy(&output.stderr));
    }
    Ok(run)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `cargo xtask learn [list | reset] [--chapter N]`: the learner's runner.
pub fn learn(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let chapter = match args.iter().position(|a| a == "--chapter") {
        Some(i) => Some(
            args.get(i + 1)
                .and_then(|n| n.parse::<u32>().ok())
                .context("--chapter needs a number, e.g. --chapter 2")?,
        ),
        None => None,
    };
    let exercises: Vec<Exercise> = discover(root)?
        .into_iter()
        .filter(|e| chapter.is_none_or(|c| e.chapter == c))
        .collect();
    let progress_file = root.join("exercises").join(".progress");
    let mut solved = read_progress(&progress_file);
    match args.first().map(String::as_str) {
        Some("list") => {
            for exercise in &exercises {
                let mark = if solved.contains(&exercise.id) {
                    "✓"
                } else {
                    " "
                };
                println!("[{mark}] {}", exercise.id);
            }
            Ok(())
        }
        Some("reset") => {
            let _ = fs::remove_file(&progress_file);
            println!("progress cleared");
            Ok(())
        }
        _ => {
            let Some(current) = next_exercise(&exercises, &solved) else {
                println!("Every exercise here is solved. Well done!");
                return Ok(());
            };
            println!("Exercise {}", current.id);
            println!("  read: {}", current.dir.join("README.md").display());
            println!("  edit: {}", current.dir.join("src/exercise.rs").display());
            println!("Running its tests...\n");
            let status = Command::new("cargo")
                .args(["test", "-p", &current.package])
                .status()?;
            if !status.success() {
                println!(
                    "\nNot yet: the failing tests above say what is missing. \
                     The README has hints. Run `cargo xtask learn` again when you have a go."
                );
                return Ok(());
            }
            solved.push(current.id.clone());
            fs::write(&progress_file, solved.join("\n") + "\n")
                .with_context(|| format!("cannot write {}", progress_file.display()))?;
            println!("\n✓ {} solved.", current.id);
            match next_exercise(&exercises, &solved) {
                Some(next) => println!(
                    "Next: {}\n  read: {}\nRun `cargo xtask learn` to check it.",
                    next.id,
                    next.dir.join("README.md").display()
                ),
                None => println!("That was the last one here."),
            }
            Ok(())
        }
    }
}

/// The first exercise not solved yet.
pub fn next_exercise<'a>(exercises: &'a [Exercise], solved: &[String]) -> Option<&'a Exercise> {
    exercises.iter().find(|e| !solved.contains(&e.id))
}

fn read_progress(file: &Path) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn sorted_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `01-autonomy` → 1; names without a number prefix are not exercises.
fn number_prefix(name: &str) -> Option<u32> {
    name.split_once('-')?.0.parse().ok()
}

fn package_name(manifest: &Path) -> anyhow::Result<String> {
    let text = fs::read_to_string(manifest)?;
    text.lines()
        .find_map(|line| {
            let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .with_context(|| format!("no package name in {}", manifest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(id: &str, chapter: u32) -> Exercise {
        Exercise {
            id: id.to_owned(),
            dir: PathBuf::from(id),
            package: id.replace('/', "-"),
            chapter,
        }
    }

    #[test]
    fn the_runner_moves_on_once_the_first_is_solved() {
        let all = [exercise("01-a/01-x", 1), exercise("01-a/02-y", 1)];
        assert_eq!(next_exercise(&all, &[]).unwrap().id, "01-a/01-x");
        let solved = vec!["01-a/01-x".to_owned()];
        assert_eq!(next_exercise(&all, &solved).unwrap().id, "01-a/02-y");
        let both = vec!["01-a/01-x".to_owned(), "01-a/02-y".to_owned()];
        assert!(next_exercise(&all, &both).is_none());
    }

    #[test]
    fn names_need_a_number_prefix() {
        assert_eq!(number_prefix("02-communication"), Some(2));
        assert_eq!(number_prefix("README.md"), None);
    }
}
