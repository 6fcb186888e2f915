//! The specs of health alarms: names, the topic, the typed metrics and their
//! thresholds, and the checks made before any request.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use deploy_core::error::ResultExt;
use deploy_core::validate::{Check, fault};
use deploy_core::{Error, ResourceName, Result};

pub(super) fn check_alarm_name(name: &str) -> Check {
    let rule = "CloudWatch alarm names: 1-255 printable ASCII characters";
    if name.is_empty() || name.len() > 255 {
        return fault(format!("has {} characters", name.len()), rule);
    }
    match name.chars().find(|c| !(' '..='~').contains(c)) {
        Some(c) => fault(format!("contains {c:?}"), rule),
        None => Ok(()),
    }
}

deploy_core::validated_string!(
    /// An alarm name: 1 to 255 printable ASCII characters.
    AlarmName, "name", check_alarm_name
);

fn check_topic_name(name: &str) -> Check {
    let ok = (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { Ok(()) } else { fault(format!("`{name}` breaks the rule"), "SNS topic names: 1-256 letters, digits, `_` and `-`") }
}

deploy_core::validated_string!(
    /// An SNS topic name: 1 to 256 letters, digits, `_` and `-` (standard topics).
    TopicName, "topic.name", check_topic_name
);

fn check_email(address: &str) -> Check {
    let ok = address.len() <= 254
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
        })
        && address.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        fault("is not an e-mail address", "e-mail addresses: local@domain.tld, at most 254 printable ASCII characters")
    }
}

deploy_core::validated_string!(
    /// An e-mail address to subscribe to a topic: `local@domain.tld`, at most
    /// 254 characters, no spaces.
    EmailAddress, "topic.email", check_email
);

/// The SNS topic the alarms notify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// The topic's name.
    pub name: TopicName,
    /// An e-mail address to subscribe (AWS mails a confirmation link first).
    pub email: Option<EmailAddress>,
    /// The KMS key (id, ARN or `alias/...`) encrypting the topic; `None` leaves
    /// the topic's encryption as it is (a new topic is unencrypted). CloudWatch
    /// can publish only to a topic whose key lets `cloudwatch.amazonaws.com`
    /// use it, which the AWS-managed `alias/aws/sns` key does not: make one
    /// with `kms::KeyPolicy::ServiceUse` (feature `kms`),
    /// as `aws_health_alarms` does.
    pub kms_key_id: Option<String>,
}

impl TopicSpec {
    /// A topic named `name`, without subscription or KMS key.
    pub fn new(name: TopicName) -> Self {
        TopicSpec { name, email: None, kms_key_id: None }
    }

    deploy_core::setters! {
        /// With an e-mail subscription.
        pub fn with_email(Some(email): EmailAddress);

        /// Encrypted with this KMS key.
        pub fn with_kms_key(Some(kms_key_id): impl Into<String>);
    }

    /// Check the KMS key reference.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `topic.kms_key_id`.
    pub fn validate(&self) -> Result<()> {
        if let Some(key) = &self.kms_key_id {
            let ok = (1..=2048).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                return Err(Error::invalid(
                    "topic.kms_key_id",
                    "is not a key reference",
                    "KMS key ids, ARNs or `alias/NAME`: 1-2048 characters, no spaces",
                ));
            }
        }
        Ok(())
    }
}

/// What a threshold measures, and so its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdUnit {
    /// A percentage: 0 to 100.
    Percent,
    /// Bytes: more than 0.
    Bytes,
    /// A count (connections, failed jobs): at least 1.
    Count,
    /// CPU credits: more than 0.
    Credits,
}

impl ThresholdUnit {
    fn check(self, value: f64) -> std::result::Result<(), &'static str> {
        let ok = value.is_finite()
            && match self {
                ThresholdUnit::Percent => (0.0..=100.0).contains(&value),
                ThresholdUnit::Bytes | ThresholdUnit::Credits => value > 0.0,
                ThresholdUnit::Count => value >= 1.0,
            };
        if ok {
            return Ok(());
        }
        Err(match self {
            ThresholdUnit::Percent => "percentages: 0 to 100",
            ThresholdUnit::Bytes => "bytes: more than 0",
            ThresholdUnit::Count => "counts: at least 1",
            ThresholdUnit::Credits => "CPU credits: more than 0",
        })
    }
}

/// The metric an alarm watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthMetric {
    /// `AWS/RDS` `CPUUtilization` (average percent) above the threshold.
    DatabaseCpu(ResourceName),
    /// `AWS/RDS` `FreeStorageSpace` (average bytes) below the threshold.
    DatabaseFreeStorage(ResourceName),
    /// `AWS/RDS` `DatabaseConnections` (average) above the threshold.
    DatabaseConnections(ResourceName),
    /// `AWS/RDS` `BurstBalance` (average percent of gp2 I/O credits) below the threshold.
    DatabaseBurstBalance(ResourceName),
    /// `AWS/RDS` `CPUCreditBalance` (average credits of a burstable `db.t*` class) below the threshold.
    DatabaseCpuCredits(ResourceName),
    /// `AWS/Backup` `NumberOfBackupJobsFailed` (sum) at or above the threshold:
    /// of one vault (dimension `BackupVaultName`), or of the account.
    BackupJobsFailed(Option<String>),
}

