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
fn cron_unix_accepts() {
    for good in [
        "0 2 * * *",
        "* * * * *",
        "*/15 * * * *",
        "0 0-23/2 * * *",
        "5,10,15 * * * *",
        "0-4,30-34/2 * * * *",
        "0 0 1 JAN *",
        "0 0 * jan-Mar *",
        "0 0 * * MON-FRI",
        "0 0 * * sun,sat",
        "0 0 * * 0",
        "0 0 * * 7",
        "0 0 * * 0-7",
        "0 0 * * */2",
        "0 0 1-15 * *",
        "0 0 */2 * *",
        "00 05 01 01 *",
        "59 23 31 12 *",
        "0 0 * 1-12/3 *",
        "3-3 * * * *",
        "*/60 */24 */31 */12 *",
    ] {
        ok::<CronSchedule>(good);
    }
}

#[test]
fn cron_unix_field_edges() {
    ok::<CronSchedule>("59 * * * *");
    bad::<CronSchedule>("60 * * * *", "field 1 (minute) has 60, outside 0-59");
    ok::<CronSchedule>("0 23 * * *");
    bad::<CronSchedule>("0 24 * * *", "field 2 (hour) has 24, outside 0-23");
    bad::<CronSchedule>("0 024 * * *", "field 2 (hour) has 24, outside 0-23");
    ok::<CronSchedule>("0 0 1 * *");
    ok::<CronSchedule>("0 0 31 * *");
    bad::<CronSchedule>("0 0 0 * *", "field 3 (day-of-month) has 0, outside 1-31");
    bad::<CronSchedule>("0 0 32 * *", "field 3 (day-of-month) has 32, outside 1-31");
    ok::<CronSchedule>("0 0 * 1 *");
    ok::<CronSchedule>("0 0 * 12 *");
    bad::<CronSchedule>("0 0 * 0 *", "field 4 (month) has 0, outside 1-12");
    bad::<CronSchedule>("0 0 * 13 *", "field 4 (month) has 13, outside 1-12");
    bad::<CronSchedule>("0 0 * * 8", "field 5 (day-of-week) has 8, outside 0-7");
    bad::<CronSchedule>("99999999999 * * * *", "field 1 (minute) has 99999999999, outside 0-59");
    bad::<CronSchedule>("0-60 * * * *", "field 1 (minute) has 60, outside 0-59");
}

#[test]
fn cron_names() {
    bad::<CronSchedule>("0 0 * FOO *", "field 4 (month) has `FOO`, which is not a number or name, a range or a step");
    bad::<CronSchedule>("0 0 * JANUARY *", "field 4 (month) has `JANUARY`");
    bad::<CronSchedule>("0 0 * * MONDAY", "field 5 (day-of-week) has `MONDAY`");
    bad::<CronSchedule>("0 JAN * * *", "field 2 (hour) has `JAN`, which is not a number, a range or a step");
    bad::<CronSchedule>("0 0 MON * *", "field 3 (day-of-month) has `MON`");
    bad::<CronSchedule>("x * * * *", "field 1 (minute) has `x`");
    bad::<CronSchedule>("-5 * * * *", "field 1 (minute) has `-5`");
    bad::<CronSchedule>("+5 * * * *", "field 1 (minute) has `+5`");
}

#[test]
fn cron_ranges_steps_lists() {
    bad::<CronSchedule>("0 5-3 * * *", "field 2 (hour) has the range 5-3, which runs backwards");
    bad::<CronSchedule>("0 0 * * FRI-MON", "field 5 (day-of-week) has the range FRI-MON, which runs backwards");
    bad::<CronSchedule>("0 1-2-3 * * *", "field 2 (hour) has `1-2-3`");
    bad::<CronSchedule>("*/0 * * * *", "field 1 (minute) has step 0, outside 1-60");
    bad::<CronSchedule>("*/61 * * * *", "field 1 (minute) has step 61, outside 1-60");
    bad::<CronSchedule>("0 */25 * * *", "field 2 (hour) has step 25, outside 1-24");
    bad::<CronSchedule>("0 0 1-10/0 * *", "field 3 (day-of-month) has step 0, outside 1-31");
    bad::<CronSchedule>("0 0 * * */8", "field 5 (day-of-week) has step 8, outside 1-7");
    bad::<CronSchedule>("*/x * * * *", "field 1 (minute) has step `x`, which is not a number");
    bad::<CronSchedule>("*/ * * * *", "field 1 (minute) has an empty step in `*/`");
    bad::<CronSchedule>("*/1/2 * * * *", "field 1 (minute) has step `1/2`, which is not a number");
    bad::<CronSchedule>("5/10 * * * *", "field 1 (minute) has `5/10`; the Unix form takes steps only after `*` or a range");
    bad::<CronSchedule>("1,,2 * * * *", "field 1 (minute) has an empty list item");
    bad::<CronSchedule>("1, * * * *", "field 1 (minute) has an empty list item");
    bad::<CronSchedule>("1,60 * * * *", "field 1 (minute) has 60, outside 0-59");
}

