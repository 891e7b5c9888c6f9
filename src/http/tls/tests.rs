//! The verifier and the advice of `TLS_ERROR`, without a handshake: the
//! verifier is called as rustls calls it, with certificates from
//! test-certs.pem and a chosen "now".

use std::time::Duration;

use super::*;

const CERTS: &str = include_str!("test-certs.pem");

/// The certificate under `# name` in test-certs.pem.
fn cert(name: &str) -> CertificateDer<'static> {
    let at = CERTS
        .find(&format!("# {name}:"))
        .unwrap_or_else(|| panic!("no {name} in test-certs.pem"));
    CertificateDer::from_pem_slice(&CERTS.as_bytes()[at..]).unwrap()
}

/// Seconds since the epoch of 1 January of `year` (2025, 2030, ...).
fn jan1(year: u64) -> UnixTime {
    let days = cert::days_from_civil(year as i64, 1, 1) as u64;
    UnixTime::since_unix_epoch(Duration::from_secs(days * 86_400))
}

/// A verifier trusting exactly `trusted` (given as by NODE_EXTRA_CA_CERTS),
/// its trust anchors chosen as in 2030.
fn verifier(trusted: &[&str]) -> Verifier {
    let explicit: Vec<_> = trusted.iter().map(|n| cert(n)).collect();
    Verifier {
        provider: provider(),
        trust: Some(Trust::new(&[], explicit, jan1(2030))),
    }
}

fn verify(
    v: &Verifier,
    presented: &str,
    name: &str,
    now: UnixTime,
) -> std::result::Result<(), String> {
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    v.verify_server_cert(&cert(presented), &[], &server_name, &[], now)
        .map(|_| ())
        .map_err(|e| match e {
            rustls::Error::InvalidCertificate(ref c) if is_ca_used_as_end_entity(&e) => {
                format!("{c:?}")
                    .replace("Other(OtherError(CaUsedAsEndEntity))", "CaUsedAsEndEntity")
            }
            rustls::Error::InvalidCertificate(c) => {
                let debug = format!("{c:?}");
                debug.split([' ', '(', '{']).next().unwrap().to_string()
            }
            other => format!("{other:?}"),
        })
}

#[test]
fn a_trusted_self_signed_server_certificate_is_accepted_with_name_validity_and_purpose_checked() {
    let ok = Ok(());
    let err = |e: &str| Err(e.to_string());
    for (presented, trusted, name, year, expected) in [
        ("ca_true", &["ca_true"][..], "tfs.example", 2030, ok.clone()),
        (
            "ca_true",
            &["root", "ca_true"],
            "127.0.0.1",
            2030,
            ok.clone(),
        ),
        ("ca_false", &["ca_false"], "tfs.example", 2030, ok.clone()),
        (
            "long_lived",
            &["long_lived"],
            "tfs.example",
            2050,
            ok.clone(),
        ),
        ("leaf", &["root"], "tfs.example", 2030, ok.clone()),
        // The host name, the validity period and the purpose still count.
        (
            "ca_true",
            &["ca_true"],
            "other.example",
            2030,
            err("NotValidForNameContext"),
        ),
        (
            "ca_true",
            &["ca_true"],
            "127.0.0.2",
            2030,
            err("NotValidForNameContext"),
        ),
        (
            "ca_true",
            &["ca_true"],
            "tfs.example",
            2036,
            err("ExpiredContext"),
        ),
        (
            "ca_true",
            &["ca_true"],
            "tfs.example",
            2024,
            err("NotValidYetContext"),
        ),
        (
            "long_lived",
            &["long_lived"],
            "tfs.example",
            2061,
            err("ExpiredContext"),
        ),
        (
            "client_only",
            &["client_only"],
            "tfs.example",
            2030,
            err("InvalidPurpose"),
        ),
        // Not trusted: the system roots and other certificates do not make it so,
        // even one with the same name (a server that made a new certificate).
        ("ca_true", &[], "tfs.example", 2030, err("UnknownIssuer")),
        (
            "ca_true",
            &["ca_false"],
            "tfs.example",
            2030,
            err("UnknownIssuer"),
        ),
        (
            "ca_false",
            &["ca_true"],
            "tfs.example",
            2030,
            err("UnknownIssuer"),
        ),
        (
            "ca_true",
            &["root"],
            "tfs.example",
            2030,
            err("UnknownIssuer"),
        ),
        // Only a certificate that is its own issuer may stand alone, as in OpenSSL.
        ("leaf", &["leaf"], "tfs.example", 2030, err("UnknownIssuer")),
    ] {
        assert_eq!(
            verify(&verifier(trusted), presented, name, jan1(year)),
            expected,
            "{presented} trusting {trusted:?} as {name} in {year}"
        );
    }
}

