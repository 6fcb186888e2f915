//! Passwords and the rules they follow: checking (never echoing the value),
//! generating, and the rules of the managed databases.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The rules a password must follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRules {
    /// Fewest characters.
    pub min_len: usize,
    /// Most characters.
    pub max_len: usize,
    /// Characters that must not appear.
    pub forbidden: String,
    /// Only printable ASCII without spaces (`!` to `~`): no space, control or non-ASCII character.
    pub printable_ascii_only: bool,
    /// How many of the four classes (uppercase letters, lowercase letters, digits,
    /// other characters) must each appear at least once: 0 for no such rule, 4 for all.
    pub min_classes: u8,
}

/// The class of a password character: uppercase, lowercase, digit, other.
fn password_class(c: char) -> usize {
    if c.is_ascii_uppercase() {
        0
    } else if c.is_ascii_lowercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

impl PasswordRules {
    /// The master password of RDS for PostgreSQL: 8 to 128 printable ASCII
    /// characters, none of `/ ' " @` and no space. The default rules: a password
    /// that follows them is also accepted by the other presets' length and
    /// character limits.
    pub fn rds_master() -> Self {
        PasswordRules { min_len: 8, max_len: 128, forbidden: "/'\"@".to_owned(), printable_ascii_only: true, min_classes: 0 }
    }

    /// The administrator password of Azure Database for PostgreSQL flexible
    /// server: 8 to 128 characters from at least three of uppercase letters,
    /// lowercase letters, digits and non-alphanumeric characters. Printable ASCII
    /// without spaces here, so that the classes are unambiguous. (Azure also
    /// refuses a password containing the login name, which depends on the login and
    /// is not checked.)
    pub fn azure_postgres() -> Self {
        PasswordRules { min_len: 8, max_len: 128, forbidden: String::new(), printable_ascii_only: true, min_classes: 3 }
    }

    /// The rule as a sentence.
    pub fn describe(&self) -> String {
        let mut s = format!("passwords: {}-{} characters", self.min_len, self.max_len);
        if !self.forbidden.is_empty() {
            let list: Vec<String> = self.forbidden.chars().map(|c| c.to_string()).collect();
            s.push_str(&format!(", none of {}", list.join(" ")));
        }
        if self.printable_ascii_only {
            s.push_str(", printable ASCII without spaces");
        }
        match self.min_classes {
            0 => {}
            4 => s.push_str(", at least one uppercase letter, lowercase letter, digit and non-alphanumeric character"),
            n => s.push_str(&format!(
                ", characters of at least {n} of the 4 classes uppercase letters, lowercase letters, digits and non-alphanumeric characters"
            )),
        }
        s
    }

    /// Check `value` (never echoed in the error, not even in part).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the broken rule, never the value.
    pub fn check(&self, value: &str) -> Result<()> {
        let fault = |problem: String| Err(Error::invalid(Password::FIELD, problem, self.describe()));
        let n = value.chars().count();
        if n < self.min_len {
            return fault(format!("has fewer than {} characters", self.min_len));
        }
        if n > self.max_len {
            return fault(format!("has more than {} characters", self.max_len));
        }
        if value.chars().any(|c| self.forbidden.contains(c)) {
            return fault("contains a forbidden character".to_owned());
        }
        if self.printable_ascii_only && !value.chars().all(|c| c.is_ascii_graphic()) {
            return fault("contains a space or a character that is not printable ASCII".to_owned());
        }
        let mut present = [false; 4];
        for c in value.chars() {
            present[password_class(c)] = true;
        }
        if present.iter().filter(|p| **p).count() < usize::from(self.min_classes) {
            return fault(format!("has characters of fewer than {} of the 4 classes", self.min_classes));
        }
        Ok(())
    }

    /// Generate a random password of `len` characters following these rules,
    /// from printable ASCII without spaces and the forbidden characters.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `len` is outside the rules' length, or when
    /// the rules leave too few characters or classes for a password of `len`.
    pub fn generate(&self, len: usize) -> Result<Password> {
        use rand::seq::{IndexedRandom, SliceRandom};
        if len < self.min_len || len > self.max_len {
            let problem = format!("is {len}, outside {}-{}", self.min_len, self.max_len);
            return Err(Error::invalid("length", problem, self.describe()));
        }
        let alphabet: Vec<char> = ('!'..='~').filter(|c| !self.forbidden.contains(*c)).collect();
        let mut classes: [Vec<char>; 4] = Default::default();
        for c in &alphabet {
            classes[password_class(*c)].push(*c);
        }
        let available: Vec<&Vec<char>> = classes.iter().filter(|class| !class.is_empty()).collect();
        let needed = usize::from(self.min_classes);
        if (alphabet.is_empty() && len > 0) || needed > available.len() || needed > len {
            let problem = format!("leave too few characters or classes for a password of {len} characters");
            return Err(Error::invalid("password_rules", problem, self.describe()));
        }
        let mut rng = rand::rng();
        // One character of each of `needed` classes, the rest from the whole alphabet, shuffled.
        let picked: Vec<&&Vec<char>> = available.choose_multiple(&mut rng, needed).collect();
        let mut chars: Vec<char> = picked.iter().filter_map(|class| class.choose(&mut rng)).copied().collect();
        while chars.len() < len {
            chars.extend(alphabet.choose(&mut rng));
        }
        chars.shuffle(&mut rng);
        Password::new(chars.into_iter().collect::<String>(), self)
    }
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules::rds_master()
    }
}

/// A password that follows a [`PasswordRules`]; its value never appears in
/// `Debug`, `Display` or errors.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// The field name used in errors.
    pub const FIELD: &'static str = "password";

    /// Validate `value` against `rules`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the broken rule (never the value).
    pub fn new(value: impl Into<String>, rules: &PasswordRules) -> Result<Self> {
        let value = SecretString::from(value.into());
        rules.check(value.expose_secret())?;
        Ok(Password(value))
    }

    /// The secret value, for the one call that must carry it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The value as a [`SecretString`].
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
#[path = "tests/password.rs"]
mod tests;
