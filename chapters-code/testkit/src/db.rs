//! A fresh SQLite database per test, deleted when the test ends.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A database file in its own temp directory. Dropping it removes both.
#[derive(Debug)]
pub struct TempDb {
    _dir: TempDir,
    path: PathBuf,
}

impl TempDb {
    /// A new, empty database location (the service creates the file).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("cannot create a temp directory");
        let path = dir.path().join("service.sqlite");
        Self { _dir: dir, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sqlx URL of this database.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Default for TempDb {
    fn default() -> Self {
        Self::new()
    }
}