#[test]
fn a_trusted_self_signed_certificate_is_checked_for_validity_whatever_webpki_checked_first() {
    let v = verifier(&["ca_true"]);
    let trust = v.trust.as_ref().unwrap();
    let ca_as_leaf = || -> rustls::Error {
        CertificateError::Other(rustls::OtherError(Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        )))
        .into()
    };
    let outcome = |year| {
        trust
            .self_signed(&cert("ca_true"), jan1(year), ca_as_leaf())
            .map_err(|e| format!("{e:?}"))
    };
    assert_eq!(outcome(2030), Ok(()));
    assert!(outcome(2036).unwrap_err().contains("ExpiredContext"));
    assert!(outcome(2024).unwrap_err().contains("NotValidYetContext"));
    // A refusal of the certificate itself (not of a chain) is not overruled.
    let other = trust.self_signed(
        &cert("ca_true"),
        jan1(2030),
        CertificateError::Revoked.into(),
    );
    assert_eq!(
        other,
        Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
    );
    // An anchor with its name but another key tried first is no reason to refuse it.
    for chain in [
        CertificateError::BadSignature,
        CertificateError::UnknownIssuer,
    ] {
        let pinned = trust.self_signed(&cert("ca_true"), jan1(2030), chain.into());
        assert_eq!(pinned, Ok(()));
    }
}

#[test]
fn only_the_system_roots_do_not_make_a_self_signed_certificate_trusted() {
    // In the roots but not given by the user: not a certificate to pin.
    let mut v = verifier(&["ca_true"]);
    v.trust.as_mut().unwrap().explicit.clear();
    assert_eq!(
        verify(&v, "ca_true", "tfs.example", jan1(2030)),
        Err("UnknownIssuer".to_string())
    );
}

#[test]
fn only_a_given_ca_valid_now_becomes_a_trust_anchor() {
    let anchors = |trusted: &[&str], year| {
        let explicit = trusted.iter().map(|n| cert(n)).collect();
        Trust::new(&[], explicit, jan1(year)).roots.len()
    };
    assert_eq!(anchors(&["root"], 2030), 1, "a CA with keyCertSign");
    assert_eq!(anchors(&["ca_true"], 2030), 1, "CA:TRUE without key usage");
    assert_eq!(anchors(&["ca_false"], 2030), 0, "CA:FALSE");
    assert_eq!(anchors(&["leaf"], 2030), 0, "CA:FALSE, not self-issued");
    assert_eq!(anchors(&["root"], 2036), 0, "expired");
    assert_eq!(anchors(&["root"], 2024), 0, "not valid yet");
    // Not an anchor, still the pinned server certificate.
    let v = verifier(&["ca_false"]);
    assert_eq!(v.trust.as_ref().unwrap().roots.len(), 0);
    assert_eq!(verify(&v, "ca_false", "tfs.example", jan1(2030)), Ok(()));
}

#[test]
fn key_usage_without_key_cert_sign_is_no_issuer() {
    // ca_false's DER with CA:FALSE turned into CA:TRUE would need a new
    // signature; the facts reader is enough: keyUsage digitalSignature only.
    let facts = |bc: &[u8], ku: Option<&[u8]>| {
        let mut exts = Vec::new();
        let mut ext = |oid: &[u8], value: &[u8]| {
            let mut inner = vec![OID_TAG, oid.len() as u8];
            inner.extend_from_slice(oid);
            inner.extend_from_slice(&[0x04, value.len() as u8]);
            inner.extend_from_slice(value);
            exts.push(0x30);
            exts.push(inner.len() as u8);
            exts.extend(inner);
        };
        ext(&[0x55, 0x1d, 0x13], bc);
        if let Some(ku) = ku {
            ext(&[0x55, 0x1d, 0x0f], ku);
        }
        with_extensions(&cert("ca_false"), &exts).map(|f| f.may_sign_certificates)
    };
    const CA_TRUE: &[u8] = &[0x30, 0x03, 0x01, 0x01, 0xff];
    const CA_FALSE: &[u8] = &[0x30, 0x00];
    assert_eq!(facts(CA_TRUE, None), Some(true));
    assert_eq!(facts(CA_TRUE, Some(&[0x03, 0x02, 0x01, 0x06])), Some(true));
    assert_eq!(facts(CA_TRUE, Some(&[0x03, 0x02, 0x07, 0x80])), Some(false));
    assert_eq!(
        facts(CA_FALSE, Some(&[0x03, 0x02, 0x01, 0x06])),
        Some(false)
    );
}

const OID_TAG: u8 = 0x06;

