//! Tests of passwords and their rules: presets, sentences, edges, classes,
//! secrecy, generation.

use crate::validate::test_support::*;

use super::*;

// ------------------------------------------------------ PasswordRules, Password

const SENTINEL: &str = "SENTINEL-pw-1234";

/// `text` holds no four-character piece of `secret`.
#[track_caller]
fn assert_no_piece_of(text: &str, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for piece in chars.windows(4) {
        let piece: String = piece.iter().collect();
        assert!(!text.contains(&piece), "{text:?} holds {piece:?} of the secret");
    }
}

/// Checking `value` fails with `problem`, and nothing of `value` shows in the error.
#[track_caller]
fn bad_password(rules: &PasswordRules, value: &str, problem: &str) {
    let err = rules.check(value).expect_err("the password was accepted");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert_no_piece_of(&shown, value);
        assert_no_piece_of(&shown, SENTINEL);
    }
    assert_invalid(Err::<(), _>(err), "password", problem, &rules.describe());
    let err = Password::new(value, rules).expect_err("the password was accepted");
    assert_no_piece_of(&format!("{err} {err:?}"), value);
}

fn all_presets() -> [(&'static str, PasswordRules); 2] {
    [("rds_master", PasswordRules::rds_master()), ("azure_postgres", PasswordRules::azure_postgres())]
}

#[test]
fn password_presets() {
    let rds = PasswordRules::rds_master();
    assert_eq!((rds.min_len, rds.max_len), (8, 128));
    assert_eq!(rds.forbidden, "/'\"@");
    assert!(rds.printable_ascii_only);
    assert_eq!(rds.min_classes, 0);
    assert_eq!(PasswordRules::default(), rds);
    let azure = PasswordRules::azure_postgres();
    assert_eq!((azure.min_len, azure.max_len), (8, 128));
    assert_eq!(azure.forbidden, "");
    assert_eq!(azure.min_classes, 3);
}

#[test]
fn password_rule_sentences() {
    assert_eq!(PasswordRules::rds_master().describe(), "passwords: 8-128 characters, none of / ' \" @, printable ASCII without spaces");
    assert_eq!(
        PasswordRules::azure_postgres().describe(),
        "passwords: 8-128 characters, printable ASCII without spaces, characters of at least 3 of the 4 classes uppercase letters, lowercase letters, digits and non-alphanumeric characters"
    );
    let all = PasswordRules { min_classes: 4, ..PasswordRules::azure_postgres() };
    assert_eq!(
        all.describe(),
        "passwords: 8-128 characters, printable ASCII without spaces, at least one uppercase letter, lowercase letter, digit and non-alphanumeric character"
    );
    let loose = PasswordRules { min_len: 1, max_len: 10, forbidden: String::new(), printable_ascii_only: false, min_classes: 0 };
    assert_eq!(loose.describe(), "passwords: 1-10 characters");
}

#[test]
fn password_length_edges() {
    for (name, rules) in all_presets() {
        let base = "aA1!";
        let of_len = |n: usize| base.repeat(n / 4 + 1).chars().take(n).collect::<String>();
        assert!(rules.check(&of_len(8)).is_ok(), "{name}");
        assert!(rules.check(&of_len(128)).is_ok(), "{name}");
        bad_password(&rules, &of_len(7), "has fewer than 8 characters");
        bad_password(&rules, &of_len(129), "has more than 128 characters");
        bad_password(&rules, "", "has fewer than 8 characters");
    }
    // characters, not bytes
    let loose = PasswordRules { printable_ascii_only: false, ..PasswordRules::rds_master() };
    assert!(loose.check(&"é".repeat(8)).is_ok());
    assert!(loose.check(&"é".repeat(128)).is_ok());
    bad_password(&loose, &"é".repeat(7), "has fewer than 8 characters");
}

#[test]
fn password_forbidden_characters() {
    for rules in [PasswordRules::rds_master(), PasswordRules::rds_master()] {
        for c in ['/', '\'', '"', '@'] {
            let value = format!("{SENTINEL}{c}");
            bad_password(&rules, &value, "contains a forbidden character");
            let (_, problem, _) = parts(rules.check(&value).unwrap_err());
            assert!(!problem.contains(c), "the problem {problem:?} shows which character");
        }
        for c in [' ', '\t', '\n', '\u{7f}', '\0', 'é', '😀'] {
            bad_password(&rules, &format!("{SENTINEL}{c}"), "contains a space or a character that is not printable ASCII");
        }
        for c in ['!', '#', '$', '%', '&', '*', '\\', '`', '~', ':', ';', '<', '>', '?', '[', ']', '{', '}', '|'] {
            assert!(rules.check(&format!("{SENTINEL}{c}")).is_ok(), "{c:?}");
        }
    }
    // Azure forbids no printable character
    for c in '!'..='~' {
        assert!(PasswordRules::azure_postgres().check(&format!("{SENTINEL}{c}")).is_ok(), "{c:?}");
    }
    bad_password(&PasswordRules::azure_postgres(), &format!("{SENTINEL} "), "contains a space");
}

#[test]
fn password_classes() {
    let azure = PasswordRules::azure_postgres();
    for good in ["abcdEF12", "abcd12!!", "ABCD12!!", "abcdEF!!", "aB3$aB3$", SENTINEL] {
        assert!(azure.check(good).is_ok(), "{good}");
    }
    for one_or_two in ["abcdefgh", "ABCDEFGH", "12345678", "!!!!!!!!", "abcdEFGH", "abcd1234", "ABCD!!!!", "1234!!!!"] {
        bad_password(&azure, one_or_two, "has characters of fewer than 3 of the 4 classes");
    }
    let all = PasswordRules { min_classes: 4, ..PasswordRules::azure_postgres() };
    assert!(all.check("aB3$aaaa").is_ok());
    bad_password(&all, "aB3xaaaa", "has characters of fewer than 4 of the 4 classes");
    // no class rule: one class is enough
    assert!(PasswordRules::rds_master().check("aaaaaaaa").is_ok());
}

#[test]
fn password_never_shows_its_value() {
    let password = Password::new(SENTINEL, &PasswordRules::rds_master()).unwrap();
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    assert_eq!(password.to_string(), "<redacted>");
    assert_eq!(format!("{password:#?}"), "Password(<redacted>)");
    assert_no_piece_of(&format!("{password:?} {password} {password:#?}"), SENTINEL);
    assert_eq!(password.expose(), SENTINEL);
    assert_eq!(secrecy::ExposeSecret::expose_secret(password.secret()), SENTINEL);
    assert_no_piece_of(&format!("{:?}", password.secret()), SENTINEL);
    assert_no_piece_of(&format!("{:?}", password.clone()), SENTINEL);
    for (_, rules) in all_presets() {
        for value in [
            format!("{SENTINEL}@"),
            format!("{SENTINEL}/"),
            format!("{SENTINEL} "),
            format!("{SENTINEL}\n"),
            format!("@{SENTINEL}"),
            SENTINEL.repeat(9),
            SENTINEL[..7].to_owned(),
            "sentinelpw".to_owned(),
        ] {
            if let Err(err) = Password::new(value.as_str(), &rules) {
                let shown = format!("{err} {err:?}");
                let shown = format!("{shown} {}", err.in_field("production.database"));
                assert_no_piece_of(&shown, &value);
                assert_no_piece_of(&shown, SENTINEL);
            }
        }
    }
}

#[test]
fn password_rules_serde() {
    for (_, rules) in all_presets() {
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<PasswordRules>(&json).unwrap(), rules);
    }
    let json = serde_json::to_value(PasswordRules::azure_postgres()).unwrap();
    assert_eq!(json["min_classes"], 3);
}

