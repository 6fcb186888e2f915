//! Cron schedules in the five-field Unix form or AWS's six-field `cron(...)`
//! form: a parser checking each field, and conversion between the forms.

use super::newtype::{Check, fault};

const CRON_RULE: &str = "cron schedules: five Unix fields `minute hour day-of-month month day-of-week`, or AWS's `cron(minute hour day-of-month month day-of-week year)`, separated by single spaces; each field is `*`, a number, a range `a-b` with a <= b, a step `*/n` or `a-b/n` with n from 1 to the field's count of values, or a comma-separated list of these; minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT in the Unix form and 1-7 (1 is Sunday) or SUN-SAT in the AWS form, year 1970-2199, names in any case; the Unix form leaves day-of-month or day-of-week `*`; the AWS form has `?` in exactly one of day-of-month and day-of-week, takes no step in day-of-week, and also takes steps `a/n`, and as the whole field `L`, `LW` or `nW` in day-of-month and `L`, `nL` or `n#k` (k 1-5) in day-of-week";

/// Which of the two forms a schedule is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CronForm {
    /// `min hour dom month dow`.
    Unix,
    /// `cron(min hour dom month dow year)`.
    Aws,
}

/// The numbering of one field of a schedule.
struct CronField {
    name: &'static str,
    min: u32,
    max: u32,
    /// How many distinct values the field has: the largest step.
    count: u32,
    /// Three-letter names, the first of which stands for `min`.
    names: &'static [&'static str],
}

const MONTH_NAMES: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const fn cron_field(name: &'static str, min: u32, max: u32, count: u32, names: &'static [&'static str]) -> CronField {
    CronField { name, min, max, count, names }
}

const UNIX_FIELDS: [CronField; 5] = [
    cron_field("minute", 0, 59, 60, &[]),
    cron_field("hour", 0, 23, 24, &[]),
    cron_field("day-of-month", 1, 31, 31, &[]),
    cron_field("month", 1, 12, 12, MONTH_NAMES),
    // 7 is Sunday again, so the names start at 0.
    cron_field("day-of-week", 0, 7, 7, DAY_NAMES),
];

const AWS_FIELDS: [CronField; 6] = [
    cron_field("minute", 0, 59, 60, &[]),
    cron_field("hour", 0, 23, 24, &[]),
    cron_field("day-of-month", 1, 31, 31, &[]),
    cron_field("month", 1, 12, 12, MONTH_NAMES),
    cron_field("day-of-week", 1, 7, 7, DAY_NAMES),
    cron_field("year", 1970, 2199, 230, &[]),
];

const DAY_OF_MONTH: usize = 2;
const DAY_OF_WEEK: usize = 4;
const YEAR: usize = 5;

impl CronForm {
    fn fields(self) -> &'static [CronField] {
        match self {
            CronForm::Unix => &UNIX_FIELDS,
            CronForm::Aws => &AWS_FIELDS,
        }
    }
}

/// The values an item starts from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CronBase {
    Star,
    Value(u32),
    Range(u32, u32),
}

/// One comma-separated item of a field: `*`, `5`, `1-5`, each with an optional `/step`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct CronItem {
    base: CronBase,
    step: Option<u32>,
}

enum CronValue {
    List(Vec<CronItem>),
    /// AWS's `?`.
    Any,
    /// AWS's `L`, `LW`, `nW`, `nL` and `n#k`, which have no Unix equivalent.
    Special,
}

impl CronValue {
    fn is_star(&self) -> bool {
        matches!(self, CronValue::List(items) if items[..] == [CronItem { base: CronBase::Star, step: None }])
    }
}

struct Cron {
    form: CronForm,
    fields: Vec<CronValue>,
}

