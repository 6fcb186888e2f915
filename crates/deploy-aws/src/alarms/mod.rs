//! CloudWatch health alarms — resource health and credit balance — notifying
//! an SNS topic.
//!
//! The alarms are typed ([`HealthMetric`]): the database's `CPUUtilization`,
//! `FreeStorageSpace`, `DatabaseConnections`, `BurstBalance` and
//! `CPUCreditBalance` (namespace `AWS/RDS`, dimension `DBInstanceIdentifier`),
//! and AWS Backup's `NumberOfBackupJobsFailed` (namespace `AWS/Backup`,
//! optionally per vault). Each metric knows its statistic, its comparison and
//! the range of its threshold; thresholds, periods (multiples of 60 seconds)
//! and evaluation periods are checked before any request, and a bad one is an
//! [`Error::InvalidInput`] naming the field (`alarms[2].threshold`).
//! CloudWatch accepts alarms on any dimension value, so the alarms of a
//! database can be made before the database exists.
//!
//! [`Alarms`] reconciles a [`HealthAlarmsSpec`] ([`Reconcile`]: `plan` / `ensure`) idempotently: it finds the topic by name (creating it
//! when missing, with an optional KMS key and e-mail subscription), then reads
//! the alarms with `DescribeAlarms` and calls `PutMetricAlarm` only for those
//! that are missing or differ from the spec. A second call makes no mutating
//! request.
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
//! use deploy_aws::alarms::{Alarms, EmailAddress, HealthAlarmsSpec, TopicName, TopicSpec};
//! use deploy_core::{Reconcile, ResourceName};
//!
//! let topic = TopicSpec::new(TopicName::new("acme-alerts")?).with_email(EmailAddress::new("ops@example.com")?);
//! let spec = HealthAlarmsSpec::database_and_backups("acme", &ResourceName::new("acme-db")?, None, topic)?;
//! let ensured = Alarms::new(ctx).ensure(&spec).await?;
//! println!("{}\n{}", ensured.info.topic.arn, ensured.plan);
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{Confirm, Error, Result};
use serde::{Deserialize, Serialize};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, missing};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};

mod spec;

use spec::comparison_sign;
pub use spec::{AlarmName, AlarmSpec, EmailAddress, HealthAlarmsSpec, HealthMetric, ThresholdUnit, TopicName, TopicSpec};

const CLOUDWATCH: &str = "aws-cloudwatch";
const SNS: &str = "aws-sns";

/// One subscription of a topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    /// `email`, `https`, `sqs`, ...
    pub protocol: String,
    /// The address, URL or ARN.
    pub endpoint: String,
    /// Whether the subscriber has not confirmed yet (`PendingConfirmation`).
    pub pending: bool,
}

/// A topic as SNS reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    /// The name.
    pub name: TopicName,
    /// The ARN, which the alarms notify.
    pub arn: String,
    /// The KMS key encrypting it.
    pub kms_key_id: Option<String>,
    /// Its subscriptions.
    pub subscriptions: Vec<SubscriptionInfo>,
}

/// An alarm as CloudWatch reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmInfo {
    /// The name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The namespace (`AWS/RDS`).
    pub namespace: String,
    /// The metric's name.
    pub metric_name: String,
    /// The dimensions.
    pub dimensions: BTreeMap<String, String>,
    /// The statistic (`Average`).
    pub statistic: String,
    /// The comparison (`GreaterThanThreshold`).
    pub comparison: String,
    /// The threshold.
    pub threshold: f64,
    /// The period in seconds.
    pub period_seconds: u32,
    /// The evaluation periods.
    pub evaluation_periods: u32,
    /// How missing data counts.
    pub treat_missing_data: String,
    /// The description.
    pub description: String,
    /// Whether actions run.
    pub actions_enabled: bool,
    /// What runs when the alarm fires (topic ARNs), sorted.
    pub alarm_actions: Vec<String>,
    /// What runs when it recovers, sorted.
    pub ok_actions: Vec<String>,
    /// The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    pub state: String,
}

/// The topic and the alarms, after an ensure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthAlarmsInfo {
    /// The topic.
    pub topic: TopicInfo,
    /// The alarms of the spec, as read back, in the spec's order.
    pub alarms: Vec<AlarmInfo>,
}

