//! Small conversions shared by the services.

#![allow(dead_code)] // each service uses a subset, depending on the features

use aws_smithy_types::DateTime;
use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// An SDK time as a [`Timestamp`].
pub(crate) fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), i32::try_from(t.subsec_nanos()).ok()?).ok()
}

/// A [`Timestamp`] as an SDK time.
pub(crate) fn datetime(t: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.as_second(), u32::try_from(t.subsec_nanosecond()).unwrap_or(0))
}

/// An ETag without its quotes (`"abc"` and `W/"abc"` become `abc`).
pub(crate) fn unquote_etag(etag: &str) -> String {
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"').to_owned()
}

/// What [`encode_path`] leaves as it is: RFC 3986's unreserved characters and `/`.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// Percent-encode everything but RFC 3986's unreserved characters and `/`:
/// the form of a key inside `x-amz-copy-source`.
pub(crate) fn encode_path(value: &str) -> String {
    utf8_percent_encode(value, PATH_KEEP).to_string()
}

/// Decode `%XX` escapes (a `+` stays a `+`); `None` when a `%` is not
/// followed by two hex digits or the result is not UTF-8.
pub(crate) fn decode_percent(value: &str) -> Option<String> {
    let malformed =
        value.match_indices('%').any(|(i, _)| !value.get(i + 1..i + 3).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if malformed {
        return None;
    }
    percent_decode_str(value).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_lose_their_quotes() {
        for (etag, bare) in
            [("\"d41d8cd98f00b204e9800998ecf8427e\"", "d41d8cd98f00b204e9800998ecf8427e"), ("W/\"abc-2\"", "abc-2"), ("abc", "abc")]
        {
            assert_eq!(unquote_etag(etag), bare, "{etag}");
        }
    }

    #[test]
    fn paths_encode_and_decode() {
        let key = "a b/ключ+%2F#?&=🦀.txt";
        let encoded = encode_path(key);
        assert_eq!(encode_path("dir/file name+1"), "dir/file%20name%2B1");
        assert!(encoded.is_ascii() && !encoded.contains(' ') && !encoded.contains('+'));
        assert_eq!(decode_percent(&encoded).as_deref(), Some(key));
        assert_eq!(decode_percent("bad%2"), None);
    }

    #[test]
    fn times_round_trip() {
        let t: Timestamp = "2024-05-06T07:08:09.123456789Z".parse().unwrap();
        assert_eq!(timestamp(&datetime(t)), Some(t));
    }
}
