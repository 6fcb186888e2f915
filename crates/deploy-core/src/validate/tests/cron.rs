//! Tests of cron schedules: both forms, every field's edges, the conversions.

use crate::validate::test_support::*;

use super::*;

named!(CronSchedule => CRON_RULE);

// -------------------------------------------------------------- CronSchedule

#[track_caller]
fn cron(value: &str) -> CronSchedule {
    CronSchedule::new(value).unwrap_or_else(|e| panic!("{value:?} was rejected: {e}"))
}

#[test]
fn cron_api() {
    common_api::<CronSchedule>("0 2 * * *", "0 24 * * *");
    common_api::<CronSchedule>("cron(0 10 ? * MON-FRI *)", "cron(0 10 * * * *)");
}

#[test]
fn cron_unix_day_of_month_or_week() {
    let problem = "restricts both day-of-month and day-of-week";
    bad::<CronSchedule>("0 0 1 * 1", problem);
    bad::<CronSchedule>("0 0 */2 * MON", problem);
    bad::<CronSchedule>("0 0 1 * */1", problem);
}

#[test]
fn cron_shape() {
    bad::<CronSchedule>("", "is empty");
    bad::<CronSchedule>(" 0 0 * * *", "has an empty field");
    bad::<CronSchedule>("0 0 * * * ", "has an empty field");
    bad::<CronSchedule>("0\t0 * * *", "has 4 fields, not 5");
}

#[test]
fn cron_to_aws() {
    for (unix, aws) in [
        ("0 2 * * *", "cron(0 2 * * ? *)"),
        ("30 9 * * 1-5", "cron(30 9 ? * 2-6 *)"),
        ("0 2 * * 0", "cron(0 2 ? * 1 *)"),
        ("0 2 * * 7", "cron(0 2 ? * 1 *)"),
        ("0 2 * * 6", "cron(0 2 ? * 7 *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("0 0 * * 5-7", "cron(0 0 ? * 1,6-7 *)"),
        ("0 0 * * 0-6", "cron(0 0 ? * * *)"),
        ("0 0 * * 0-7", "cron(0 0 ? * * *)"),
        ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),
        ("0 0 * * 1-5/2", "cron(0 0 ? * 2,4,6 *)"),
        ("0 0 * * sat,sun", "cron(0 0 ? * 1,7 *)"),
        ("0 0 * * MON-FRI", "cron(0 0 ? * 2-6 *)"),
        ("*/15 0-6/2 1-15 jan,Mar *", "cron(*/15 0-6/2 1-15 1,3 ? *)"),
        ("00 05 * DEC *", "cron(0 5 * 12 ? *)"),
    ] {
        let converted = cron(unix).to_aws();
        assert_eq!(converted, aws, "{unix}");
        // what to_aws makes is itself a valid AWS schedule
        cron(&converted);
    }
    for aws in ["cron(0 10 ? * MON-FRI *)", "cron(0 9 L * ? *)", "cron(0/15 * * * ? 2030)"] {
        assert_eq!(cron(aws).to_aws(), aws);
    }
}

#[test]
fn cron_to_unix() {
    for (aws, unix) in [
        ("cron(0 10 * * ? *)", "0 10 * * *"),
        ("cron(0 18 ? * MON-FRI *)", "0 18 * * 1-5"),
        ("cron(0 8 1 * ? *)", "0 8 1 * *"),
        ("cron(0/15 * * * ? *)", "0-59/15 * * * *"),
        ("cron(*/15 * * * ? *)", "*/15 * * * *"),
        ("cron(0 0 1/5 * ? *)", "0 0 1-31/5 * *"),
        ("cron(0 0 ? * 1,7 *)", "0 0 * * 0,6"),
        ("cron(0 0 ? * SUN *)", "0 0 * * 0"),
        ("cron(0 0 ? * * *)", "0 0 * * *"),
        ("cron(0 0 1 JAN-MAR ? *)", "0 0 1 1-3 *"),
    ] {
        let converted = cron(aws).to_unix();
        assert_eq!(converted.as_deref(), Some(unix), "{aws}");
        cron(unix);
    }
    for aws_only in [
        "cron(0 0 L * ? *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 0 ? * L *)",
        "cron(0 0 ? * 6L *)",
        "cron(0 0 ? * 3#2 *)",
        "cron(0 0 * * ? 2030)",
        "cron(0 0 * * ? 1970-2199)",
    ] {
        assert_eq!(cron(aws_only).to_unix(), None, "{aws_only}");
    }
    for unix in ["0 2 * * *", "0 0 * * 7", "*/5 * * jan *"] {
        assert_eq!(cron(unix).to_unix().as_deref(), Some(unix));
    }
}

#[test]
fn cron_round_trips_through_aws() {
    for (unix, back) in
        [("0 2 * * *", "0 2 * * *"), ("30 9 * * 1-5", "30 9 * * 1-5"), ("0 0 * * 7", "0 0 * * 0"), ("0 0 1 * *", "0 0 1 * *")]
    {
        let aws = cron(unix).to_aws();
        assert_eq!(cron(&aws).to_unix().as_deref(), Some(back), "{unix} -> {aws}");
    }
}

#[test]
fn cron_rule_is_complete() {
    for piece in [
        "0-59",
        "0-23",
        "1-31",
        "1-12",
        "JAN-DEC",
        "0-7",
        "SUN-SAT",
        "1-7",
        "1970-2199",
        "`?`",
        "`L`",
        "`nW`",
        "`n#k`",
        "`*/n`",
        "`a-b/n`",
        "`a/n`",
    ] {
        assert!(CRON_RULE.contains(piece), "the rule does not mention {piece}");
    }
}

/// The days a schedule's day-of-week covers, Sunday first.
fn days_of(schedule: &CronSchedule) -> [bool; 7] {
    let cron = schedule.parsed();
    match &cron.fields[DAY_OF_WEEK] {
        CronValue::List(items) => cron_days(cron.form, items),
        CronValue::Any => [true; 7],
        CronValue::Special => panic!("no plain days"),
    }
}

#[test]
fn cron_to_aws_keeps_every_day_of_week_range() {
    for first in 0..=7 {
        for last in first..=7 {
            for step in ["", "/2", "/3"] {
                let unix = cron(&format!("0 0 * * {first}-{last}{step}"));
                let aws = cron(&unix.to_aws());
                assert_eq!(days_of(&aws), days_of(&unix), "{unix} -> {aws}");
                let back = cron(&aws.to_unix().unwrap());
                assert_eq!(days_of(&back), days_of(&unix), "{aws} -> {back}");
            }
        }
    }
}

/// The cases of `cases/cron_schedule.txt`, one a line: `ok VALUE`, or `bad VALUE => PROBLEM`.
#[test]
fn cron_schedule_cases() {
    cases::<CronSchedule>(include_str!("cases/cron_schedule.txt"));
}
