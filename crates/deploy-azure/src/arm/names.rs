//! The checks of Azure names and ids, made before any request: each failure is
//! an [`Error::InvalidInput`] naming the field and the rule.

use deploy_core::{Error, Result};

/// `value` is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
pub(crate) fn check_guid(field: &str, value: &str) -> Result<()> {
    let groups: Vec<&str> = value.split('-').collect();
    let ok =
        groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok { Ok(()) } else { Err(Error::invalid(field, format!("{value:?} is not a GUID"), "a GUID: 8-4-4-4-12 hexadecimal digits")) }
}

/// An Azure resource name: 1 to `max` characters of letters, digits and `extra`,
/// starting with a letter or digit.
pub(crate) fn check_name(field: &str, value: &str, max: usize, extra: &str) -> Result<()> {
    let ok = (1..=max).contains(&value.len())
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a valid name"),
            format!("1 to {max} characters: letters, digits and `{extra}`, starting with a letter or digit"),
        ))
    }
}

/// A resource group's name in field `field` (1-90 letters, digits, `-_.()`, not ending with a period).
pub(crate) fn check_resource_group(field: &str, value: &str) -> Result<()> {
    check_name(field, value, 90, "-_.()")?;
    if value.ends_with('.') {
        return Err(Error::invalid(field, format!("{value:?} ends with a period"), "resource group names do not end with a period"));
    }
    Ok(())
}

/// A PostgreSQL flexible server's name in field `field`: 3-63 letters, digits and single hyphens
/// between them (`^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$`, the 2024-08-01 spec's server name).
pub(crate) fn check_server_name(field: &str, value: &str) -> Result<()> {
    let ok =
        (3..=63).contains(&value.len()) && value.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a flexible server name"),
            "3 to 63 letters and digits, single hyphens between them",
        ))
    }
}

/// A flexible server database's name in field `field`: 1-63 characters, a letter or `_` first, then letters,
/// digits, `_` or `-` (`^[a-zA-Z_][\w\-]{0,62}$`, the 2024-08-01 spec's database name).
pub(crate) fn check_database_name(field: &str, value: &str) -> Result<()> {
    let mut chars = value.chars();
    let ok = (1..=63).contains(&value.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a database name"),
            "1 to 63 characters: a letter or `_` first, then letters, digits, `_` or `-`",
        ))
    }
}

/// An Azure location: lowercase letters and digits (`westeurope`).
pub(crate) fn check_location(value: &str) -> Result<()> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid(
            "location",
            format!("{value:?} is not a location"),
            "an Azure region name such as westeurope: lowercase letters and digits",
        ))
    }
}

/// A full resource id (`/subscriptions/.../providers/...`).
pub(crate) fn check_resource_id(field: &str, value: &str) -> Result<()> {
    if value.starts_with("/subscriptions/")
        && value.contains("/providers/")
        && !value.contains(char::is_whitespace)
        && !value.contains("//")
    {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a resource id"),
            "a full resource id: /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}",
        ))
    }
}
