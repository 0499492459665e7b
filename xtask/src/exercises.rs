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
use std::process::{Command, Output};
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
pub fn check_all(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let exercises = discover(root)?;
    if exercises.is_empty() {
        println!("exercises: none yet");
        return Ok(());
    }
    let mut package_args = Vec::new();
    for exercise in &exercises {
        package_args.extend(["-p".to_owned(), exercise.package.clone()]);
    }
    // Build everything first, so a compile error is reported as one.
    let solutions: Vec<String> = exercises
        .iter()
        .map(|e| format!("{}/solution", e.package))
        .collect();
    cargo(&[&["build", "--tests", "--quiet"], &strs(&package_args)[..]].concat())
        .context("a starter does not compile")?;
    cargo(
        &[
            &["build", "--tests", "--quiet", "--features"],
            &[solutions.join(",").as_str()][..],
            &strs(&package_args)[..],
        ]
        .concat(),
    )
    .context("a solution does not compile")?;

    let mut problems = Vec::new();
    for exercise in &exercises {
        let starter = test(&exercise.package, false)?;
        if starter.status.success() {
            problems.push(format!("{}: the starter passes its tests", exercise.id));
        }
        let solution = test(&exercise.package, true)?;
        if !solution.status.success() {
            problems.push(format!(
                "{}: the solution fails its tests:\n{}",
                exercise.id,
                String::from_utf8_lossy(&solution.stdout)
            ));
        }
        let starter_verdict = if starter.status.success() {
            "PASSES"
        } else {
            "fails"
        };
        let solution_verdict = if solution.status.success() {
            "passes"
        } else {
            "FAILS"
        };
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

fn test(package: &str, solution: bool) -> anyhow::Result<Output> {
    let mut command = Command::new("cargo");
    command.args(["test", "--quiet", "-p", package]);
    if solution {
        command.args(["--features", "solution"]);
    }
    command
        .output()
        .with_context(|| format!("cannot run the tests of {package}"))
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("cargo").args(args).status()?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
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