/// Parse a schedule in either form; the error is the problem.
fn parse_cron(v: &str) -> std::result::Result<Cron, String> {
    if v.is_empty() {
        return Err("is empty".to_owned());
    }
    let (form, body) = match v.strip_prefix("cron(") {
        Some(rest) => (CronForm::Aws, rest.strip_suffix(')').ok_or("opens `cron(` without closing it with `)`")?),
        None => (CronForm::Unix, v),
    };
    let tokens: Vec<&str> = body.split(' ').collect();
    if tokens.contains(&"") {
        return Err("has an empty field: fields are separated by single spaces".to_owned());
    }
    let specs = form.fields();
    if tokens.len() != specs.len() {
        let inside = if form == CronForm::Aws { " inside `cron(...)`" } else { "" };
        return Err(format!("has {} fields{inside}, not {}", tokens.len(), specs.len()));
    }
    let fields = tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            parse_cron_field(form, index, token).map_err(|problem| format!("field {} ({}) {problem}", index + 1, specs[index].name))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (dom, dow) = (&fields[DAY_OF_MONTH], &fields[DAY_OF_WEEK]);
    match form {
        CronForm::Unix if !dom.is_star() && !dow.is_star() => {
            Err("restricts both day-of-month and day-of-week, which runs on either and AWS cannot express; leave one of them `*`"
                .to_owned())
        }
        CronForm::Aws => match (matches!(dom, CronValue::Any), matches!(dow, CronValue::Any)) {
            (true, true) => Err("has `?` in both day-of-month and day-of-week; exactly one of them must be `?`".to_owned()),
            (false, false) => Err("has `?` in neither day-of-month nor day-of-week; exactly one of them must be `?`".to_owned()),
            _ => Ok(Cron { form, fields }),
        },
        CronForm::Unix => Ok(Cron { form, fields }),
    }
}

fn parse_cron_field(form: CronForm, index: usize, token: &str) -> std::result::Result<CronValue, String> {
    let day = index == DAY_OF_MONTH || index == DAY_OF_WEEK;
    let question_mark = match form {
        CronForm::Unix => Err("has `?`, which only the AWS form allows".to_owned()),
        CronForm::Aws if day => Ok(CronValue::Any),
        CronForm::Aws => Err("has `?`, which only day-of-month and day-of-week allow".to_owned()),
    };
    if token == "?" {
        return question_mark;
    }
    let special = if token.contains(',') { None } else { check_cron_special(index, token) };
    if let Some(special) = special {
        if form == CronForm::Unix {
            return Err(format!("has `{token}`, which only the AWS form allows"));
        }
        special?;
        return Ok(CronValue::Special);
    }
    let mut items = Vec::new();
    for part in token.split(',') {
        if part.is_empty() {
            return Err("has an empty list item".to_owned());
        }
        if part == "?" {
            question_mark?;
            return Err("has `?` in a list; `?`, `L`, `W` and `#` stand only alone".to_owned());
        }
        if check_cron_special(index, part).is_some() {
            return Err(match form {
                CronForm::Unix => format!("has `{part}`, which only the AWS form allows"),
                CronForm::Aws => format!("has `{part}` in a list; `?`, `L`, `W` and `#` stand only alone"),
            });
        }
        items.push(parse_cron_item(form, index, part)?);
    }
    Ok(CronValue::List(items))
}

/// `None` unless `token` has the shape of AWS's `L`, `LW` or `nW` (day-of-month) or `L`, `nL` or
/// `n#k` (day-of-week); then whether its numbers are in range.
fn check_cron_special(index: usize, token: &str) -> Option<std::result::Result<(), String>> {
    let spec = &AWS_FIELDS[index];
    match index {
        DAY_OF_MONTH => {
            if token == "L" || token == "LW" {
                return Some(Ok(()));
            }
            let day = token.strip_suffix('W').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?;
            Some(cron_value(spec, day, token).map(drop))
        }
        DAY_OF_WEEK => {
            if token == "L" {
                return Some(Ok(()));
            }
            let in_range = |day: &str| cron_value(spec, day, token).map(drop);
            if let Some((day, nth)) = token.split_once('#') {
                return Some(in_range(day).and_then(|()| match nth.parse::<u32>() {
                    Ok(1..=5) if nth.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
                    _ => Err(format!("has week `{nth}` in `{token}`, outside 1-5")),
                }));
            }
            let day = token.strip_suffix('L').filter(|d| !d.is_empty())?;
            Some(in_range(day))
        }
        _ => None,
    }
}

