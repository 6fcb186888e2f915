//! One spec, either cloud: the AWS sizes a spec names, as the Azure size of
//! the same family and vCPU count. An Azure size (`Standard_…`) is taken as
//! it is; anything else is refused naming the field.
//!
//! | AWS | Azure |
//! | --- | --- |
//! | `db.t3`/`db.t4g` `.micro`, `.small`, `.medium`, `.large`, `.xlarge`, `.2xlarge` | flexible server `Standard_B1ms`, `B1ms`, `B2s`, `B2ms`, `B4ms`, `B8ms` (Burstable) |
//! | `db.m5`…`db.m7g` `.large` … `.24xlarge` | `Standard_D{vCPU}ds_v5` (General Purpose) |
//! | `db.r5`…`db.r7g` `.large` … `.24xlarge` | `Standard_E{vCPU}ds_v5` (Memory Optimized) |
//! | node `m5`…`m7i` | `Standard_D{vCPU}s_v5` |
//! | node `c5`…`c7i` | `Standard_F{vCPU}s_v2` |
//! | node `r5`…`r7i` | `Standard_E{vCPU}s_v5` |
//! | node `t3`/`t3a`/`t4g` `.medium` … `.2xlarge` | `Standard_B2s`, `B2ms`, `B4ms`, `B8ms` |
//!
//! Only where the Azure series has that many vCPUs (D and E v5: 2, 4, 8, 16,
//! 32, 48, 64, 96, E also 20 and 104; F v2: 2 to 72): `c5.9xlarge` (36) or
//! `c5.24xlarge` (96) on F are refused, not invented.
//!
//! ```
//! use deploy_azure::environment::sizes::{database_sku, node_vm_size};
//! assert_eq!(database_sku("db.t4g.large", "db").unwrap(), "Standard_B2ms");
//! assert_eq!(database_sku("db.m5.xlarge", "db").unwrap(), "Standard_D4ds_v5");
//! assert_eq!(node_vm_size("c5.2xlarge", "pool").unwrap(), "Standard_F8s_v2");
//! assert_eq!(node_vm_size("Standard_D4s_v5", "pool").unwrap(), "Standard_D4s_v5");
//! assert_eq!(node_vm_size("m5.huge", "pool").unwrap_err().invalid_field(), Some("pool"));
//! ```

use deploy_core::{Error, Result};

/// vCPUs of an AWS size suffix (`large` = 2, `xlarge` = 4, `NxLarge` = 4 N).
fn vcpus(size: &str) -> Option<u32> {
    match size {
        "large" => Some(2),
        "xlarge" => Some(4),
        _ => size.strip_suffix("xlarge")?.parse::<u32>().ok().filter(|n| (2..=24).contains(n)).map(|n| 4 * n),
    }
}

/// The vCPU counts each Azure series has (Dsv5/Ddsv5, Esv5/Edsv5, Fsv2).
const D_V5: &[u32] = &[2, 4, 8, 16, 32, 48, 64, 96];
const E_V5: &[u32] = &[2, 4, 8, 16, 20, 32, 48, 64, 96, 104];
const F_V2: &[u32] = &[2, 4, 8, 16, 32, 48, 64, 72];

/// The vCPUs of `size` when the Azure `series` has a size of that many.
fn in_series(size: &str, series: &[u32]) -> Option<u32> {
    vcpus(size).filter(|n| series.contains(n))
}

/// The family letter and size of an instance type (`m5.xlarge` -> `('m', "xlarge")`).
fn family(class: &str) -> Option<(char, &str)> {
    let (kind, size) = class.split_once('.')?;
    let mut chars = kind.chars();
    let letter = chars.next()?;
    let generation: String = chars.collect();
    let ok =
        generation.starts_with(|c: char| c.is_ascii_digit()) && generation.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    ok.then_some((letter, size))
}

fn burstable(size: &str) -> Option<&'static str> {
    Some(match size {
        "micro" | "small" => "Standard_B1ms",
        "medium" => "Standard_B2s",
        "large" => "Standard_B2ms",
        "xlarge" => "Standard_B4ms",
        "2xlarge" => "Standard_B8ms",
        _ => return None,
    })
}