#[test]
fn cron_unix_rejects_aws_syntax() {
    bad::<CronSchedule>("0 0 ? * *", "field 3 (day-of-month) has `?`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * ?", "field 5 (day-of-week) has `?`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 L * *", "field 3 (day-of-month) has `L`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 15W * *", "field 3 (day-of-month) has `15W`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 5L", "field 5 (day-of-week) has `5L`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 3#2", "field 5 (day-of-week) has `3#2`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 1,3#2", "field 5 (day-of-week) has `3#2`, which only the AWS form allows");
}

#[test]
fn cron_unix_day_of_month_or_week() {
    let problem = "restricts both day-of-month and day-of-week";
    bad::<CronSchedule>("0 0 1 * 1", problem);
    bad::<CronSchedule>("0 0 */2 * MON", problem);
    bad::<CronSchedule>("0 0 1 * */1", problem);
    ok::<CronSchedule>("0 0 1 * *");
    ok::<CronSchedule>("0 0 * * 1");
}

#[test]
fn cron_shape() {
    bad::<CronSchedule>("", "is empty");
    bad::<CronSchedule>("0 0 * *", "has 4 fields, not 5");
    bad::<CronSchedule>("0 0 * * * *", "has 6 fields, not 5");
    bad::<CronSchedule>("@daily", "has 1 fields, not 5");
    bad::<CronSchedule>("rate(1 day)", "has 2 fields, not 5");
    bad::<CronSchedule>("cron(0 0 * * ?)", "has 5 fields inside `cron(...)`, not 6");
    bad::<CronSchedule>("cron(0 0 * * ? * *)", "has 7 fields inside `cron(...)`, not 6");
    bad::<CronSchedule>("cron(0 0 * * ? *", "opens `cron(` without closing it with `)`");
    bad::<CronSchedule>("cron()", "has an empty field");
    bad::<CronSchedule>("0  0 * * *", "has an empty field: fields are separated by single spaces");
    bad::<CronSchedule>(" 0 0 * * *", "has an empty field");
    bad::<CronSchedule>("0 0 * * * ", "has an empty field");
    bad::<CronSchedule>("cron( 0 0 * * ? *)", "has an empty field");
    bad::<CronSchedule>("0\t0 * * *", "has 4 fields, not 5");
    bad::<CronSchedule>("CRON(0 0 * * ? *)", "has 6 fields, not 5");
}

#[test]
fn cron_aws_accepts() {
    for good in [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(*/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 L * ? *)",
        "cron(0 9 LW * ? *)",
        "cron(0 9 15W * ? *)",
        "cron(0 9 ? * L *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 9 ? * FRIL *)",
        "cron(0 9 ? * 3#2 *)",
        "cron(0 0 ? * MON#1 *)",
        "cron(0 0 ? * 1,7 *)",
        "cron(0 0 ? * SUN-SAT *)",
        "cron(0 0 ? * * *)",
        "cron(0 10 1 1,4,7,10 ? *)",
        "cron(0 0 1 JAN ? 2030)",
        "cron(0 0 1 1 ? 2025-2030/2)",
        "cron(0 0 1 1 ? 2025,2027)",
        "cron(0 0 1/5 * ? *)",
    ] {
        ok::<CronSchedule>(good);
    }
}

