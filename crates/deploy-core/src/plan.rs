//! Plans: the changes an `ensure_*` call would make, renderable for a person.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What happens to one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// The resource is missing and will be created.
    Create,
    /// The resource exists; these fields will change.
    Update {
        /// The fields that change.
        fields: Vec<FieldChange>,
    },
    /// The resource exists and differs in fields that cannot be changed in place:
    /// reported, not applied.
    Drift {
        /// The fields that differ.
        fields: Vec<FieldChange>,
    },
    /// The resource will be deleted.
    Delete,
    /// The resource is in the cloud but no longer in the spec: reported, left
    /// alone; only a destroy removes it.
    Unmanaged,
}

/// One field that changes from one value to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// The current value (`-` when unset).
    pub from: String,
    /// The wanted value.
    pub to: String,
}

impl FieldChange {
    /// A change of `field` from `from` to `to`.
    pub fn new(field: impl Into<String>, from: impl fmt::Display, to: impl fmt::Display) -> Self {
        FieldChange { field: field.into(), from: from.to_string(), to: to.to_string() }
    }
}

/// One change to one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The kind of resource (`bucket`, `database`, `node pool`, ...).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// What happens to it.
    #[serde(flatten)]
    pub action: Action,
}

impl Change {
    /// The resource will be created.
    pub fn create(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Change { kind: kind.into(), name: name.into(), action: Action::Create }
    }

    /// The resource's fields will change.
    pub fn update(kind: impl Into<String>, name: impl Into<String>, fields: Vec<FieldChange>) -> Self {
        Change { kind: kind.into(), name: name.into(), action: Action::Update { fields } }
    }

    /// The resource differs in fields that cannot change in place.
    pub fn drift(kind: impl Into<String>, name: impl Into<String>, fields: Vec<FieldChange>) -> Self {
        Change { kind: kind.into(), name: name.into(), action: Action::Drift { fields } }
    }

    /// The resource will be deleted.
    pub fn delete(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Change { kind: kind.into(), name: name.into(), action: Action::Delete }
    }

    /// The resource is in the cloud but no longer in the spec (left alone).
    pub fn unmanaged(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Change { kind: kind.into(), name: name.into(), action: Action::Unmanaged }
    }

    /// Whether applying this change calls a mutating operation (drift and
    /// resources no longer in the spec are only reported).
    pub fn is_mutation(&self) -> bool {
        !matches!(self.action, Action::Drift { .. } | Action::Unmanaged)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = |f: &mut fmt::Formatter<'_>, fields: &[FieldChange]| {
            for c in fields {
                write!(f, "\n      {}: {} -> {}", c.field, c.from, c.to)?;
            }
            Ok(())
        };
        match &self.action {
            Action::Create => write!(f, "  + create {} {}", self.kind, self.name),
            Action::Delete => write!(f, "  - delete {} {}", self.kind, self.name),
            Action::Unmanaged => {
                write!(f, "  ? keep   {} {} (no longer in the spec: left alone; destroy removes it)", self.kind, self.name)
            }
            Action::Update { fields: changed } => {
                write!(f, "  ~ update {} {}", self.kind, self.name)?;
                fields(f, changed)
            }
            Action::Drift { fields: changed } => {
                write!(f, "  ! drift  {} {} (cannot change in place; recreate to apply)", self.kind, self.name)?;
                fields(f, changed)
            }
        }
    }
}

/// The changes an `ensure_*` call would make, or made.
///
/// An empty plan means the resources already match their spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The changes, in the order they are applied.
    pub changes: Vec<Change>,
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Plan::default()
    }

    /// Add a change.
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Append all changes of `other`.
    pub fn extend(&mut self, other: Plan) {
        self.changes.extend(other.changes);
    }

    /// Whether nothing would change (drift is reported but is a change too).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether any change calls a mutating operation.
    pub fn has_mutations(&self) -> bool {
        self.changes.iter().any(Change::is_mutation)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "  (no changes: everything matches its spec)");
        }
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl FromIterator<Change> for Plan {
    fn from_iter<I: IntoIterator<Item = Change>>(iter: I) -> Self {
        Plan { changes: iter.into_iter().collect() }
    }
}

/// Collects the field differences between a current and a wanted value.
#[derive(Debug, Default)]
pub struct Diff {
    fields: Vec<FieldChange>,
}

impl Diff {
    /// An empty diff.
    pub fn new() -> Self {
        Diff::default()
    }

    /// Record `field` if `current != wanted`.
    pub fn field<T: PartialEq + fmt::Debug>(&mut self, field: &str, current: &T, wanted: &T) -> &mut Self {
        if current != wanted {
            self.fields.push(FieldChange::new(field, DebugDisplay(current), DebugDisplay(wanted)));
        }
        self
    }

    /// The differing fields.
    pub fn into_fields(self) -> Vec<FieldChange> {
        self.fields
    }

    /// Whether no field differs.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

struct DebugDisplay<'a, T: fmt::Debug>(&'a T);

impl<T: fmt::Debug> fmt::Display for DebugDisplay<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{:?}", self.0);
        // Plain strings read better without their quotes.
        f.write_str(s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(&s))
    }
}