#[test]
fn password_generate_passes_every_preset() {
    for (name, rules) in all_presets() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let len = match i {
                0 => rules.min_len,
                1 => rules.max_len,
                _ => rules.min_len + i % (rules.max_len - rules.min_len + 1),
            };
            let password = rules.generate(len).unwrap();
            assert_eq!(password.expose().chars().count(), len, "{name}");
            rules.check(password.expose()).unwrap_or_else(|e| panic!("{name}: generated password rejected: {e}"));
            seen.insert(password.expose().to_owned());
        }
        assert_eq!(seen.len(), 200, "{name}: generated passwords repeat");
    }
}

#[test]
fn password_generate_meets_every_class_rule() {
    for min_classes in 0..=4 {
        let rules = PasswordRules { min_len: 4, max_len: 16, min_classes, ..PasswordRules::rds_master() };
        for _ in 0..200 {
            let password = rules.generate(4).unwrap();
            assert!(rules.check(password.expose()).is_ok(), "min_classes {min_classes}");
        }
    }
    // forbidden characters never appear
    let no_digits = PasswordRules { forbidden: "0123456789".to_owned(), ..PasswordRules::azure_postgres() };
    for _ in 0..200 {
        let password = no_digits.generate(8).unwrap();
        assert!(!password.expose().chars().any(|c| c.is_ascii_digit()));
        assert!(no_digits.check(password.expose()).is_ok());
    }
}

#[test]
fn password_generate_errors() {
    let rules = PasswordRules::rds_master();
    let rule = rules.describe();
    assert_invalid(rules.generate(7), "length", "is 7, outside 8-128", &rule);
    assert_invalid(rules.generate(129), "length", "is 129, outside 8-128", &rule);
    assert_invalid(rules.generate(0), "length", "is 0, outside 8-128", &rule);
    let no_symbols: String = ('!'..='~').filter(|c| !c.is_ascii_alphanumeric()).collect();
    let impossible = PasswordRules { forbidden: no_symbols, min_classes: 4, ..PasswordRules::azure_postgres() };
    assert_invalid(impossible.generate(8), "password_rules", "leave too few characters or classes", &impossible.describe());
    let five = PasswordRules { min_classes: 5, ..PasswordRules::azure_postgres() };
    assert_invalid(five.generate(8), "password_rules", "leave too few", &five.describe());
    let short = PasswordRules { min_len: 2, min_classes: 3, ..PasswordRules::azure_postgres() };
    assert_invalid(short.generate(2), "password_rules", "for a password of 2 characters", &short.describe());
    let nothing = PasswordRules { forbidden: ('!'..='~').collect(), ..PasswordRules::rds_master() };
    assert_invalid(nothing.generate(8), "password_rules", "leave too few", &nothing.describe());
}