/// `der` with its extensions replaced by `exts` (the signature no longer
/// matches, which the facts reader does not check).
fn with_extensions(der: &[u8], exts: &[u8]) -> Option<cert::CertFacts> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    fn split(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = input[0];
        let (len, hdr) = match input[1] {
            l if l < 0x80 => (l as usize, 2),
            0x81 => (input[2] as usize, 3),
            _ => (((input[2] as usize) << 8) | input[3] as usize, 4),
        };
        (tag, &input[hdr..hdr + len], &input[hdr + len..])
    }
    let (_, cert_body, _) = split(der);
    let (_, tbs, after_tbs) = split(cert_body);
    let mut fields = Vec::new();
    let mut rest = tbs;
    while !rest.is_empty() {
        let (tag, body, after) = split(rest);
        if tag != 0xa3 {
            fields.extend(tlv(tag, body));
        }
        rest = after;
    }
    fields.extend(tlv(0xa3, &tlv(0x30, exts)));
    let mut body = tlv(0x30, &fields);
    body.extend_from_slice(after_tbs);
    cert::parse(&tlv(0x30, &body))
}

#[test]
fn skipping_certificate_checks_accepts_any_certificate() {
    let skip = Verifier {
        provider: provider(),
        trust: None,
    };
    assert_eq!(
        verify(&skip, "ca_true", "other.example", jan1(2040)),
        Ok(())
    );
}

#[test]
fn certificate_facts_are_read_from_der() {
    let (jan2025, jan2035) = (jan1(2025).as_secs(), jan1(2035).as_secs());
    for (name, self_issued, not_after, server_auth, may_sign_certificates) in [
        ("ca_true", true, jan2035, true, true),
        ("ca_false", true, jan2035, true, false),
        ("client_only", true, jan2035, false, true),
        ("long_lived", true, jan1(2060).as_secs(), true, true),
        ("root", true, jan2035, true, true),
        ("leaf", false, jan2035, true, false),
    ] {
        let expected = cert::CertFacts {
            self_issued,
            not_before: jan2025,
            not_after,
            server_auth,
            may_sign_certificates,
        };
        assert_eq!(cert::parse(&cert(name)), Some(expected), "{name}");
    }
    let der = cert("ca_true");
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert_eq!(cert::parse(&der[..cut]), None, "cut at {cut}");
    }
}

#[test]
fn tls_advice_never_asks_for_what_is_already_given() {
    let unknown: rustls::Error = CertificateError::UnknownIssuer.into();
    let none = describe(&unknown, None, false);
    assert!(
        none.contains("pass that certificate (NODE_EXTRA_CA_CERTS or caCertificates)"),
        "{none}"
    );
    for (file, call, holder) in [
        (
            Some("/etc/ca.pem"),
            false,
            "NODE_EXTRA_CA_CERTS (/etc/ca.pem) does not hold",
        ),
        (None, true, "caCertificates does not hold"),
        (
            Some("/etc/ca.pem"),
            true,
            "NODE_EXTRA_CA_CERTS (/etc/ca.pem) and caCertificates do not hold",
        ),
    ] {
        let text = describe(&unknown, file, call);
        assert!(text.contains(holder), "{text}");
        assert!(!text.contains("pass that certificate"), "{text}");
    }

    let ca_as_leaf: rustls::Error = CertificateError::Other(rustls::OtherError(Arc::new(
        webpki::Error::CaUsedAsEndEntity,
    )))
    .into();
    let mismatch: rustls::Error = CertificateError::NotValidForNameContext {
        expected: ServerName::try_from("127.0.0.1").unwrap(),
        presented: vec![
            "DnsName(\"tfs.example\")".into(),
            "IpAddress(10.0.0.1)".into(),
            "DnsName(\"\u{1b}]0;owned\u{7}x.example\")".into(),
        ],
    }
    .into();
    for (err, says) in [
        (
            mismatch,
            "does not match its host name (it is for tfs.example, 10.0.0.1, x.example)",
        ),
        (
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("tfs.example").unwrap(),
                presented: vec![],
            }
            .into(),
            "names no host in subjectAltName (the CN does not count). Make it with",
        ),
        (CertificateError::Expired.into(), "has expired"),
        (CertificateError::NotValidYet.into(), "not valid yet"),
        (CertificateError::InvalidPurpose.into(), "lacks serverAuth"),
        (ca_as_leaf, "presents a CA certificate as its own"),
    ] {
        for (file, call) in [(None, false), (Some("/etc/ca.pem"), true)] {
            let text = describe(&err, file, call);
            assert!(text.contains(says), "{text}");
            assert!(!text.contains("NODE_EXTRA_CA_CERTS"), "{text}");
        }
    }
}

#[test]
fn ca_files_are_read_only_when_regular_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("ca.pem");
    std::fs::write(&small, b"pem").unwrap();
    assert_eq!(read_capped(&small).unwrap(), b"pem");
    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'x'; MAX_CA_FILE_BYTES as usize + 1]).unwrap();
    assert_eq!(
        read_capped(&big).unwrap_err().kind(),
        std::io::ErrorKind::InvalidData
    );
    for not_a_file in [dir.path(), std::path::Path::new("/dev/zero")] {
        assert_eq!(
            read_capped(not_a_file).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput,
            "{}",
            not_a_file.display()
        );
    }
}
