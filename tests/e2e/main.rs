//! End-to-end tests against the local peers started by `scripts/test`.