#[test]
fn cron_aws_field_edges() {
    ok::<CronSchedule>("cron(0 0 ? * 1 *)");
    ok::<CronSchedule>("cron(0 0 ? * 7 *)");
    bad::<CronSchedule>("cron(0 0 ? * 0 *)", "field 5 (day-of-week) has 0, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 8 *)", "field 5 (day-of-week) has 8, outside 1-7");
    ok::<CronSchedule>("cron(0 0 * * ? 1970)");
    ok::<CronSchedule>("cron(0 0 * * ? 2199)");
    bad::<CronSchedule>("cron(0 0 * * ? 1969)", "field 6 (year) has 1969, outside 1970-2199");
    bad::<CronSchedule>("cron(0 0 * * ? 2200)", "field 6 (year) has 2200, outside 1970-2199");
    bad::<CronSchedule>("cron(0 0 * * ? */231)", "field 6 (year) has step 231, outside 1-230");
    bad::<CronSchedule>("cron(60 0 * * ? *)", "field 1 (minute) has 60, outside 0-59");
    bad::<CronSchedule>("cron(0 24 * * ? *)", "field 2 (hour) has 24, outside 0-23");
    bad::<CronSchedule>("cron(0 0 32 * ? *)", "field 3 (day-of-month) has 32, outside 1-31");
    bad::<CronSchedule>("cron(0 0 * 13 ? *)", "field 4 (month) has 13, outside 1-12");
}

#[test]
fn cron_aws_question_mark() {
    bad::<CronSchedule>("cron(0 0 ? * ? *)", "has `?` in both day-of-month and day-of-week; exactly one of them must be `?`");
    bad::<CronSchedule>("cron(0 0 * * * *)", "has `?` in neither day-of-month nor day-of-week; exactly one of them must be `?`");
    bad::<CronSchedule>("cron(0 0 1 * MON *)", "has `?` in neither day-of-month nor day-of-week");
    bad::<CronSchedule>("cron(0 ? * * ? *)", "field 2 (hour) has `?`, which only day-of-month and day-of-week allow");
    bad::<CronSchedule>("cron(0 0 * * ? ?)", "field 6 (year) has `?`, which only day-of-month and day-of-week allow");
    bad::<CronSchedule>("cron(0 0 1,? * ? *)", "field 3 (day-of-month) has `?` in a list");
    bad::<CronSchedule>("cron(1,? 0 * * ? *)", "field 1 (minute) has `?`, which only day-of-month and day-of-week allow");
    bad::<CronSchedule>("0 0 1,? * *", "field 3 (day-of-month) has `?`, which only the AWS form allows");
}

#[test]
fn cron_aws_specials() {
    bad::<CronSchedule>("cron(0 0 32W * ? *)", "field 3 (day-of-month) has 32, outside 1-31");
    bad::<CronSchedule>("cron(0 0 0W * ? *)", "field 3 (day-of-month) has 0, outside 1-31");
    bad::<CronSchedule>("cron(0 0 W * ? *)", "field 3 (day-of-month) has `W`");
    bad::<CronSchedule>("cron(0 0 ? * 8L *)", "field 5 (day-of-week) has 8, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 0#1 *)", "field 5 (day-of-week) has 0, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 3#6 *)", "field 5 (day-of-week) has week `6` in `3#6`, outside 1-5");
    bad::<CronSchedule>("cron(0 0 ? * 3#0 *)", "field 5 (day-of-week) has week `0` in `3#0`, outside 1-5");
    bad::<CronSchedule>("cron(0 0 ? * 3# *)", "field 5 (day-of-week) has week `` in `3#`, outside 1-5");
    bad::<CronSchedule>("cron(0 0 ? * 3#1,6#3 *)", "field 5 (day-of-week) has `3#1` in a list; `?`, `L`, `W` and `#` stand only alone");
    bad::<CronSchedule>("cron(0 0 L,15 * ? *)", "field 3 (day-of-month) has `L` in a list");
    bad::<CronSchedule>("cron(0 0 ? * 2W *)", "field 5 (day-of-week) has `2W`");
    bad::<CronSchedule>("cron(0 0 3#2 * ? *)", "field 3 (day-of-month) has `3#2`");
    bad::<CronSchedule>("cron(L 0 * * ? *)", "field 1 (minute) has `L`");
    bad::<CronSchedule>("cron(0 0 ? * */2 *)", "field 5 (day-of-week) has the step `*/2`; the AWS form takes no step in day-of-week");
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