/// The fields of an alarm that `ensure` manages, comparable between spec and answer.
#[derive(Clone, Debug, PartialEq)]
struct AlarmState {
    namespace: String,
    metric_name: String,
    dimensions: BTreeMap<String, String>,
    statistic: String,
    comparison: String,
    threshold: f64,
    period_seconds: u32,
    evaluation_periods: u32,
    treat_missing_data: String,
    description: String,
    actions_enabled: bool,
    alarm_actions: Vec<String>,
    ok_actions: Vec<String>,
}

impl AlarmState {
    fn wanted(spec: &AlarmSpec, topic_arn: &str) -> Self {
        AlarmState {
            namespace: spec.metric.namespace().to_owned(),
            metric_name: spec.metric.metric_name().to_owned(),
            dimensions: spec.metric.dimensions(),
            statistic: spec.metric.statistic().as_str().to_owned(),
            comparison: spec.metric.comparison().as_str().to_owned(),
            threshold: spec.threshold,
            period_seconds: spec.period_seconds,
            evaluation_periods: spec.evaluation_periods,
            treat_missing_data: spec.metric.treat_missing_data().to_owned(),
            description: spec.description.clone(),
            actions_enabled: true,
            alarm_actions: vec![topic_arn.to_owned()],
            ok_actions: vec![topic_arn.to_owned()],
        }
    }

    fn of(info: &AlarmInfo) -> Self {
        AlarmState {
            namespace: info.namespace.clone(),
            metric_name: info.metric_name.clone(),
            dimensions: info.dimensions.clone(),
            statistic: info.statistic.clone(),
            comparison: info.comparison.clone(),
            threshold: info.threshold,
            period_seconds: info.period_seconds,
            evaluation_periods: info.evaluation_periods,
            treat_missing_data: info.treat_missing_data.clone(),
            description: info.description.clone(),
            actions_enabled: info.actions_enabled,
            alarm_actions: info.alarm_actions.clone(),
            ok_actions: info.ok_actions.clone(),
        }
    }

    fn diff(&self, wanted: &AlarmState) -> Vec<FieldChange> {
        let mut fields = Vec::new();
        let mut field = |name: &str, have: String, want: String| {
            if have != want {
                fields.push(FieldChange::new(name, have, want));
            }
        };
        field("namespace", self.namespace.clone(), wanted.namespace.clone());
        field("metric", self.metric_name.clone(), wanted.metric_name.clone());
        field("dimensions", format!("{:?}", self.dimensions), format!("{:?}", wanted.dimensions));
        field("statistic", self.statistic.clone(), wanted.statistic.clone());
        field("comparison", self.comparison.clone(), wanted.comparison.clone());
        let same_threshold = (self.threshold - wanted.threshold).abs() <= 1e-9 * wanted.threshold.abs().max(1.0);
        if !same_threshold {
            field("threshold", self.threshold.to_string(), wanted.threshold.to_string());
        }
        field("period_seconds", self.period_seconds.to_string(), wanted.period_seconds.to_string());
        field("evaluation_periods", self.evaluation_periods.to_string(), wanted.evaluation_periods.to_string());
        field("treat_missing_data", self.treat_missing_data.clone(), wanted.treat_missing_data.clone());
        field("description", self.description.clone(), wanted.description.clone());
        field("actions_enabled", self.actions_enabled.to_string(), wanted.actions_enabled.to_string());
        field("alarm_actions", self.alarm_actions.join(","), wanted.alarm_actions.join(","));
        field("ok_actions", self.ok_actions.join(","), wanted.ok_actions.join(","));
        fields
    }
}

/// CloudWatch alarms and the SNS topic they notify. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Alarms {
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
}

