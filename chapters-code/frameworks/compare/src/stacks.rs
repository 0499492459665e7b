//! How each version got chapter 1's middleware: the tower layer as it
//! is, the same layer through the framework's adapter, the framework's
//! own middleware, or code written for it. Each entry names what the
//! crate's source uses, and a test holds the table to the sources.

/// How one concern was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The tower or tower-http layer, unchanged.
    Tower(&'static str),
    /// The same layer, unchanged, through the framework's tower adapter.
    Adapted(&'static str),
    /// The framework's own middleware.
    Own(&'static str),
    /// Written in this crate.
    Written(&'static str),
}

impl How {
    /// What the crate's source calls it.
    pub fn name(self) -> &'static str {
        match self {
            How::Tower(name) | How::Adapted(name) | How::Own(name) | How::Written(name) => name,
        }
    }

    /// Our tower code, reused as it is.
    pub fn reuses_tower(self) -> bool {
        matches!(self, How::Tower(_) | How::Adapted(_))
    }

    pub fn describe(self) -> String {
        match self {
            How::Tower(name) => format!("tower: {name}"),
            How::Adapted(name) => format!("adapter: {name}"),
            How::Own(name) => format!("own: {name}"),
            How::Written(name) => format!("written: {name}"),
        }
    }
}

/// One version of the slice.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    pub framework: &'static str,
    /// Its package (`cargo build -p`) and its directory under `frameworks/`.
    pub package: &'static str,
    pub dir: &'static str,
    pub binary: &'static str,
    pub request_id: How,
    pub trace_span: How,
    pub timeout: How,
    pub catch_panic: How,
}

impl Version {
    pub fn concerns(&self) -> [(&'static str, How); 4] {
        [
            ("request id", self.request_id),
            ("trace span", self.trace_span),
            ("timeout", self.timeout),
            ("catch panic", self.catch_panic),
        ]
    }

    /// How many of the four concerns reuse our tower code unchanged.
    pub fn tower_reused(&self) -> usize {
        self.concerns()
            .iter()
            .filter(|(_, how)| how.reuses_tower())
            .count()
    }
}

// ANCHOR: versions
pub const VERSIONS: [Version; 4] = [
    Version {
        framework: "axum",
        package: "frameworks-axum",
        dir: "axum",
        binary: "catalog-axum",
        request_id: How::Tower("with_common_layers"),
        trace_span: How::Tower("with_common_layers"),
        timeout: How::Tower("TimeoutLayer"),
        catch_panic: How::Tower("with_common_layers"),
    },
    Version {
        framework: "actix-web",
        package: "frameworks-actix-web",
        dir: "actix-web",
        binary: "catalog-actix-web",
        request_id: How::Written("request_id_and_span"),
        trace_span: How::Written("request_id_and_span"),
        timeout: How::Written("timeout"),
        catch_panic: How::Written("catch_panic"),
    },
    Version {
        framework: "poem",
        package: "frameworks-poem",
        dir: "poem",
        binary: "catalog-poem",
        request_id: How::Own("RequestId"),
        trace_span: How::Own("Tracing"),
        timeout: How::Adapted("TimeoutLayer"),
        catch_panic: How::Own("CatchPanic"),
    },
    Version {
        framework: "salvo",
        package: "frameworks-salvo",
        dir: "salvo",
        binary: "catalog-salvo",
        request_id: How::Adapted("SetRequestIdLayer"),
        trace_span: How::Adapted("TraceLayer"),
        timeout: How::Adapted("TimeoutLayer"),
        catch_panic: How::Own("CatchPanic"),
    },
];
// ANCHOR_END: versions

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn source(dir: &str) -> String {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(dir)
            .join("src");
        ["lib.rs", "middleware.rs"]
            .iter()
            .filter_map(|file| std::fs::read_to_string(src.join(file)).ok())
            .collect()
    }

    #[test]
    fn every_entry_names_what_its_crate_uses() {
        for version in VERSIONS {
            let source = source(version.dir);
            for (concern, how) in version.concerns() {
                assert!(
                    source.contains(how.name()),
                    "{}: {concern} is said to use `{}`, which its source never names",
                    version.framework,
                    how.name()
                );
            }
        }
    }

    #[test]
    fn adapted_layers_go_through_the_adapter() {
        for version in VERSIONS {
            let adapted = version
                .concerns()
                .iter()
                .any(|(_, how)| matches!(how, How::Adapted(_)));
            assert_eq!(
                adapted,
                source(version.dir).contains(".compat()"),
                "{}",
                version.framework
            );
        }
    }
}
