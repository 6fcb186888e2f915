//! SCRAM-SHA-256 verifiers of role passwords, computed on the client, so that
//! a plaintext password never reaches the server (nor its statement log).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{RolePassword, parse_verifier};

/// A fresh SCRAM-SHA-256 verifier of `password` (random salt, 4096
/// iterations, SASLprep as the server does), by `postgres-protocol`; a given
/// verifier is returned as it is.
pub fn verifier_of(password: &RolePassword) -> SecretString {
    match password {
        RolePassword::Plain(p) => SecretString::from(postgres_protocol::password::scram_sha_256(p.expose_secret().as_bytes())),
        RolePassword::Verifier(v) => v.clone(),
    }
}

/// Whether the verifier `stored` (as in `pg_authid.rolpassword`) is one of
/// `password`: recomputed with `stored`'s salt and iterations for a plaintext
/// password, compared as it is for a given verifier.
pub fn matches(stored: &str, password: &RolePassword) -> bool {
    match password {
        RolePassword::Verifier(v) => v.expose_secret() == stored,
        RolePassword::Plain(p) => {
            let Some((iterations, salt, stored_key, server_key)) = parse_verifier(stored) else { return false };
            let Ok(salt) = BASE64.decode(salt) else { return false };
            let (want_stored, want_server) = keys(p.expose_secret().as_bytes(), &salt, iterations);
            BASE64.encode(want_stored) == stored_key && BASE64.encode(want_server) == server_key
        }
    }
}

/// The password prepared as libpq and the server do: SASLprep when it is
/// valid UTF-8 and passes, else the bytes as they are.
fn prepare(password: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(password) {
        Ok(s) => match stringprep::saslprep(s) {
            Ok(prepared) => prepared.into_owned().into_bytes(),
            Err(_) => password.to_vec(),
        },
        Err(_) => password.to_vec(),
    }
}

fn hmac(key: &[u8], data: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for d in data {
        mac.update(d);
    }
    mac.finalize().into_bytes().into()
}

/// StoredKey and ServerKey of RFC 5802 (`Hi` is PBKDF2-HMAC-SHA-256, one block).
fn keys(password: &[u8], salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    let password = prepare(password);
    let mut u = hmac(&password, &[salt, &1u32.to_be_bytes()]);
    let mut salted = u;
    for _ in 1..iterations {
        u = hmac(&password, &[&u]);
        salted.iter_mut().zip(u.iter()).for_each(|(s, x)| *s ^= x);
    }
    let client_key = hmac(&salted, &[b"Client Key"]);
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    (stored_key, hmac(&salted, &[b"Server Key"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> RolePassword {
        RolePassword::Plain(SecretString::from(s))
    }

    #[test]
    fn a_fresh_verifier_matches_its_password_only() {
        for password in ["correct horse", "pä$$wörd'\"; DROP ROLE x; --", "ＡＢＣ\u{00A0}x"] {
            let v = verifier_of(&plain(password));
            let v = v.expose_secret();
            assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
            assert!(!v.contains(password));
            assert!(matches(v, &plain(password)), "recomputed with the same salt");
            assert!(!matches(v, &plain("something else")));
        }
    }

    #[test]
    fn two_verifiers_of_one_password_differ_by_salt() {
        let a = verifier_of(&plain("same"));
        let b = verifier_of(&plain("same"));
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn a_given_verifier_is_kept_and_compared_as_is() {
        let v = verifier_of(&plain("x")).expose_secret().to_owned();
        let given = RolePassword::verifier(SecretString::from(v.clone())).unwrap();
        assert_eq!(verifier_of(&given).expose_secret(), v);
        assert!(matches(&v, &given));
        assert!(!matches("md5abc", &plain("x")));
        assert!(RolePassword::verifier(SecretString::from("md5abcdef")).is_err());
    }
}
