//! Kubernetes versions, `MAJOR.MINOR`.

use super::newtype::{Check, fault};

const K8S_VERSION_RULE: &str =
    "Kubernetes versions: MAJOR.MINOR such as 1.31, MAJOR 1 and MINOR 0-99, decimal without leading zeros; no patch part (not 1.31.2)";

fn check_k8s_version(v: &str) -> Check {
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() == 3 && parts.iter().all(numeric) {
        return fault(format!("has a patch part `.{}`", parts[2]), K8S_VERSION_RULE);
    }
    if parts.len() != 2 || !parts.iter().all(numeric) {
        return fault("is not MAJOR.MINOR of two decimal numbers", K8S_VERSION_RULE);
    }
    if let Some(part) = parts.iter().find(|p| p.len() > 1 && p.starts_with('0')) {
        return fault(format!("has a leading zero in `{part}`"), K8S_VERSION_RULE);
    }
    let (major, minor) = (parts[0], parts[1]);
    if major != "1" {
        return fault(format!("has major version {major}, not 1"), K8S_VERSION_RULE);
    }
    if minor.len() > 2 {
        return fault(format!("has minor version {minor}, outside 0-99"), K8S_VERSION_RULE);
    }
    Ok(())
}

crate::validated_string!(
    /// A Kubernetes version, `MAJOR.MINOR` (`1.31`).
    KubernetesVersion, "version", check_k8s_version
);

#[cfg(test)]
#[path = "tests/version.rs"]
mod tests;
