//! Reading the deployment files: YAML documents as JSON values, so one
//! set of checks reads Kubernetes objects and compose files alike.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize as _;
use serde_json::Value;

/// Why a deployment file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot run {program}: {source} (is it installed?)")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("`kubectl kustomize {overlay}` failed: {stderr}")]
    Kustomize { overlay: String, stderr: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} is not valid YAML: {source}")]
    Yaml {
        what: String,
        source: serde_norway::Error,
    },
}

/// `deploy/` in this repository.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Every object `kubectl kustomize <overlay>` renders.
pub fn render(overlay: &Path) -> Result<Vec<Value>, FileError> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(overlay)
        .output()
        .map_err(|source| FileError::Spawn {
            program: "kubectl",
            source,
        })?;
    if !output.status.success() {
        return Err(FileError::Kustomize {
            overlay: overlay.display().to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    documents(
        &String::from_utf8_lossy(&output.stdout),
        &overlay.display().to_string(),
    )
}

/// The one document in the YAML file at `path` (a compose file, say),
/// with YAML merge keys (`<<: *service`) applied.
pub fn read(path: &Path) -> Result<Value, FileError> {
    let what = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: what.clone(),
        source,
    })?;
    let yaml_error = |source| FileError::Yaml {
        what: what.clone(),
        source,
    };
    let mut value: serde_norway::Value = serde_norway::from_str(&text).map_err(yaml_error)?;
    value.apply_merge().map_err(yaml_error)?;
    serde_norway::from_value(value).map_err(yaml_error)
}

/// Every non-empty document of a multi-document YAML stream.
pub fn documents(text: &str, what: &str) -> Result<Vec<Value>, FileError> {
    let mut found = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|source| FileError::Yaml {
            what: what.to_owned(),
            source,
        })?;
        if !value.is_null() {
            found.push(value);
        }
    }
    Ok(found)
}
