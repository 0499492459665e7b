//! Chapter 8: Bookshop beyond one machine.
//!
//! The deployment files live in `deploy/` (a compose file for one host,
//! kustomize bases and overlays for Kubernetes). This crate holds what
//! keeps them honest:
//!
//! - [`files`]: render an overlay with `kubectl kustomize`, read YAML;
//! - [`cross_check`]: compare every flag, environment variable, port,
//!   probe, service name and secret in those files with the services'
//!   own command lines, so a renamed flag fails a test instead of a pod.
//!
//! The image runs `bookshop-service <service>` (this crate's binary; the
//! services it can be are in [`services`]), and
//! `bookshop-probe <url>` is its healthcheck.

pub mod cross_check;
pub mod files;
pub mod services;
