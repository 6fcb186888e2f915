//! [`setters!`](crate::setters): the one shape of a builder's setters.

/// Builder setters, each `#[must_use] fn NAME(mut self, FIELD: T) -> Self`
/// storing its argument in the field of the same name (through `.into()` for
/// an `impl Into<T>` argument; in `Some` for an optional field, written
/// `fn NAME(Some(FIELD): T)`; pushed onto a list field, written
/// `fn NAME(FIELD.push(ARG): T)`). Used by the builders of this crate and of
/// the provider crates; not part of the API.
///
/// ```
/// #[derive(Default)]
/// struct Options {
///     name: String,
///     retries: u32,
///     label: Option<String>,
///     tags: Vec<String>,
/// }
///
/// impl Options {
///     deploy_core::setters! {
///         /// The name.
///         pub fn name(name: impl Into<String>);
///
///         /// How many retries.
///         pub fn with_retries(retries: u32);
///
///         /// A label.
///         pub fn with_label(Some(label): impl Into<String>);
///
///         /// One more tag.
///         pub fn tag(tags.push(tag): String);
///     }
/// }
///
/// let options = Options::default().name("a").with_retries(3).with_label("b").tag("x".into()).tag("y".into());
/// assert_eq!((options.name.as_str(), options.retries, options.label.as_deref()), ("a", 3, Some("b")));
/// assert_eq!(options.tags, ["x", "y"]);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! setters {
    () => {};
    ($(#[$attr:meta])* $vis:vis fn $name:ident($field:ident.push($arg:ident): $ty:ty); $($rest:tt)*) => {
        $(#[$attr])*
        #[must_use]
        $vis fn $name(mut self, $arg: $ty) -> Self {
            self.$field.push($arg);
            self
        }

        $crate::setters!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis fn $name:ident(Some($field:ident): impl Into<$ty:ty>); $($rest:tt)*) => {
        $(#[$attr])*
        #[must_use]
        $vis fn $name(mut self, $field: impl Into<$ty>) -> Self {
            self.$field = Some($field.into());
            self
        }

        $crate::setters!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis fn $name:ident(Some($field:ident): $ty:ty); $($rest:tt)*) => {
        $(#[$attr])*
        #[must_use]
        $vis fn $name(mut self, $field: $ty) -> Self {
            self.$field = Some($field);
            self
        }

        $crate::setters!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis fn $name:ident($field:ident: impl Into<$ty:ty>); $($rest:tt)*) => {
        $(#[$attr])*
        #[must_use]
        $vis fn $name(mut self, $field: impl Into<$ty>) -> Self {
            self.$field = $field.into();
            self
        }

        $crate::setters!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis fn $name:ident($field:ident: $ty:ty); $($rest:tt)*) => {
        $(#[$attr])*
        #[must_use]
        $vis fn $name(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }

        $crate::setters!($($rest)*);
    };
}
