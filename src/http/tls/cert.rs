//! The few facts about a certificate that webpki checks but does not expose,
//! read from its DER: whether it is its own issuer, its validity period,
//! whether its extended key usage allows a TLS server and whether it may sign
//! certificates. Needed to accept a trusted self-signed server certificate
//! that webpki refuses as a CA, and to let only a real CA among the given
//! certificates be a trust anchor (webpki checks nothing of an anchor).
//!
//! A hand-written reader rather than a crate: these facts take ~150
//! lines, while an X.509 crate (x509-parser, x509-cert) would add a dozen
//! crates to every build of the addon and its source fallback, for a check
//! that runs only on a certificate the user pinned byte for byte.

/// What [`parse`] reads from a certificate.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct CertFacts {
    /// Issuer and subject are the same name (byte for byte, as RFC 5280's
    /// "self-issued"; OpenSSL compares them the same way for a trust anchor).
    pub self_issued: bool,
    /// Seconds since the Unix epoch.
    pub not_before: u64,
    pub not_after: u64,
    /// No extended key usage, or one that lists serverAuth (as webpki and
    /// OpenSSL require of a server certificate).
    pub server_auth: bool,
    /// basicConstraints CA:TRUE and, when a key usage is present, keyCertSign
    /// in it: what OpenSSL requires of a certificate that signs another.
    pub may_sign_certificates: bool,
}

const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25]; // 2.5.29.37
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13]; // 2.5.29.19
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f]; // 2.5.29.15
/// keyCertSign is bit 5 of keyUsage's BIT STRING: 0x04 of its first byte.
const KEY_CERT_SIGN: u8 = 0x04;
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]; // 1.3.6.1.5.5.7.3.1

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const BIT_STRING: u8 = 0x03;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const VERSION: u8 = 0xa0; // [0] EXPLICIT
const EXTENSIONS: u8 = 0xa3; // [3] EXPLICIT

/// Reads `der` (an X.509 certificate); `None` when it is not well-formed DER
/// of that shape.
pub(super) fn parse(der: &[u8]) -> Option<CertFacts> {
    let cert = expect(der, SEQUENCE)?.0;
    let mut tbs = expect(cert, SEQUENCE)?.0;
    if tbs.first() == Some(&VERSION) {
        tbs = next(tbs)?.2;
    }
    let (_serial, rest) = expect(tbs, 0x02)?;
    let (_signature_algorithm, rest) = expect(rest, SEQUENCE)?;
    let (issuer, rest) = expect(rest, SEQUENCE)?;
    let (validity, rest) = expect(rest, SEQUENCE)?;
    let (subject, rest) = expect(rest, SEQUENCE)?;
    let (_spki, mut rest) = expect(rest, SEQUENCE)?;

    let (not_before, after) = time(validity)?;
    let (not_after, end) = time(after)?;
    if !end.is_empty() {
        return None;
    }

    // issuerUniqueID [1], subjectUniqueID [2], then extensions [3].
    let mut ext = Extensions::default();
    while !rest.is_empty() {
        let (tag, contents, after) = next(rest)?;
        rest = after;
        if tag == EXTENSIONS {
            ext = extensions(expect(contents, SEQUENCE)?.0)?;
        }
    }
    Some(CertFacts {
        self_issued: issuer == subject,
        not_before,
        not_after,
        server_auth: ext.server_auth.unwrap_or(true),
        may_sign_certificates: ext.ca && ext.key_cert_sign.unwrap_or(true),
    })
}

/// What the extensions say; `None`: the extension is absent.
#[derive(Default)]
struct Extensions {
    server_auth: Option<bool>,
    ca: bool,
    key_cert_sign: Option<bool>,
}

