//! The five traits through `Arc<T>` and `Box<T>`, from one list of methods.
//!
//! A caller that holds a backend as `Arc<S3Store>`, `Box<dyn ObjectStore>` or
//! `Arc<dyn Database>` passes it where a trait is expected without writing a
//! forwarding type: every method, provided ones included, goes to the inner
//! value, so a backend's own overrides (a server-side `copy_listed`, a
//! `key_order`) are kept.
//!
//! ```
//! use std::sync::Arc;
//! use deploy_core::memory::InMemoryCloud;
//! use deploy_core::{ObjectStore, SecretStore};
//!
//! fn takes_a_store(store: impl ObjectStore) -> &'static str {
//!     store.backend()
//! }
//!
//! let cloud = Arc::new(InMemoryCloud::new());
//! assert_eq!(takes_a_store(cloud.clone()), "memory");
//! let boxed: Box<dyn SecretStore> = Box::new(InMemoryCloud::new());
//! assert_eq!(SecretStore::backend(&boxed), "memory");
//! ```

/// Declare one of the five traits and, from the same list of methods,
/// `impl Trait for Arc<T>` and `for Box<T>` (`T: Trait + ?Sized`) with every
/// method, provided ones included, forwarded to `**self`.
///
/// A trait that reconciles a resource starts with `backend`, then a line
/// `reconcile_*(Spec) with plan_*, ensure_* for "what";` (after the docs of
/// `reconcile_*`) that declares the required
/// `async fn reconcile_*(&self, spec: &Spec, mode: Mode) -> Result<Plan>` and
/// the two provided helpers over it, with their docs: `plan_*` is
/// `reconcile_*` in `Mode::Plan`, `ensure_*` the same in `Mode::Apply`
/// (the convention of [`crate::reconcile`]).
macro_rules! provider_trait {
    (
        $(#[$attr:meta])*
        $vis:vis trait $name:ident: $sup:ident $(+ $sups:ident)* {
            $(#[$backend_attr:meta])*
            fn backend(&$self:ident) -> &'static str;

            $(#[$reconcile_attr:meta])*
            $reconcile:ident($spec:ident) with $plan:ident, $ensure:ident for $what:literal;

            $($items:tt)*
        }
    ) => {
        $(#[$attr])*
        $vis trait $name: $sup $(+ $sups)* {
            $(#[$backend_attr])*
            fn backend(&$self) -> &'static str;

            $(#[$reconcile_attr])*
            async fn $reconcile(&$self, spec: &$spec, mode: Mode) -> Result<Plan>;

            #[doc = concat!(
                "The changes [`", stringify!($name), "::", stringify!($ensure), "`] would make: [`",
                stringify!($name), "::", stringify!($reconcile), "`] in [`Mode::Plan`]; mutates nothing."
            )]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "::", stringify!($reconcile), "`].")]
            async fn $plan(&$self, spec: &$spec) -> Result<Plan> {
                $self.$reconcile(spec, Mode::Plan).await
            }

            #[doc = concat!(
                "Bring the ", $what, " to `spec`: [`", stringify!($name), "::", stringify!($reconcile),
                "`] in [`Mode::Apply`]; answers the changes made."
            )]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "::", stringify!($reconcile), "`].")]
            async fn $ensure(&$self, spec: &$spec) -> Result<Plan> {
                $self.$reconcile(spec, Mode::Apply).await
            }

            $($items)*
        }

        $crate::forward::provider_trait!(@forward $name []
            fn backend(&$self) -> &'static str;
            async fn $reconcile(&$self, spec: &$spec, mode: Mode) -> Result<Plan>;
            async fn $plan(&$self, spec: &$spec) -> Result<Plan>;
            async fn $ensure(&$self, spec: &$spec) -> Result<Plan>;
            $($items)*
        );
    };
    (
        $(#[$attr:meta])*
        $vis:vis trait $name:ident: $sup:ident $(+ $sups:ident)* {
            $($items:tt)*
        }
    ) => {
        $(#[$attr])*
        $vis trait $name: $sup $(+ $sups)* {
            $($items)*
        }

        $crate::forward::provider_trait!(@forward $name [] $($items)*);
    };

    // Every method read: the two impls.
    (@forward $name:ident [$($out:tt)*]) => {
        #[::async_trait::async_trait]
        impl<T: $name + ?Sized> $name for ::std::sync::Arc<T> {
            $($out)*
        }

        #[::async_trait::async_trait]
        impl<T: $name + ?Sized> $name for ::std::boxed::Box<T> {
            $($out)*
        }
    };
    // One method more; a provided body is not copied (`**self` has its own).
    (@forward $name:ident [$($out:tt)*]
        $(#[$m:meta])* async fn $f:ident(&$self:ident $(, $a:ident: $t:ty)* $(,)?) -> $r:ty; $($rest:tt)*
    ) => {
        $crate::forward::provider_trait!(@forward $name [$($out)* async fn $f(&$self $(, $a: $t)*) -> $r { (**$self).$f($($a),*).await }] $($rest)*);
    };
    (@forward $name:ident [$($out:tt)*]
        $(#[$m:meta])* async fn $f:ident(&$self:ident $(, $a:ident: $t:ty)* $(,)?) -> $r:ty $body:block $($rest:tt)*
    ) => {
        $crate::forward::provider_trait!(@forward $name [$($out)* async fn $f(&$self $(, $a: $t)*) -> $r { (**$self).$f($($a),*).await }] $($rest)*);
    };
    (@forward $name:ident [$($out:tt)*]
        $(#[$m:meta])* fn $f:ident(&$self:ident $(, $a:ident: $t:ty)* $(,)?) -> $r:ty; $($rest:tt)*
    ) => {
        $crate::forward::provider_trait!(@forward $name [$($out)* fn $f(&$self $(, $a: $t)*) -> $r { (**$self).$f($($a),*) }] $($rest)*);
    };
    (@forward $name:ident [$($out:tt)*]
        $(#[$m:meta])* fn $f:ident(&$self:ident $(, $a:ident: $t:ty)* $(,)?) -> $r:ty $body:block $($rest:tt)*
    ) => {
        $crate::forward::provider_trait!(@forward $name [$($out)* fn $f(&$self $(, $a: $t)*) -> $r { (**$self).$f($($a),*) }] $($rest)*);
    };
}

pub(crate) use provider_trait;