impl Alarms {
    /// CloudWatch and SNS built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        Alarms { cloudwatch: ctx.client(), sns: ctx.client() }
    }

    /// The CloudWatch client.
    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cloudwatch
    }

    /// The SNS client.
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    async fn find_topic_arn(&self, name: &TopicName) -> Result<Option<String>> {
        let suffix = format!(":{name}");
        let mut pages = self.sns.list_topics().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(Op::new(SNS, "ListTopics"), "sns topic", name.as_str())?;
            if let Some(arn) = page.topics().iter().filter_map(|t| t.topic_arn()).find(|arn| arn.ends_with(&suffix)) {
                return Ok(Some(arn.to_owned()));
            }
        }
        Ok(None)
    }

    /// The topic named `name`, with its KMS key and subscriptions.
    ///
    /// # Errors
    /// [`Error::NotFound`]; provider errors.
    pub async fn describe_topic(&self, name: &TopicName) -> Result<TopicInfo> {
        let arn = self.find_topic_arn(name).await?.ok_or_else(|| Error::not_found("sns topic", name.as_str()))?;
        self.topic_info(name, arn).await
    }

    async fn topic_info(&self, name: &TopicName, arn: String) -> Result<TopicInfo> {
        let attributes = self.sns.get_topic_attributes().topic_arn(&arn).send().await.on(
            Op::new(SNS, "GetTopicAttributes"),
            "sns topic",
            name.as_str(),
        )?;
        let kms_key_id = attributes.attributes().and_then(|a| a.get("KmsMasterKeyId")).filter(|k| !k.is_empty()).cloned();
        let mut subscriptions = Vec::new();
        let mut pages = self.sns.list_subscriptions_by_topic().topic_arn(&arn).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(Op::new(SNS, "ListSubscriptionsByTopic"), "sns topic", name.as_str())?;
            subscriptions.extend(page.subscriptions().iter().map(|s| SubscriptionInfo {
                protocol: s.protocol().unwrap_or_default().to_owned(),
                endpoint: s.endpoint().unwrap_or_default().to_owned(),
                pending: s.subscription_arn() == Some("PendingConfirmation"),
            }));
        }
        Ok(TopicInfo { name: name.clone(), arn, kms_key_id, subscriptions })
    }

    fn topic_changes(spec: &TopicSpec, topic: Option<&TopicInfo>) -> Plan {
        let Some(topic) = topic else {
            let mut plan = Plan::from_iter([Change::create("sns topic", spec.name.as_str())]);
            if let Some(email) = &spec.email {
                plan.push(Change::create("sns subscription", format!("email {} to {}", email.as_str(), spec.name)));
            }
            return plan;
        };
        let mut plan = Plan::new();
        if let Some(key) = &spec.kms_key_id
            && topic.kms_key_id.as_ref() != Some(key)
        {
            plan.push(Change::update(
                "sns topic",
                spec.name.as_str(),
                vec![FieldChange::new("kms_key_id", topic.kms_key_id.as_deref().unwrap_or("-"), key)],
            ));
        }
        if let Some(email) = &spec.email
            && !topic.subscriptions.iter().any(|s| s.protocol == "email" && s.endpoint == email.as_str())
        {
            plan.push(Change::create("sns subscription", format!("email {} to {}", email.as_str(), spec.name)));
        }
        plan
    }

    /// Delete the topic named `name` (its subscriptions go with it), when it
    /// exists. `confirm` must name the topic.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; provider errors.
    pub async fn delete_topic(&self, name: &TopicName, confirm: &Confirm) -> Result<Plan> {
        confirm.check("delete sns topic", name.as_str())?;
        let Some(arn) = self.find_topic_arn(name).await? else { return Ok(Plan::new()) };
        self.sns.delete_topic().topic_arn(arn).send().await.on(Op::new(SNS, "DeleteTopic"), "sns topic", name.as_str())?;
        Ok(Plan::from_iter([Change::delete("sns topic", name.as_str())]))
    }

    /// The metric alarms named `names` that exist, in the order CloudWatch answers.
    ///
    /// # Errors
    /// Provider errors.
    pub async fn describe_alarms(&self, names: &[AlarmName]) -> Result<Vec<AlarmInfo>> {
        let mut alarms = Vec::new();
        for chunk in names.chunks(100) {
            let describe = Op::new(CLOUDWATCH, "DescribeAlarms");
            let label = chunk.first().map(AlarmName::as_str).unwrap_or_default();
            let mut pages = self
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(chunk.iter().map(|n| n.as_str().to_owned()).collect()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.on(describe, "cloudwatch alarm", label)?;
                alarms.extend(page.metric_alarms().iter().map(alarm_info));
            }
        }
        Ok(alarms)
    }

    /// Every metric alarm whose name starts with `prefix`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on an empty `prefix` (before any request); provider errors.
    pub async fn list_alarms(&self, prefix: &str) -> Result<Vec<AlarmInfo>> {
        if prefix.is_empty() || prefix.len() > 255 {
            return Err(Error::invalid("prefix", format!("has {} characters", prefix.len()), "alarm name prefixes: 1-255 characters"));
        }
        let mut alarms = Vec::new();
        let mut pages = self.cloudwatch.describe_alarms().alarm_name_prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(Op::new(CLOUDWATCH, "DescribeAlarms"), "cloudwatch alarm", prefix)?;
            alarms.extend(page.metric_alarms().iter().map(alarm_info));
        }
        Ok(alarms)
    }

    fn alarm_changes(spec: &HealthAlarmsSpec, topic_arn: &str, current: &[AlarmInfo]) -> (Plan, Vec<usize>) {
        let mut plan = Plan::new();
        let mut puts = Vec::new();
        for (i, alarm) in spec.alarms.iter().enumerate() {
            let wanted = AlarmState::wanted(alarm, topic_arn);
            match current.iter().find(|a| a.name == alarm.name.as_str()) {
                None => {
                    plan.push(Change::create("cloudwatch alarm", alarm_label(alarm)));
                    puts.push(i);
                }
                Some(info) => {
                    let fields = AlarmState::of(info).diff(&wanted);
                    if !fields.is_empty() {
                        plan.push(Change::update("cloudwatch alarm", alarm_label(alarm), fields));
                        puts.push(i);
                    }
                }
            }
        }
        (plan, puts)
    }

    async fn put_alarm(&self, alarm: &AlarmSpec, topic_arn: &str) -> Result<()> {
        let put = Op::new(CLOUDWATCH, "PutMetricAlarm");
        let mut request = self
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(alarm.name.as_str())
            .alarm_description(&alarm.description)
            .actions_enabled(true)
            .alarm_actions(topic_arn)
            .ok_actions(topic_arn)
            .namespace(alarm.metric.namespace())
            .metric_name(alarm.metric.metric_name())
            .statistic(alarm.metric.statistic())
            .period(i32::try_from(alarm.period_seconds).unwrap_or(i32::MAX))
            .evaluation_periods(i32::try_from(alarm.evaluation_periods).unwrap_or(i32::MAX))
            .threshold(alarm.threshold)
            .comparison_operator(alarm.metric.comparison())
            .treat_missing_data(alarm.metric.treat_missing_data());
        for (name, value) in alarm.metric.dimensions() {
            request = request.dimensions(Dimension::builder().name(name).value(value).build());
        }
        request.send().await.on(put, "cloudwatch alarm", alarm.name.as_str())?;
        Ok(())
    }

    /// Delete the alarms named `names` (those missing are skipped by CloudWatch).
    /// `confirm` must cover every name (`Confirm::prefix` for a set).
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; provider errors.
    pub async fn delete_alarms(&self, names: &[AlarmName], confirm: &Confirm) -> Result<Plan> {
        for name in names {
            confirm.check("delete cloudwatch alarm", name.as_str())?;
        }
        let existing = self.describe_alarms(names).await?;
        if existing.is_empty() {
            return Ok(Plan::new());
        }
        let delete = Op::new(CLOUDWATCH, "DeleteAlarms");
        for chunk in existing.chunks(100) {
            self.cloudwatch.delete_alarms().set_alarm_names(Some(chunk.iter().map(|a| a.name.clone()).collect())).send().await.on(
                delete,
                "cloudwatch alarm",
                chunk[0].name.as_str(),
            )?;
        }
        Ok(existing.iter().map(|a| Change::delete("cloudwatch alarm", a.name.as_str())).collect())
    }
}

