//! The architecture rule of Part I, checked: **services meet only over the
//! network**. No module that is a service (or a later chapter's version of
//! one) may use a module of another service, in its own crate or an
//! earlier chapter's. Shared building blocks (problem, server, discovery,
//! the broker helpers, the caller) are anyone's.
//!
//! The check parses every library source file with `syn` and resolves
//! each `use` and each path to the module it names: `crate::x`,
//! `super::x`, or `chNN_topic::x`. Binaries, tests and the launcher are
//! composition roots: they put services together and are not checked.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use syn::visit::Visit;

// ANCHOR: services
/// Which top-level module of which chapter crate is which service.
const SERVICES: &[(&str, &str, &str)] = &[
    ("ch01_autonomy", "catalog", "catalog"),
    ("ch02_communication", "catalog_grpc", "catalog"),
    ("ch02_communication", "orders", "orders"),
    ("ch03_registry", "registry", "registry"),
    ("ch04_gateway", "identity", "identity"),
    ("ch04_gateway", "gateway", "gateway"),
    ("ch04_gateway", "orders", "orders"),
    ("ch05_soa", "catalog", "catalog"),
    ("ch05_soa", "identity", "identity"),
    ("ch05_soa", "inventory", "inventory"),
    ("ch05_soa", "payments", "payments"),
    ("ch05_soa", "orders", "orders"),
    ("ch06_messaging", "inventory", "inventory"),
    ("ch06_messaging", "notifications", "notifications"),
    ("ch06_messaging", "orders", "orders"),
];
// ANCHOR_END: services

/// The service a crate's module is, if it is one.
fn service_of(krate: &str, module: &str) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(c, m, _)| *c == krate && *m == module)
        .map(|(_, _, service)| *service)
}

fn is_chapter_crate(name: &str) -> bool {
    SERVICES.iter().any(|(c, _, _)| *c == name)
}

/// One import of another service's module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub file: String,
    pub service: &'static str,
    pub imports: &'static str,
    pub path: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the {} service uses `{}`, a module of {}: services meet only over the network",
            self.file, self.service, self.path, self.imports
        )
    }
}

/// Checks every chapter crate's library under `root/chapters-code`.
pub fn check(root: &Path) -> anyhow::Result<()> {
    let mut violations = Vec::new();
    let mut files = 0;
    for (krate, src) in chapter_crates(&root.join("chapters-code"))? {
        for file in crate::files_with_extension(&src, "rs")? {
            let relative = file.strip_prefix(&src).unwrap_or(&file);
            if relative.starts_with("bin") {
                continue;
            }
            let text = fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let shown = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            files += 1;
            violations.extend(check_file(&krate, &module_path(relative), &text, &shown)?);
        }
    }
    if !violations.is_empty() {
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        bail!("the architecture rule is broken:\n  {}", lines.join("\n  "));
    }
    println!("architecture: {files} files checked, no service uses another service's modules");
    Ok(())
}

/// `(crate name, src dir)` of each chapter crate.
fn chapter_crates(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut crates = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .replace('-', "_");
        if is_chapter_crate(&name) {
            crates.push((name, path.join("src")));
        }
    }
    crates.sort();
    Ok(crates)
}

/// `orders/http.rs` → `[orders, http]`; `lib.rs` → `[]`; `orders/mod.rs` → `[orders]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        parts.pop();
    }
    parts
}

/// The violations in one file of crate `krate` at module path `module`.
pub fn check_file(
    krate: &str,
    module: &[String],
    text: &str,
    shown: &str,
) -> anyhow::Result<Vec<Violation>> {
    let Some(service) = module.first().and_then(|top| service_of(krate, top)) else {
        return Ok(Vec::new()); // a building block: anyone may use it
    };
    let syntax = syn::parse_file(text).with_context(|| format!("cannot parse {shown}"))?;
    let mut paths = PathCollector {
        scope: module.to_vec(),
        found: Vec::new(),
    };
    paths.visit_file(&syntax);
    let mut violations = BTreeSet::new();
    for (scope, path) in paths.found {
        let Some((target_crate, target_module)) = resolve(krate, &scope, &path) else {
            continue;
        };
        if let Some(other) = service_of(&target_crate, &target_module)
            && other != service
        {
            violations.insert(Violation {
                file: shown.to_owned(),
                service,
                imports: other,
                path: path.join("::"),
            });
        }
    }
    Ok(violations.into_iter().collect())
}