/// One number or name of `spec` in `part` of a field.
fn cron_value(spec: &CronField, text: &str, part: &str) -> std::result::Result<u32, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(n) if (spec.min..=spec.max).contains(&n) => Ok(n),
            Ok(n) => Err(format!("has {n}, outside {}-{}", spec.min, spec.max)),
            Err(_) => Err(format!("has {text}, outside {}-{}", spec.min, spec.max)),
        };
    }
    if let Some(i) = spec.names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
        return Ok(spec.min + i as u32);
    }
    let what = if spec.names.is_empty() { "a number" } else { "a number or name" };
    Err(format!("has `{part}`, which is not {what}, a range or a step"))
}

fn parse_cron_item(form: CronForm, index: usize, part: &str) -> std::result::Result<CronItem, String> {
    let spec = &form.fields()[index];
    let (base, step) = match part.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (part, None),
    };
    let step = match step {
        None => None,
        Some(_) if form == CronForm::Aws && index == DAY_OF_WEEK => {
            return Err(format!("has the step `{part}`; the AWS form takes no step in day-of-week"));
        }
        Some("") => return Err(format!("has an empty step in `{part}`")),
        Some(step) if !step.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("has step `{step}`, which is not a number"));
        }
        Some(step) => match step.parse::<u32>() {
            Ok(n) if (1..=spec.count).contains(&n) => Some(n),
            Ok(n) => return Err(format!("has step {n}, outside 1-{}", spec.count)),
            Err(_) => return Err(format!("has step {step}, outside 1-{}", spec.count)),
        },
    };
    let base = if base == "*" {
        CronBase::Star
    } else if let Some((first, last)) = base.split_once('-') {
        let (first, last) = (cron_value(spec, first, part)?, cron_value(spec, last, part)?);
        if first > last {
            return Err(format!("has the range {base}, which runs backwards"));
        }
        CronBase::Range(first, last)
    } else {
        let value = cron_value(spec, base, part)?;
        if step.is_some() && form == CronForm::Unix {
            return Err(format!("has `{part}`; the Unix form takes steps only after `*` or a range"));
        }
        CronBase::Value(value)
    };
    Ok(CronItem { base, step })
}

fn check_cron(v: &str) -> Check {
    match parse_cron(v) {
        Ok(_) => Ok(()),
        Err(problem) => fault(problem, CRON_RULE),
    }
}

/// The days of the week, Sunday first, that `items` of a day-of-week field in `form` cover.
fn cron_days(form: CronForm, items: &[CronItem]) -> [bool; 7] {
    let spec = &form.fields()[DAY_OF_WEEK];
    let mut days = [false; 7];
    for item in items {
        let (first, last) = match item.base {
            CronBase::Star => (spec.min, spec.max),
            CronBase::Value(v) if item.step.is_some() => (v, spec.max),
            CronBase::Value(v) => (v, v),
            CronBase::Range(first, last) => (first, last),
        };
        for value in (first..=last).step_by(item.step.unwrap_or(1) as usize) {
            let sunday_first = match form {
                CronForm::Unix => value % 7,
                CronForm::Aws => value - 1,
            };
            days[sunday_first as usize] = true;
        }
    }
    days
}