/// The topic of `spec`, found by name; in [`Mode::Apply`] created when
/// missing, its KMS key set when the spec names another, and the e-mail
/// address subscribed when it is not subscribed (pending or confirmed). A
/// second call makes no mutating request. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; provider errors.
#[async_trait::async_trait]
impl Reconcile<TopicSpec> for Alarms {
    type Info = TopicInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SNS, kind = "sns topic", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &TopicSpec, mode: Mode) -> Result<Reconciled<TopicInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let current = match self.find_topic_arn(&spec.name).await? {
            Some(arn) => Some(self.topic_info(&spec.name, arn).await?),
            None => None,
        };
        let plan = Self::topic_changes(spec, current.as_ref());
        if !mode.is_apply() {
            return Ok(Reconciled { plan, info: current });
        }
        let arn = match &current {
            Some(topic) => topic.arn.clone(),
            None => {
                let create = Op::new(SNS, "CreateTopic");
                let mut request = self.sns.create_topic().name(name);
                if let Some(key) = &spec.kms_key_id {
                    request = request.attributes("KmsMasterKeyId", key);
                }
                let out = request.send().await.on(create, "sns topic", name)?;
                out.topic_arn().ok_or_else(|| missing(create, "topic ARN"))?.to_owned()
            }
        };
        let have_key = current.as_ref().and_then(|t| t.kms_key_id.clone());
        if let (Some(key), Some(_)) = (&spec.kms_key_id, &current)
            && have_key.as_ref() != Some(key)
        {
            self.sns.set_topic_attributes().topic_arn(&arn).attribute_name("KmsMasterKeyId").attribute_value(key).send().await.on(
                Op::new(SNS, "SetTopicAttributes"),
                "sns topic",
                name,
            )?;
        }
        if let Some(email) = &spec.email {
            let subscribed =
                current.as_ref().is_some_and(|t| t.subscriptions.iter().any(|s| s.protocol == "email" && s.endpoint == email.as_str()));
            if !subscribed {
                self.sns.subscribe().topic_arn(&arn).protocol("email").endpoint(email.as_str()).send().await.on(
                    Op::new(SNS, "Subscribe"),
                    "sns topic",
                    name,
                )?;
            }
        }
        let info = match current {
            Some(info) if plan.is_empty() => info,
            _ => self.topic_info(&spec.name, arn).await?,
        };
        Ok(Reconciled { plan, info: Some(info) })
    }
}

