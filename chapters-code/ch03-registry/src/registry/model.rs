//! What the registry stores and the rules an instance must follow to get in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ch01_autonomy::problem::FieldError;

/// The longest lease the registry grants: an instance that cannot
/// heartbeat once in five minutes should not be in anyone's list.
pub const MAX_TTL_SECS: u64 = 300;
pub const MAX_METADATA_ENTRIES: usize = 16;
pub const MAX_METADATA_KEY: usize = 64;
pub const MAX_METADATA_VALUE: usize = 256;

// ANCHOR: registration
/// The body of `POST /v1/registrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The service's name, e.g. `catalog`.
    pub service: String,
    /// Unique within the service, e.g. `catalog-7f3a`.
    pub instance_id: String,
    /// Where it answers: `http://host:port`.
    pub address: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Seconds without a heartbeat before the instance is dropped.
    pub ttl_secs: u64,
}

/// One instance of a service, as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub service: String,
    pub instance_id: String,
    pub address: String,
    pub metadata: BTreeMap<String, String>,
}

/// What a registration gets back: the lease it must keep alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub lease_id: String,
    pub ttl_secs: u64,
}
// ANCHOR_END: registration

impl Registration {
    /// Every problem with the registration at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !is_name(&self.service, 63, false) {
            errors.push(FieldError::new(
                "service",
                "1 to 63 characters: lowercase letters, digits and '-'",
            ));
        }
        if !is_name(&self.instance_id, 128, true) {
            errors.push(FieldError::new(
                "instance_id",
                "1 to 128 characters: letters, digits, '.', '_' and '-'",
            ));
        }
        if let Err(why) = check_address(&self.address) {
            errors.push(FieldError::new("address", why));
        }
        if self.ttl_secs == 0 || self.ttl_secs > MAX_TTL_SECS {
            errors.push(FieldError::new(
                "ttl_secs",
                format!("must be between 1 and {MAX_TTL_SECS}"),
            ));
        }
        if self.metadata.len() > MAX_METADATA_ENTRIES
            || self.metadata.iter().any(|(k, v)| {
                k.is_empty() || k.len() > MAX_METADATA_KEY || v.len() > MAX_METADATA_VALUE
            })
        {
            errors.push(FieldError::new(
                "metadata",
                format!(
                    "at most {MAX_METADATA_ENTRIES} entries, keys 1 to {MAX_METADATA_KEY} bytes, \
                     values up to {MAX_METADATA_VALUE} bytes"
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn instance(&self) -> Instance {
        Instance {
            service: self.service.clone(),
            instance_id: self.instance_id.clone(),
            address: self.address.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// A service name (lowercase) or an instance id (any case, plus `.` and `_`).
pub fn is_name(value: &str, max: usize, instance: bool) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '-'
                || (instance && (c.is_ascii_uppercase() || c == '.' || c == '_'))
        })
}

/// `http://host:port` with an explicit port and nothing after it.
fn check_address(address: &str) -> Result<(), &'static str> {
    let url =
        reqwest::Url::parse(address).map_err(|_| "must be a URL like http://127.0.0.1:8002")?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("must start with http:// or https://");
    }
    if url.host_str().is_none_or(str::is_empty) || url.port().is_none() {
        return Err("must name a host and a port, like http://127.0.0.1:8002");
    }
    if url.path() != "/" || url.query().is_some() {
        return Err("must be a base URL without a path or query");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            service: "catalog".to_owned(),
            instance_id: "catalog-1".to_owned(),
            address: "http://127.0.0.1:8002".to_owned(),
            metadata: BTreeMap::new(),
            ttl_secs: 10,
        }
    }

    #[test]
    fn a_good_registration_passes() {
        assert!(registration().validate().is_ok());
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = Registration {
            service: "Catalog!".to_owned(),
            address: "127.0.0.1".to_owned(),
            ttl_secs: 0,
            ..registration()
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["service", "address", "ttl_secs"]);
    }
}