/// `days` (Sunday first) as a list of numbers and ranges, Sunday numbered `sunday`.
fn render_cron_days(days: [bool; 7], sunday: usize) -> String {
    if days.iter().all(|d| *d) {
        return "*".to_owned();
    }
    let mut runs = Vec::new();
    let mut day = 0;
    while day < 7 {
        if !days[day] {
            day += 1;
            continue;
        }
        let first = day;
        while day + 1 < 7 && days[day + 1] {
            day += 1;
        }
        runs.push(if first == day { format!("{}", first + sunday) } else { format!("{}-{}", first + sunday, day + sunday) });
        day += 1;
    }
    runs.join(",")
}

/// `items` of field `index` in `form`, in numbers; `a/n` becomes `a-max/n` (the Unix
/// form has no `a/n`) and day-of-week a list of days with Sunday numbered `sunday`.
fn render_cron_items(form: CronForm, index: usize, items: &[CronItem], sunday: usize) -> String {
    if index == DAY_OF_WEEK {
        return render_cron_days(cron_days(form, items), sunday);
    }
    let spec = &form.fields()[index];
    let rendered: Vec<String> = items
        .iter()
        .map(|item| {
            let base = match item.base {
                CronBase::Star => "*".to_owned(),
                CronBase::Value(v) if item.step.is_some() => format!("{v}-{}", spec.max),
                CronBase::Value(v) => v.to_string(),
                CronBase::Range(first, last) => format!("{first}-{last}"),
            };
            match item.step {
                Some(step) => format!("{base}/{step}"),
                None => base,
            }
        })
        .collect();
    rendered.join(",")
}

crate::validated_string!(
    /// A cron schedule: five-field Unix form or AWS's six-field `cron(...)` form,
    /// each checked field by field; see [`CronSchedule::to_aws`] and
    /// [`CronSchedule::to_unix`] to convert.
    CronSchedule, "schedule", check_cron
);

impl CronSchedule {
    fn parsed(&self) -> Cron {
        parse_cron(&self.0).expect("a CronSchedule holds a valid schedule")
    }

    /// The schedule in AWS's `cron(min hour dom month dow year)` form: AWS input
    /// unchanged; Unix input with `?` in day-of-week, or in day-of-month when
    /// day-of-week is restricted, day-of-week renumbered from Unix 0-7 (Sunday 0
    /// or 7) to AWS 1-7 (Sunday 1), names as numbers and year `*`.
    pub fn to_aws(&self) -> String {
        let cron = self.parsed();
        if cron.form == CronForm::Aws {
            return self.0.clone();
        }
        let render = |index: usize| match &cron.fields[index] {
            CronValue::List(items) => render_cron_items(CronForm::Unix, index, items, 1),
            CronValue::Any | CronValue::Special => unreachable!("the Unix form has only lists"),
        };
        let (dom, dow) =
            if cron.fields[DAY_OF_WEEK].is_star() { (render(DAY_OF_MONTH), "?".to_owned()) } else { ("?".to_owned(), render(DAY_OF_WEEK)) };
        format!("cron({} {} {dom} {} {dow} *)", render(0), render(1), render(3))
    }

    /// The schedule in the five-field Unix form: Unix input unchanged; AWS input
    /// with `?` as `*`, day-of-week renumbered from AWS 1-7 (Sunday 1) to Unix 0-6
    /// (Sunday 0), `a/n` as `a-max/n` and names as numbers. `None` when the AWS
    /// schedule uses what the Unix form cannot say: `L`, `W`, `#` or a year other
    /// than `*`.
    pub fn to_unix(&self) -> Option<String> {
        let cron = self.parsed();
        if cron.form == CronForm::Unix {
            return Some(self.0.clone());
        }
        if !cron.fields[YEAR].is_star() {
            return None;
        }
        let mut unix = Vec::with_capacity(5);
        for (index, field) in cron.fields[..5].iter().enumerate() {
            unix.push(match field {
                CronValue::Special => return None,
                CronValue::Any => "*".to_owned(),
                CronValue::List(items) => render_cron_items(CronForm::Aws, index, items, 0),
            });
        }
        Some(unix.join(" "))
    }
}

#[cfg(test)]
#[path = "tests/cron.rs"]
mod tests;