/// The topic ([`Reconcile<TopicSpec>`]), then every alarm of `spec`: in
/// [`Mode::Apply`] each alarm missing or differing from the spec is put,
/// notifying the topic on `ALARM` and on `OK`. A second call makes no
/// mutating request. Callers use the provided [`Reconcile::plan`] /
/// [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; provider errors.
#[async_trait::async_trait]
impl Reconcile<HealthAlarmsSpec> for Alarms {
    type Info = HealthAlarmsInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = CLOUDWATCH, kind = "health alarms", name = %spec.topic.name, mode = ?mode))]

    async fn reconcile(&self, spec: &HealthAlarmsSpec, mode: Mode) -> Result<Reconciled<HealthAlarmsInfo>> {
        spec.validate()?;
        let topic = <Self as Reconcile<TopicSpec>>::reconcile(self, &spec.topic, mode).await?;
        let mut plan = topic.plan;
        let topic_arn = match &topic.info {
            Some(topic) => topic.arn.clone(),
            None => format!("(the new topic {})", spec.topic.name),
        };
        let names: Vec<AlarmName> = spec.alarms.iter().map(|a| a.name.clone()).collect();
        let current = self.describe_alarms(&names).await?;
        let (changes, puts) = Self::alarm_changes(spec, &topic_arn, &current);
        plan.extend(changes);
        if mode.is_apply() {
            for i in &puts {
                self.put_alarm(&spec.alarms[*i], &topic_arn).await?;
            }
        }
        let current = if puts.is_empty() || !mode.is_apply() { current } else { self.describe_alarms(&names).await? };
        let info = topic.info.map(|topic| HealthAlarmsInfo {
            topic,
            alarms: spec.alarms.iter().filter_map(|a| current.iter().find(|c| c.name == a.name.as_str()).cloned()).collect(),
        });
        Ok(Reconciled { plan, info })
    }
}

fn alarm_label(alarm: &AlarmSpec) -> String {
    let dims: Vec<String> = alarm.metric.dimensions().values().cloned().collect();
    let on = if dims.is_empty() { String::new() } else { format!(" of {}", dims.join(",")) };
    format!(
        "{} ({} {}{on} {} {} over {}×{} s)",
        alarm.name,
        alarm.metric.namespace(),
        alarm.metric.metric_name(),
        comparison_sign(&alarm.metric.comparison()),
        alarm.threshold,
        alarm.evaluation_periods,
        alarm.period_seconds
    )
}