impl HealthMetric {
    /// The CloudWatch namespace.
    pub fn namespace(&self) -> &'static str {
        if matches!(self, HealthMetric::BackupJobsFailed(_)) { "AWS/Backup" } else { "AWS/RDS" }
    }

    /// The metric's name.
    pub fn metric_name(&self) -> &'static str {
        match self {
            HealthMetric::DatabaseCpu(_) => "CPUUtilization",
            HealthMetric::DatabaseFreeStorage(_) => "FreeStorageSpace",
            HealthMetric::DatabaseConnections(_) => "DatabaseConnections",
            HealthMetric::DatabaseBurstBalance(_) => "BurstBalance",
            HealthMetric::DatabaseCpuCredits(_) => "CPUCreditBalance",
            HealthMetric::BackupJobsFailed(_) => "NumberOfBackupJobsFailed",
        }
    }

    /// The dimensions (`DBInstanceIdentifier`, `BackupVaultName`).
    pub fn dimensions(&self) -> BTreeMap<String, String> {
        match self {
            HealthMetric::DatabaseCpu(db)
            | HealthMetric::DatabaseFreeStorage(db)
            | HealthMetric::DatabaseConnections(db)
            | HealthMetric::DatabaseBurstBalance(db)
            | HealthMetric::DatabaseCpuCredits(db) => BTreeMap::from([("DBInstanceIdentifier".to_owned(), db.to_string())]),
            HealthMetric::BackupJobsFailed(Some(vault)) => BTreeMap::from([("BackupVaultName".to_owned(), vault.clone())]),
            HealthMetric::BackupJobsFailed(None) => BTreeMap::new(),
        }
    }

    /// The statistic: `Sum` for failed jobs, else `Average`.
    pub fn statistic(&self) -> Statistic {
        if matches!(self, HealthMetric::BackupJobsFailed(_)) { Statistic::Sum } else { Statistic::Average }
    }

    /// The comparison with the threshold.
    pub fn comparison(&self) -> ComparisonOperator {
        match self {
            HealthMetric::DatabaseCpu(_) | HealthMetric::DatabaseConnections(_) => ComparisonOperator::GreaterThanThreshold,
            HealthMetric::DatabaseFreeStorage(_) | HealthMetric::DatabaseBurstBalance(_) | HealthMetric::DatabaseCpuCredits(_) => {
                ComparisonOperator::LessThanThreshold
            }
            HealthMetric::BackupJobsFailed(_) => ComparisonOperator::GreaterThanOrEqualToThreshold,
        }
    }

    /// What the threshold measures.
    pub fn unit(&self) -> ThresholdUnit {
        match self {
            HealthMetric::DatabaseCpu(_) | HealthMetric::DatabaseBurstBalance(_) => ThresholdUnit::Percent,
            HealthMetric::DatabaseFreeStorage(_) => ThresholdUnit::Bytes,
            HealthMetric::DatabaseConnections(_) | HealthMetric::BackupJobsFailed(_) => ThresholdUnit::Count,
            HealthMetric::DatabaseCpuCredits(_) => ThresholdUnit::Credits,
        }
    }

    /// How missing data counts: no backup job is no failure (`notBreaching`);
    /// a database that reports nothing is `missing` (the alarm goes to INSUFFICIENT_DATA).
    pub fn treat_missing_data(&self) -> &'static str {
        if matches!(self, HealthMetric::BackupJobsFailed(_)) { "notBreaching" } else { "missing" }
    }
}

/// One alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSpec {
    /// The alarm's name.
    pub name: AlarmName,
    /// What it watches.
    pub metric: HealthMetric,
    /// The threshold, in the metric's [`ThresholdUnit`].
    pub threshold: f64,
    /// The period of one datapoint: a multiple of 60 seconds, at most one day.
    pub period_seconds: u32,
    /// How many periods in a row must breach: at least 1; periods × period at most 7 days.
    pub evaluation_periods: u32,
    /// The description.
    pub description: String,
}

impl AlarmSpec {
    /// An alarm on `metric` at `threshold`, over 3 periods of 5 minutes (1 of 1 hour for failed backup jobs).
    pub fn new(name: AlarmName, metric: HealthMetric, threshold: f64) -> Self {
        let (period_seconds, evaluation_periods) = if matches!(metric, HealthMetric::BackupJobsFailed(_)) { (3600, 1) } else { (300, 3) };
        let description = format!("{} {} {threshold}", metric.metric_name(), comparison_sign(&metric.comparison()));
        AlarmSpec { name, metric, threshold, period_seconds, evaluation_periods, description }
    }