fn refused(field: &str, value: &str, what: &str) -> Error {
    Error::invalid(
        field,
        format!("`{value}` has no Azure counterpart here"),
        format!(
            "an Azure {what} (`Standard_…`), or an AWS size of the t, m, r (and for nodes c) families whose vCPU count the Azure series has (large, xlarge, 2, 4, 8, 12, 16 or 24xlarge)"
        ),
    )
}

/// The flexible server SKU of instance class `class` (field `field` in errors).
///
/// # Errors
/// [`Error::InvalidInput`] on `field` for a class with no counterpart.
pub fn database_sku(class: &str, field: &str) -> Result<String> {
    if class.starts_with("Standard_") {
        return Ok(class.to_owned());
    }
    let mapped = class.strip_prefix("db.").and_then(family).and_then(|(letter, size)| match letter {
        't' => burstable(size).map(str::to_owned),
        'm' => in_series(size, D_V5).map(|n| format!("Standard_D{n}ds_v5")),
        'r' => in_series(size, E_V5).map(|n| format!("Standard_E{n}ds_v5")),
        _ => None,
    });
    mapped.ok_or_else(|| refused(field, class, "flexible server SKU"))
}

/// The VM size of node instance type `instance` (field `field` in errors).
///
/// # Errors
/// [`Error::InvalidInput`] on `field` for a type with no counterpart.
pub fn node_vm_size(instance: &str, field: &str) -> Result<String> {
    if instance.starts_with("Standard_") {
        return Ok(instance.to_owned());
    }
    let mapped = family(instance).and_then(|(letter, size)| match letter {
        't' => burstable(size).filter(|s| *s != "Standard_B1ms").map(str::to_owned),
        'm' => in_series(size, D_V5).map(|n| format!("Standard_D{n}s_v5")),
        'c' => in_series(size, F_V2).map(|n| format!("Standard_F{n}s_v2")),
        'r' => in_series(size, E_V5).map(|n| format!("Standard_E{n}s_v5")),
        _ => None,
    });
    mapped.ok_or_else(|| refused(field, instance, "VM size"))
}

/// Azure's flexible server storage size for `gib`: the smallest of its sizes
/// that holds it (never less than asked); `None` past the largest.
pub fn storage_size(gib: u32) -> Option<u32> {
    crate::arm::postgres::STORAGE_SIZES.iter().copied().find(|s| *s >= gib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_by_family_and_vcpus() {
        assert_eq!(database_sku("db.t3.micro", "f").unwrap(), "Standard_B1ms");
        assert_eq!(database_sku("db.t4g.medium", "f").unwrap(), "Standard_B2s");
        assert_eq!(database_sku("db.r6g.2xlarge", "f").unwrap(), "Standard_E8ds_v5");
        assert_eq!(database_sku("db.m7g.large", "f").unwrap(), "Standard_D2ds_v5");
        assert_eq!(database_sku("m5.large", "f").unwrap_err().invalid_field(), Some("f"));
        assert_eq!(database_sku("db.x2g.large", "f").unwrap_err().invalid_field(), Some("f"));
        assert_eq!(node_vm_size("m5.xlarge", "f").unwrap(), "Standard_D4s_v5");
        assert_eq!(node_vm_size("r6i.4xlarge", "f").unwrap(), "Standard_E16s_v5");
        assert_eq!(node_vm_size("t3.medium", "f").unwrap(), "Standard_B2s");
        assert!(node_vm_size("t3.micro", "f").is_err());
        assert!(node_vm_size("m5.99xlarge", "f").is_err());
        // Sizes the Azure series lacks are refused, not invented.
        for missing in ["c5.9xlarge", "c5.24xlarge", "m4.10xlarge", "m5.3xlarge", "r5.6xlarge"] {
            assert!(node_vm_size(missing, "f").is_err(), "{missing}");
        }
        assert_eq!(node_vm_size("m5.24xlarge", "f").unwrap(), "Standard_D96s_v5");
        assert_eq!(node_vm_size("c5.12xlarge", "f").unwrap(), "Standard_F48s_v2");
        assert_eq!(database_sku("db.r5.12xlarge", "f").unwrap(), "Standard_E48ds_v5");
        assert!(database_sku("db.m5.10xlarge", "f").is_err());
        assert_eq!(storage_size(50), Some(64));
        assert_eq!(storage_size(64), Some(64));
        assert_eq!(storage_size(40_000), None);
    }
}
