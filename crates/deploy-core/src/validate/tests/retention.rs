//! Tests of retention periods.

use crate::validate::test_support::*;

use super::*;

// ------------------------------------------------------------- RetentionDays

#[test]
fn retention_edges() {
    assert_eq!(RetentionDays::new(1).unwrap().days(), 1);
    assert_eq!(RetentionDays::new(36_500).unwrap().days(), 36_500);
    let rule = RetentionDays::RULE;
    assert_invalid(RetentionDays::new(0), "retention_days", "is 0 days, fewer than 1", rule);
    assert_invalid(RetentionDays::new(36_501), "retention_days", "is 36501 days, more than 36500", rule);
    assert_invalid(RetentionDays::new(u32::MAX), "retention_days", "is 4294967295 days, more than 36500", rule);
    assert_eq!(RetentionDays::FIELD, "retention_days");
}

#[test]
fn retention_api() {
    let days = RetentionDays::new(35).unwrap();
    assert_eq!(days.to_string(), "35 days");
    assert_eq!(format!("{days:?}"), "RetentionDays(35)");
    assert_eq!(u32::from(days), 35);
    assert_eq!(RetentionDays::try_from(35).unwrap(), days);
    assert_eq!(serde_json::to_string(&days).unwrap(), "35");
    assert_eq!(serde_json::from_str::<RetentionDays>("35").unwrap(), days);
    for wrong in ["0", "36501"] {
        let err = serde_json::from_str::<RetentionDays>(wrong).unwrap_err().to_string();
        assert!(err.contains(RetentionDays::RULE), "{err}");
    }
    assert!(serde_json::from_str::<RetentionDays>("-1").is_err());
    assert!(serde_json::from_str::<RetentionDays>("\"35\"").is_err());
}

#[test]
fn retention_from_str() {
    for (text, days) in [("1", 1), ("35", 35), ("36500", 36_500), ("35 days", 35), ("1 day", 1), ("007", 7)] {
        assert_eq!(text.parse::<RetentionDays>().unwrap().days(), days, "{text}");
    }
    let days = RetentionDays::new(90).unwrap();
    assert_eq!(days.to_string().parse::<RetentionDays>().unwrap(), days);
    let rule = RetentionDays::RULE;
    assert_invalid("0".parse::<RetentionDays>(), "retention_days", "is 0 days, fewer than 1", rule);
    assert_invalid("36501".parse::<RetentionDays>(), "retention_days", "is 36501 days, more than 36500", rule);
    assert_invalid("99999999999".parse::<RetentionDays>(), "retention_days", "more than 36500", rule);
    for text in ["", "-1", "+5", "5.0", " 5", "5 ", "five", "5days", "days"] {
        assert_invalid(text.parse::<RetentionDays>(), "retention_days", &format!("`{text}` is not a whole number of days"), rule);
    }
}
