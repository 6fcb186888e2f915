//! [`IamName`]: the name of an IAM user, role or managed policy.

use deploy_core::validate::{Check, fault};

fn check_iam_name(name: &str) -> Check {
    let rule = "IAM user, role and policy names: 1-64 letters, digits and + = , . @ _ -";
    let n = name.chars().count();
    if !(1..=64).contains(&n) {
        return fault(format!("is {n} characters long"), rule);
    }
    match name.chars().find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c))) {
        Some(c) => fault(format!("contains {c:?}"), rule),
        None => Ok(()),
    }
}

deploy_core::validated_string!(
    /// The name of an IAM user, role or managed policy: 1 to 64 letters, digits
    /// and `+ = , . @ _ -`.
    IamName, "name", check_iam_name
);