    /// Check the threshold against its unit, the period and the evaluation periods.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `threshold`, `period_seconds`, `evaluation_periods`,
    /// `description` or `metric` (a vault name).
    pub fn validate(&self) -> Result<()> {
        let unit = self.metric.unit();
        if let Err(rule) = unit.check(self.threshold) {
            return Err(Error::invalid("threshold", format!("is {} for {}", self.threshold, self.metric.metric_name()), rule));
        }
        if self.period_seconds == 0 || !self.period_seconds.is_multiple_of(60) || self.period_seconds > 86_400 {
            return Err(Error::invalid(
                "period_seconds",
                format!("is {}", self.period_seconds),
                "alarm periods: a multiple of 60 seconds, at most 86,400",
            ));
        }
        if self.evaluation_periods == 0 || u64::from(self.evaluation_periods) * u64::from(self.period_seconds) > 7 * 86_400 {
            return Err(Error::invalid(
                "evaluation_periods",
                format!("is {} (of {} s)", self.evaluation_periods, self.period_seconds),
                "evaluation periods: at least 1, and periods × period at most 7 days",
            ));
        }
        if self.description.chars().count() > 1024 {
            return Err(Error::invalid("description", "is longer than 1,024 characters", "alarm descriptions: at most 1,024 characters"));
        }
        if let HealthMetric::BackupJobsFailed(Some(vault)) = &self.metric {
            let ok = (2..=50).contains(&vault.len()) && vault.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(Error::invalid(
                    "metric.vault",
                    format!("`{vault}` is not a vault name"),
                    "backup vault names: 2-50 letters, digits, `-`, `_` and `.`",
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn comparison_sign(c: &ComparisonOperator) -> &'static str {
    match c {
        ComparisonOperator::GreaterThanThreshold => ">",
        ComparisonOperator::GreaterThanOrEqualToThreshold => ">=",
        ComparisonOperator::LessThanThreshold => "<",
        ComparisonOperator::LessThanOrEqualToThreshold => "<=",
        _ => "?",
    }
}

/// The topic and the alarms that notify it.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthAlarmsSpec {
    /// The topic.
    pub topic: TopicSpec,
    /// The alarms; each notifies the topic when it fires and when it recovers.
    pub alarms: Vec<AlarmSpec>,
}

impl HealthAlarmsSpec {
    /// The health of database `db` (and of the backups of
    /// `backup_vault`, or of the account): alarms named `{prefix}-db-cpu`
    /// (CPU > 80 %), `-db-free-storage` (< 2 GiB), `-db-connections` (> 100),
    /// `-db-burst-balance` (< 20 %), `-db-cpu-credits` (< 20 credits) and
    /// `{prefix}-backup-jobs-failed` (>= 1 in an hour).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a name made from `prefix` is not valid.
    pub fn database_and_backups(prefix: &str, db: &ResourceName, backup_vault: Option<&str>, topic: TopicSpec) -> Result<Self> {
        let name = |suffix: &str| AlarmName::new(format!("{prefix}-{suffix}"));
        let alarms = vec![
            AlarmSpec::new(name("db-cpu")?, HealthMetric::DatabaseCpu(db.clone()), 80.0),
            AlarmSpec::new(name("db-free-storage")?, HealthMetric::DatabaseFreeStorage(db.clone()), 2.0 * 1024.0 * 1024.0 * 1024.0),
            AlarmSpec::new(name("db-connections")?, HealthMetric::DatabaseConnections(db.clone()), 100.0),
            AlarmSpec::new(name("db-burst-balance")?, HealthMetric::DatabaseBurstBalance(db.clone()), 20.0),
            AlarmSpec::new(name("db-cpu-credits")?, HealthMetric::DatabaseCpuCredits(db.clone()), 20.0),
            AlarmSpec::new(name("backup-jobs-failed")?, HealthMetric::BackupJobsFailed(backup_vault.map(str::to_owned)), 1.0),
        ];
        Ok(HealthAlarmsSpec { topic, alarms })
    }

    /// The alarm named `name`, to change its threshold or periods.
    pub fn alarm_mut(&mut self, name: &str) -> Option<&mut AlarmSpec> {
        self.alarms.iter_mut().find(|a| a.name.as_str() == name)
    }

    /// Check the topic and every alarm (at most 100, names not repeated).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`alarms[1].threshold`).
    pub fn validate(&self) -> Result<()> {
        self.topic.validate()?;
        if self.alarms.len() > 100 {
            return Err(Error::invalid("alarms", format!("has {} alarms", self.alarms.len()), "at most 100 alarms per spec"));
        }
        for (i, alarm) in self.alarms.iter().enumerate() {
            let field = format!("alarms[{i}]");
            alarm.validate().in_field(&field)?;
            if let Some(first) = self.alarms[..i].iter().position(|a| a.name == alarm.name) {
                return Err(Error::invalid(format!("{field}.name"), format!("repeats alarms[{first}]"), "alarm names: unique"));
            }
        }
        Ok(())
    }
}