/// The crate and top-level module a path names, if it names one of ours.
fn resolve(krate: &str, scope: &[String], path: &[String]) -> Option<(String, String)> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some((krate.to_owned(), path.get(1)?.clone())),
        "self" | "super" => {
            let mut at = scope.to_vec();
            let mut rest = path;
            while let Some(segment) = rest.first() {
                match segment.as_str() {
                    "self" => {}
                    "super" => {
                        at.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
            at.extend(rest.iter().cloned());
            Some((krate.to_owned(), at.first()?.clone()))
        }
        name if is_chapter_crate(name) => Some((name.to_owned(), path.get(1)?.clone())),
        _ => None,
    }
}

/// Every `use` (expanded) and every multi-segment path, with the module
/// it appears in.
struct PathCollector {
    scope: Vec<String>,
    found: Vec<(Vec<String>, Vec<String>)>,
}

impl PathCollector {
    fn use_tree(&mut self, prefix: &[String], tree: &syn::UseTree) {
        let mut path = prefix.to_vec();
        match tree {
            syn::UseTree::Path(p) => {
                path.push(p.ident.to_string());
                self.use_tree(&path, &p.tree);
            }
            syn::UseTree::Name(n) => {
                path.push(n.ident.to_string());
                self.found.push((self.scope.clone(), path));
            }
            syn::UseTree::Rename(r) => {
                path.push(r.ident.to_string());
                self.found.push((self.scope.clone(), path));
            }
            syn::UseTree::Glob(_) => self.found.push((self.scope.clone(), path)),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(&path, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&[], &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.scope.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.scope.pop();
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.found.push((self.scope.clone(), segments));
        }
        syn::visit::visit_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(krate: &str, module: &[&str], text: &str) -> Vec<String> {
        let module: Vec<String> = module.iter().map(|m| (*m).to_owned()).collect();
        check_file(krate, &module, text, "file.rs")
            .unwrap()
            .into_iter()
            .map(|v| format!("{} -> {}", v.service, v.imports))
            .collect()
    }

    #[test]
    fn a_service_using_another_services_module_is_caught() {
        let uses = [
            "use crate::identity::tokens::Claims;",
            "use crate::{caller::Caller, identity::tokens};",
            "use super::super::identity::tokens;",
            "fn f() { let _ = crate::identity::tokens::ISSUER; }",
        ];
        for text in uses {
            assert_eq!(
                violations("ch04_gateway", &["gateway", "auth"], text),
                ["gateway -> identity"],
                "{text}"
            );
        }
        let from_earlier_chapter = "use ch05_soa::orders::saga::saga_key_of;";
        assert_eq!(
            violations("ch06_messaging", &["inventory"], from_earlier_chapter),
            ["inventory -> orders"]
        );
    }

    #[test]
    fn building_blocks_and_a_services_own_versions_are_allowed() {
        let allowed = "use crate::caller::Caller;\n\
                       use ch01_autonomy::problem::Problem;\n\
                       use ch02_communication::orders::http::place;\n\
                       use super::model::NewOrder;\n\
                       mod tests { use super::*; }";
        assert!(violations("ch04_gateway", &["orders"], allowed).is_empty());
        // A building block may use anything: it is not a service.
        let block = "use crate::identity::tokens::Claims;";
        assert!(violations("ch04_gateway", &["caller"], block).is_empty());
    }

    #[test]
    fn module_paths_come_from_file_paths() {
        assert_eq!(module_path(Path::new("orders/http.rs")), ["orders", "http"]);
        assert_eq!(module_path(Path::new("orders/mod.rs")), ["orders"]);
        assert!(module_path(Path::new("lib.rs")).is_empty());
    }
}
