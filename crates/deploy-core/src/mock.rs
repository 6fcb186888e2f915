//! Test doubles for code written against the five traits (feature `mock`):
//! the `mockall` mocks of every trait, and where the in-memory cloud lives.
//!
//! Two ways to test your own code offline, in one line each:
//! - a **mock** when the test is about the calls (what is asked, in which
//!   order, what happens on an error);
//! - the **in-memory cloud** ([`crate::memory::InMemoryCloud`], one value
//!   implementing all five traits) when the test is about the outcome.
//!
//! Both go wherever a trait is expected, also behind `Arc` or `Box`.
//!
//! A mock: the code under test creates a secret only when it is missing.
//!
//! ```
//! use deploy_core::mock::MockSecretStore;
//! use deploy_core::secret_store::PutSecretOptions;
//! use deploy_core::{SecretName, SecretStore};
//!
//! async fn ensure_api_key(store: &dyn SecretStore, name: &SecretName) -> deploy_core::Result<bool> {
//!     if store.secret_exists(name).await? {
//!         return Ok(false);
//!     }
//!     store.put_secret(name, "generated".to_owned().into(), &PutSecretOptions::default()).await?;
//!     Ok(true)
//! }
//!
//! let mut store = MockSecretStore::new();
//! store.expect_secret_exists().times(1).returning(|_| Ok(true));
//! store.expect_put_secret().never();
//! let name = SecretName::new("app-api-key").unwrap();
//! assert!(!futures::executor::block_on(ensure_api_key(&store, &name)).unwrap());
//! ```
//!
//! The in-memory cloud: the same code, checked by what it leaves behind.
//!
//! ```
//! use deploy_core::memory::InMemoryCloud;
//! use deploy_core::secret_store::PutSecretOptions;
//! use deploy_core::{SecretName, SecretStore};
//!
//! # async fn ensure_api_key(store: &dyn SecretStore, name: &SecretName) -> deploy_core::Result<bool> {
//! #     if store.secret_exists(name).await? { return Ok(false); }
//! #     store.put_secret(name, "generated".to_owned().into(), &PutSecretOptions::default()).await?;
//! #     Ok(true)
//! # }
//! futures::executor::block_on(async {
//!     let cloud = InMemoryCloud::new();
//!     let name = SecretName::new("app-api-key").unwrap();
//!     assert!(ensure_api_key(&cloud, &name).await.unwrap());
//!     assert!(!ensure_api_key(&cloud, &name).await.unwrap(), "the second run changes nothing");
//!     assert!(cloud.secret_exists(&name).await.unwrap());
//! });
//! ```

pub use crate::backup::MockBackupVault;
pub use crate::cluster::MockCluster;
pub use crate::database::MockDatabase;
pub use crate::memory::InMemoryCloud;
pub use crate::object_store::MockObjectStore;
pub use crate::secret_store::MockSecretStore;