fn extensions(mut list: &[u8]) -> Option<Extensions> {
    let mut ext = Extensions::default();
    while !list.is_empty() {
        let (extension, rest) = expect(list, SEQUENCE)?;
        list = rest;
        let (oid, mut value) = expect(extension, OID)?;
        if value.first() == Some(&BOOLEAN) {
            value = next(value)?.2;
        }
        let value = expect(value, OCTET_STRING)?.0;
        match oid {
            OID_EXT_KEY_USAGE => ext.server_auth = Some(eku_allows_server(value)?),
            // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL }
            OID_BASIC_CONSTRAINTS => {
                let fields = expect(value, SEQUENCE)?.0;
                ext.ca = matches!(next(fields), Some((BOOLEAN, [flag], _)) if *flag != 0);
            }
            // KeyUsage ::= BIT STRING: the count of unused bits, then the bits.
            OID_KEY_USAGE => {
                let bits = expect(value, BIT_STRING)?.0;
                ext.key_cert_sign = Some(bits.get(1).is_some_and(|b| b & KEY_CERT_SIGN != 0));
            }
            _ => {}
        }
    }
    Some(ext)
}

/// Whether an extended key usage lists serverAuth.
fn eku_allows_server(value: &[u8]) -> Option<bool> {
    let mut purposes = expect(value, SEQUENCE)?.0;
    while !purposes.is_empty() {
        let (purpose, rest) = expect(purposes, OID)?;
        if purpose == OID_SERVER_AUTH {
            return Some(true);
        }
        purposes = rest;
    }
    Some(false)
}

/// One DER element: its tag, its contents and what follows it.
fn next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = next(input)?;
    (found == tag).then_some((contents, rest))
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`) as seconds since the Unix epoch, and what follows it.
fn time(input: &[u8]) -> Option<(u64, &[u8])> {
    let (tag, text, rest) = next(input)?;
    let (year, text) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if text[10] != b'Z' {
        return None;
    }
    let mut fields = [0u64; 5]; // month, day, hour, minute, second
    for (i, field) in fields.iter_mut().enumerate() {
        *field = digits(&text[2 * i..2 * i + 2])?;
    }
    let [month, day, hour, minute, second] = fields;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let seconds = ((days * 24 + hour as i64) * 60 + minute as i64) * 60 + second as i64;
    // Before 1970 (UTCTime reaches back to 1950) is "always" for our purpose.
    Some((seconds.max(0) as u64, rest))
}

fn digits(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

/// Days from 1970-01-01 to a date (Howard Hinnant's `days_from_civil`).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_of(tag: u8, text: &str) -> Option<u64> {
        let mut der = vec![tag, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        time(&der).map(|(t, _)| t)
    }

    #[test]
    fn times_are_read_in_both_encodings() {
        for (tag, text, expected) in [
            (UTC_TIME, "700101000000Z", Some(0)),
            (UTC_TIME, "200101000000Z", Some(1_577_836_800)),
            (UTC_TIME, "491231235959Z", Some(2_524_607_999)),
            (UTC_TIME, "500101000000Z", Some(0)), // 1950: before the epoch
            (GENERALIZED_TIME, "20240229120000Z", Some(1_709_208_000)),
            (GENERALIZED_TIME, "21060207062816Z", Some(4_294_967_296)),
            (UTC_TIME, "200101000000+0100", None),
            (UTC_TIME, "201301000000Z", None),
            (UTC_TIME, "2001010000000", None),
            (GENERALIZED_TIME, "200101000000Z", None),
        ] {
            assert_eq!(time_of(tag, text), expected, "{text}");
        }
    }

    #[test]
    fn truncated_or_oversized_lengths_are_not_der() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x00],
            &[0x30, 0x80],
            &[0x30, 0x85, 1, 0, 0, 0, 0],
        ] {
            assert_eq!(next(bad), None, "{bad:?}");
        }
        assert_eq!(
            next(&[0x30, 0x81, 0x01, 0xaa, 0xbb]),
            Some((0x30, &[0xaa][..], &[0xbb][..]))
        );
    }
}
