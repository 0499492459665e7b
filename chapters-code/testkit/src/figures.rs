//! Figures a bench hands on to `cargo xtask performance`, which draws
//! them: when `BENCH_FIGURES` names a directory, [`Figures::save`] writes
//! `<dir>/<bench>.json` there; otherwise it does nothing, and the bench
//! only prints its tables.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Value, json};

/// The environment variable naming the directory figures go to.
pub const FIGURES_DIR: &str = "BENCH_FIGURES";

/// One bench's figures: values in named series, one value per label.
#[derive(Debug, Clone)]
pub struct Figures {
    bench: String,
    rows: Vec<Value>,
}

impl Figures {
    pub fn new(bench: &str) -> Self {
        Self {
            bench: bench.to_owned(),
            rows: Vec::new(),
        }
    }

    /// One bar of a chart: `series` is the chart ("req/s, GET /health/live"),
    /// `label` the bar ("axum"), `unit` what `value` counts.
    pub fn add(&mut self, series: &str, label: &str, value: f64, unit: &str) -> &mut Self {
        self.rows
            .push(json!({ "series": series, "label": label, "value": value, "unit": unit }));
        self
    }

    /// Writes the figures where `BENCH_FIGURES` says, if it says.
    pub fn save(&self) -> anyhow::Result<Option<PathBuf>> {
        let Some(dir) = std::env::var_os(FIGURES_DIR) else {
            return Ok(None);
        };
        let path = PathBuf::from(dir).join(format!("{}.json", self.bench));
        let document = json!({ "bench": self.bench, "figures": self.rows });
        std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
        std::fs::write(&path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Some(path))
    }
}
