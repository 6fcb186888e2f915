//! End-to-end tests of `deploy` against the local peers (moto, Azurite,
//! PostgreSQL with TLS) that `scripts/test` starts. The tests are in `e2e/`;
//! this library is empty.