fn alarm_info(a: &MetricAlarm) -> AlarmInfo {
    let mut alarm_actions = a.alarm_actions().to_vec();
    alarm_actions.sort();
    let mut ok_actions = a.ok_actions().to_vec();
    ok_actions.sort();
    AlarmInfo {
        name: a.alarm_name().unwrap_or_default().to_owned(),
        arn: a.alarm_arn().unwrap_or_default().to_owned(),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        metric_name: a.metric_name().unwrap_or_default().to_owned(),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default().to_owned(), d.value().unwrap_or_default().to_owned()))
            .collect(),
        statistic: a.statistic().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_owned()).unwrap_or_default(),
        threshold: a.threshold().unwrap_or(f64::NAN),
        period_seconds: a.period().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        evaluation_periods: a.evaluation_periods().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        treat_missing_data: a.treat_missing_data().unwrap_or("missing").to_owned(),
        description: a.alarm_description().unwrap_or_default().to_owned(),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        alarm_actions,
        ok_actions,
        state: a.state_value().map(|s| s.as_str().to_owned()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploy_core::ResourceName;

    fn spec() -> HealthAlarmsSpec {
        let topic = TopicSpec::new(TopicName::new("p-alerts").unwrap());
        HealthAlarmsSpec::database_and_backups("p", &ResourceName::new("p-db").unwrap(), None, topic).unwrap()
    }

    #[test]
    fn the_database_and_backups_set_is_valid_and_complete() {
        let s = spec();
        s.validate().unwrap();
        let metrics: Vec<&str> = s.alarms.iter().map(|a| a.metric.metric_name()).collect();
        assert_eq!(
            metrics,
            ["CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "BurstBalance", "CPUCreditBalance", "NumberOfBackupJobsFailed"]
        );
    }

    #[test]
    fn thresholds_periods_and_names_are_checked_with_the_field() {
        let field = |f: fn(&mut HealthAlarmsSpec)| {
            let mut s = spec();
            f(&mut s);
            s.validate().unwrap_err().invalid_field().map(str::to_owned)
        };
        assert_eq!(field(|s| s.alarms[0].threshold = 101.0).as_deref(), Some("alarms[0].threshold"));
        assert_eq!(field(|s| s.alarms[3].threshold = -1.0).as_deref(), Some("alarms[3].threshold"));
        assert_eq!(field(|s| s.alarms[1].threshold = 0.0).as_deref(), Some("alarms[1].threshold"));
        assert_eq!(field(|s| s.alarms[2].threshold = f64::NAN).as_deref(), Some("alarms[2].threshold"));
        assert_eq!(field(|s| s.alarms[5].threshold = 0.5).as_deref(), Some("alarms[5].threshold"));
        assert_eq!(field(|s| s.alarms[0].period_seconds = 90).as_deref(), Some("alarms[0].period_seconds"));
        assert_eq!(field(|s| s.alarms[0].evaluation_periods = 0).as_deref(), Some("alarms[0].evaluation_periods"));
        assert_eq!(field(|s| s.alarms[0].evaluation_periods = 10_000).as_deref(), Some("alarms[0].evaluation_periods"));
        assert_eq!(field(|s| s.alarms[1].name = s.alarms[0].name.clone()).as_deref(), Some("alarms[1].name"));
        assert_eq!(field(|s| s.topic.kms_key_id = Some("has space".into())).as_deref(), Some("topic.kms_key_id"));
        assert_eq!(
            field(|s| s.alarms[5].metric = HealthMetric::BackupJobsFailed(Some("a b".into()))).as_deref(),
            Some("alarms[5].metric.vault")
        );
        assert_eq!(AlarmName::new("").unwrap_err().invalid_field(), Some("name"));
        assert_eq!(TopicName::new("a.b").unwrap_err().invalid_field(), Some("topic.name"));
        assert_eq!(EmailAddress::new("nobody").unwrap_err().invalid_field(), Some("topic.email"));
        assert!(EmailAddress::new("ops@example.com").is_ok());
    }

    #[test]
    fn an_alarm_matching_its_spec_has_no_diff() {
        let s = spec();
        let wanted = AlarmState::wanted(&s.alarms[1], "arn:aws:sns:eu-central-1:123456789012:p-alerts");
        let mut have = wanted.clone();
        assert!(have.diff(&wanted).is_empty());
        have.threshold = 2_147_483_648.000_000_2;
        assert!(have.diff(&wanted).is_empty(), "rounding is no change");
        have.threshold = 1e9;
        assert_eq!(have.diff(&wanted)[0].field, "threshold");
    }
}
