//! Progress events: what long operations report while they run.
//!
//! Every event goes to `tracing` (target `deploy`), and to the caller's
//! [`Observer`] callback when one is set, so a program can print progress the
//! way it likes without a subscriber.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One progress event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A step of a recipe or an `ensure` began.
    Step {
        /// What is being done.
        message: String,
    },
    /// A wait began.
    WaitStarted {
        /// What is awaited.
        what: String,
        /// The deadline.
        timeout: Duration,
    },
    /// A wait polled and saw a state that is not yet the wanted one.
    WaitPolled {
        /// What is awaited.
        what: String,
        /// The state seen.
        state: String,
        /// The poll number, from 1.
        attempt: u32,
        /// Time since the wait began.
        elapsed: Duration,
    },
    /// A wait ended with the wanted state.
    WaitFinished {
        /// What was awaited.
        what: String,
        /// How long it took.
        elapsed: Duration,
    },
    /// Objects were copied: reported every 500 objects, every 8 MiB (bytes of
    /// a streamed copy count as they flow) and at the end.
    Copied {
        /// Objects done so far: copied, or found already there.
        objects: u64,
        /// Bytes copied so far.
        bytes: u64,
        /// Objects in all, when known (the last report of a copy has it).
        total: Option<u64>,
        /// Bytes in all, when known.
        total_bytes: Option<u64>,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Step { message } => write!(f, "{message}"),
            Event::WaitStarted { what, timeout } => write!(f, "waiting for {what} (up to {timeout:?})"),
            Event::WaitPolled { what, state, attempt, elapsed } => {
                write!(f, "  {what}: {state} (poll {attempt}, {:.1}s)", elapsed.as_secs_f64())
            }
            Event::WaitFinished { what, elapsed } => write!(f, "  {what}: done after {:.1}s", elapsed.as_secs_f64()),
            Event::Copied { objects, bytes, total, total_bytes } => {
                match total {
                    Some(total) => write!(f, "  copied {objects}/{total} objects")?,
                    None => write!(f, "  copied {objects} objects")?,
                }
                match total_bytes {
                    Some(total_bytes) => write!(f, " ({bytes}/{total_bytes} bytes)"),
                    None => write!(f, " ({bytes} bytes)"),
                }
            }
        }
    }
}

/// Where progress events go: always `tracing`, and a callback when set.
///
/// ```
/// use deploy_core::observe::{Event, Observer};
/// let observer = Observer::new(|event: &Event| println!("{event}"));
/// observer.emit(Event::Step { message: "create bucket".into() });
/// ```
#[derive(Clone, Default)]
pub struct Observer(Option<Callback>);

type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

impl Observer {
    /// An observer calling `f` for every event.
    pub fn new(f: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        Observer(Some(Arc::new(f)))
    }

    /// An observer that only logs to `tracing`.
    pub fn tracing_only() -> Self {
        Observer(None)
    }

    /// Report `event`.
    pub fn emit(&self, event: Event) {
        match &event {
            Event::WaitPolled { .. } | Event::Copied { .. } => tracing::debug!(target: "deploy", "{event}"),
            _ => tracing::info!(target: "deploy", "{event}"),
        }
        if let Some(f) = &self.0 {
            f(&event);
        }
    }

    /// Report a step.
    pub fn step(&self, message: impl Into<String>) {
        self.emit(Event::Step { message: message.into() });
    }
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Observer(callback)" } else { "Observer(tracing)" })
    }
}
