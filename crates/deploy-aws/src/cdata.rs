//! Unwrap XML CDATA sections in responses before the SDK parses them.
//!
//! A CDATA section (`<Value><![CDATA[10.0.0.1]]></Value>`) is legal XML for
//! the text it holds, but the SDK's XML reader (aws-smithy-xml 0.60) skips it,
//! so the value reads as empty. Route 53 itself answers plain text; local
//! S3/Route 53 emulators (moto) answer CDATA for record values. On the Route 53
//! client, [`UnwrapCdata`] turns each section into the same text, escaped,
//! before deserialization — a no-op on a body without CDATA. Route 53 answers
//! are small (a page is at most 300 records), so the body is buffered.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame};

/// The interceptor: see the [module docs](self).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UnwrapCdata;

impl Intercept for UnwrapCdata {
    fn name(&self) -> &'static str {
        "UnwrapCdata"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response_mut().body_mut();
        let inner = std::mem::replace(body, SdkBody::taken());
        *body = SdkBody::from_body_1_x(Buffered { inner, buffer: BytesMut::new(), done: false });
        Ok(())
    }
}

/// The whole inner body, then one frame of it with CDATA unwrapped.
struct Buffered {
    inner: SdkBody,
    buffer: BytesMut,
    done: bool,
}

impl Body for Buffered {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    self.done = true;
                    let whole = std::mem::take(&mut self.buffer).freeze();
                    return Poll::Ready(Some(Ok(Frame::data(unwrap(whole)))));
                }
            }
        }
    }
}

/// `text` with every `<![CDATA[...]]>` replaced by its content, escaped.
pub(crate) fn unwrap(text: Bytes) -> Bytes {
    const OPEN: &[u8] = b"<![CDATA[";
    const CLOSE: &[u8] = b"]]>";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    if find(&text, OPEN).is_none() {
        return text;
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rest: &[u8] = &text;
    while let Some(start) = find(rest, OPEN) {
        out.extend_from_slice(&rest[..start]);
        let content = &rest[start + OPEN.len()..];
        let Some(end) = find(content, CLOSE) else {
            // Unterminated: leave the rest for the parser to reject.
            out.extend_from_slice(&rest[start..]);
            return Bytes::from(out);
        };
        for &b in &content[..end] {
            match b {
                b'&' => out.extend_from_slice(b"&amp;"),
                b'<' => out.extend_from_slice(b"&lt;"),
                b'>' => out.extend_from_slice(b"&gt;"),
                _ => out.push(b),
            }
        }
        rest = &content[end + CLOSE.len()..];
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::unwrap;
    use bytes::Bytes;

    #[test]
    fn sections_become_escaped_text() {
        let xml = Bytes::from_static(b"<R><Value><![CDATA[\"a<b & c>\"]]></Value><Value><![CDATA[10.0.0.1]]></Value></R>");
        assert_eq!(&unwrap(xml)[..], &b"<R><Value>\"a&lt;b &amp; c&gt;\"</Value><Value>10.0.0.1</Value></R>"[..]);
    }

    #[test]
    fn bodies_without_cdata_are_unchanged() {
        let xml = Bytes::from_static(b"<R><Value>10.0.0.1</Value></R>");
        assert_eq!(unwrap(xml.clone()), xml);
        let broken = Bytes::from_static(b"<R><![CDATA[never closed</R>");
        assert_eq!(unwrap(broken.clone()), broken);
    }
}
