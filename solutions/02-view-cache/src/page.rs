//! A cached page as one Redis value: its status, its headers, then the body's raw bytes.
//!
//! Why not JSON? Hits are the common case, and JSON makes every hit pay for the whole page:
//! the body must be valid UTF-8 (checked byte by byte), it is escaped on the way in and
//! unescaped into a new `String` on the way out, and then copied into the response. Here a
//! hit reads a few lengths, checks the headers, and hands axum the body as a slice of the
//! bytes the Redis client read: no copy, no pass over the body, and any bytes at all (an
//! image, a compressed page) can be stored.
//!
//! The layout, every number big-endian:
//!
//! ```text
//! format   u8      FORMAT
//! status   u16     e.g. 200
//! headers  u32     how many; then for each: name length u32, name, value length u32, value
//! body     u32     its length, then the bytes; nothing after them
//! ```
//!
//! Anything else (a truncated entry, bytes left over, another format, an invalid status or
//! header) decodes to `None`, which the middleware treats as a miss: it renders the page again.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

// ANCHOR: encode
/// The first byte of every entry. Change it with the layout, so that entries written in the old
/// layout read as misses rather than as garbage.
const FORMAT: u8 = 1;

/// The page as one value, or `None` when a part is too long for its 4-byte length (over
/// 4 GiB; Redis refuses values over 512 MB anyway).
pub fn encode(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<Vec<u8>> {
    let header_bytes: usize =
        headers.iter().map(|(name, value)| 8 + name.as_str().len() + value.len()).sum();
    let mut entry = Vec::with_capacity(1 + 2 + 4 + header_bytes + 4 + body.len());
    entry.push(FORMAT);
    entry.extend_from_slice(&status.as_u16().to_be_bytes());
    // `len` counts every value, so a repeated header (two `Vary`s) is stored twice.
    put_length(&mut entry, headers.len())?;
    for (name, value) in headers {
        put_field(&mut entry, name.as_str().as_bytes())?;
        put_field(&mut entry, value.as_bytes())?;
    }
    put_field(&mut entry, body)?;
    Some(entry)
}

fn put_field(entry: &mut Vec<u8>, field: &[u8]) -> Option<()> {
    put_length(entry, field.len())?;
    entry.extend_from_slice(field);
    Some(())
}

fn put_length(entry: &mut Vec<u8>, length: usize) -> Option<()> {
    entry.extend_from_slice(&u32::try_from(length).ok()?.to_be_bytes());
    Some(())
}
// ANCHOR_END: encode

// ANCHOR: decode
/// The response stored in `entry`, or `None` when `entry` is not one whole page in this format.
/// The body shares `entry`'s memory: it is not copied.
pub fn decode(entry: Bytes) -> Option<Response> {
    let mut entry = Reader(entry);
    if entry.u8()? != FORMAT {
        return None;
    }
    let status = StatusCode::from_u16(entry.u16()?).ok()?;
    let mut headers = HeaderMap::new();
    for _ in 0..entry.u32()? {
        let name = HeaderName::from_bytes(&entry.field()?).ok()?;
        // Checked again: a value with a newline in it would split the response.
        let value = HeaderValue::from_maybe_shared(entry.field()?).ok()?;
        headers.append(name, value);
    }
    let body = entry.field()?;
    if !entry.0.is_empty() {
        return None;
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Some(response)
}

/// Reads an entry front to back; every read past its end is `None`.
struct Reader(Bytes);

impl Reader {
    /// The next `length` bytes, sharing the entry's memory.
    fn take(&mut self, length: usize) -> Option<Bytes> {
        (length <= self.0.len()).then(|| self.0.split_to(length))
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.as_ref().try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(u8::from_be_bytes(self.array()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }

    /// A length, then that many bytes.
    fn field(&mut self) -> Option<Bytes> {
        let length = usize::try_from(self.u32()?).ok()?;
        self.take(length)
    }
}
// ANCHOR_END: decode

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn headers(pairs: &[(HeaderName, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    /// Encodes and decodes a page, and checks that every part came back as it was.
    async fn round_trip(status: StatusCode, headers: HeaderMap, body: &[u8]) {
        let entry = encode(status, &headers, body).unwrap();
        let response = decode(Bytes::from(entry)).expect("a whole entry decodes");
        assert_eq!(response.status(), status);
        assert_eq!(response.headers(), &headers);
        let decoded = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&decoded[..], body);
    }

    #[tokio::test]
    async fn a_page_comes_back_whole() {
        let headers = headers(&[
            (header::CONTENT_TYPE, b"text/html; charset=utf-8"),
            (header::CACHE_CONTROL, b"public, max-age=900"),
        ]);
        round_trip(StatusCode::OK, headers, "<p>Tâches « à faire »</p>".as_bytes()).await;
    }

    #[tokio::test]
    async fn repeated_headers_and_unusual_values_come_back_in_order() {
        let headers = headers(&[
            (header::VARY, b"accept-encoding"),
            (header::VARY, b"cookie"),
            // Bytes above 0x7f and a tab are legal in a header value, though not UTF-8.
            (HeaderName::from_static("x-note"), b"caf\xe9\tlatin-1 \"quoted\""),
            (HeaderName::from_static("x-empty"), b""),
        ]);
        round_trip(StatusCode::NON_AUTHORITATIVE_INFORMATION, headers, b"ok").await;
    }

    #[tokio::test]
    async fn binary_and_empty_bodies_come_back_byte_for_byte() {
        let every_byte: Vec<u8> = (0..=255).chain((0..=255).rev()).collect();
        assert!(std::str::from_utf8(&every_byte).is_err());
        round_trip(StatusCode::OK, headers(&[(header::CONTENT_TYPE, b"image/png")]), &every_byte)
            .await;
        round_trip(StatusCode::NO_CONTENT, HeaderMap::new(), b"").await;
    }

    #[test]
    fn a_truncated_entry_is_a_miss_wherever_it_is_cut() {
        let headers = headers(&[(header::CONTENT_TYPE, b"text/html")]);
        let entry = encode(StatusCode::OK, &headers, b"<p>hi</p>").unwrap();
        for length in 0..entry.len() {
            let cut = Bytes::copy_from_slice(&entry[..length]);
            assert!(decode(cut).is_none(), "an entry cut to {length} bytes decoded");
        }
    }

    #[test]
    fn garbled_entries_are_misses() {
        let headers = headers(&[(header::CONTENT_TYPE, b"text/html")]);
        let entry = encode(StatusCode::OK, &headers, b"<p>hi</p>").unwrap();
        let garbled = |change: &dyn Fn(&mut Vec<u8>)| {
            let mut entry = entry.clone();
            change(&mut entry);
            decode(Bytes::from(entry))
        };
        // The same page in JSON, as an older version of this cache stored it.
        assert!(decode(Bytes::from_static(br#"{"status":200,"body":"hi"}"#)).is_none());
        assert!(garbled(&|entry| entry[0] = FORMAT + 1).is_none(), "another format");
        assert!(garbled(&|entry| entry[1..3].copy_from_slice(&[0, 7])).is_none(), "status 7");
        assert!(garbled(&|entry| entry.push(b'!')).is_none(), "a byte left over");
        let newline_in_value = |entry: &mut Vec<u8>| {
            let at = entry.windows(4).position(|w| w == b"text").unwrap();
            entry[at] = b'\n';
        };
        assert!(garbled(&newline_in_value).is_none(), "a newline in a header value");
        // A header count far beyond the entry must not make decoding allocate or loop for it.
        assert!(garbled(&|entry| entry[3..7].copy_from_slice(&[255; 4])).is_none());
    }
}
