//! TLS for the HTTP layer: the roots (system, `NODE_EXTRA_CA_CERTS`,
//! per-call CAs, each file read with a size cap so a wrong path such as
//! `/dev/zero` fails fast), the one certificate verifier (webpki's checks, a
//! trusted self-signed server certificate, or the explicit per-call skip) and
//! what a failed handshake tells the user to do.

mod cert;

use std::io::Read;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};

use super::ConnectOptions;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// The most a CA bundle file may hold; real bundles (the whole Mozilla set)
/// are ~250 KiB.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots, read once per process.
fn system_roots() -> &'static Vec<CertificateDer<'static>> {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

pub(super) fn tls_config(
    url: &ServiceUrl,
    options: &ConnectOptions,
    extra_ca_file: Option<&str>,
) -> Result<rustls::ClientConfig> {
    let tls_err = |reason: String| Error::Tls {
        url: url.to_string(),
        reason,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?;
    let trust = if options.skip_cert_validation {
        None
    } else {
        Some(trust(options, extra_ca_file).map_err(tls_err)?)
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            provider: provider(),
            trust,
        }))
        .with_no_client_auth())
}

/// The system roots plus the certificates the user gave.
fn trust(
    options: &ConnectOptions,
    extra_ca_file: Option<&str>,
) -> std::result::Result<Trust, String> {
    let mut explicit = Vec::new();
    if let Some(path) = extra_ca_file {
        // Like Node: an unreadable bundle is reported and otherwise ignored.
        match read_capped(std::path::Path::new(&path)) {
            Ok(pem) => explicit.extend(CertificateDer::pem_slice_iter(&pem).flatten()),
            Err(e) => eprintln!("tfx-auth: warning: ignoring NODE_EXTRA_CA_CERTS ({path}: {e})"),
        }
    }
    for (i, ca) in options.ca_certificates.iter().enumerate() {
        let pem = if ca.contains("-----BEGIN") {
            ca.as_bytes().to_vec()
        } else {
            read_capped(std::path::Path::new(ca)).map_err(|e| {
                format!("caCertificates[{i}] is neither PEM text nor a readable file ({e})")
            })?
        };
        let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).flatten().collect();
        if !certs.iter().any(|c| cert::parse(c).is_some()) {
            return Err(format!("caCertificates[{i}] holds no usable certificate"));
        }
        explicit.extend(certs);
    }
    Ok(Trust::new(system_roots(), explicit, UnixTime::now()))
}

/// Reads a CA bundle: a regular file of at most [`MAX_CA_FILE_BYTES`]. Devices,
/// FIFOs and folders are refused (opened without blocking: a FIFO would wait
/// for a writer; `/dev/zero` never ends), and the read stops at the cap.
fn read_capped(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let too_big = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} KiB, not a CA bundle",
                MAX_CA_FILE_BYTES / 1024
            ),
        )
    };
    let not_a_file = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
    // Links are followed (system bundles are links). Checked before opening (a
    // folder cannot even be opened on Windows) and again once open, without
    // blocking: a FIFO swapped in after the first check would block the open.
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_a_file());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err(too_big());
    }
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(too_big());
    }
    Ok(pem)
}

/// What the verifier trusts.
#[derive(Debug)]
struct Trust {
    roots: Arc<RootCertStore>,
    /// The certificates the user gave (`NODE_EXTRA_CA_CERTS`, `caCertificates`),
    /// not the system's: only these may be the server's own certificate.
    explicit: Vec<CertificateDer<'static>>,
}

/// The one server certificate verifier. With `trust`, webpki's checks (chain
/// to a root, validity, extended key usage, host name), and a trusted
/// self-signed certificate (see [`Trust::self_signed`]); without (the
/// per-call `skipCertValidation`), any certificate. Handshake signatures are
/// verified either way, so the handshake itself stays sound.
///
/// It calls the functions rustls's `WebPkiServerVerifier` is made of rather
/// than wrapping one, because that one cannot be built without a root (a
/// machine with no system roots and no extra CAs) and we use no CRLs.
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    trust: Option<Trust>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(trust) = &self.trust else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        let algorithms = self.provider.signature_verification_algorithms.all;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &trust.roots,
            intermediates,
            now,
            algorithms,
        )
        .or_else(|err| trust.self_signed(end_entity, now, err))?;
        rustls::client::verify_server_name(&cert, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl Trust {
    /// The system roots are trust anchors as they are. Of the certificates the
    /// user gave, only a CA valid `now` becomes one (see [`may_issue`]): webpki
    /// checks nothing of an anchor, so a pinned server certificate there would
    /// vouch for any host it signs. Every one of them may still be the
    /// server's own certificate ([`Trust::self_signed`]).
    fn new(
        system: &[CertificateDer<'static>],
        explicit: Vec<CertificateDer<'static>>,
        now: UnixTime,
    ) -> Trust {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(system.iter().cloned());
        let issuers = explicit.iter().filter(|c| may_issue(c, now)).cloned();
        roots.add_parsable_certificates(issuers);
        Trust {
            roots: Arc::new(roots),
            explicit,
        }
    }

    /// After webpki refused `end_entity` with `err`: a self-signed server
    /// certificate that is byte for byte one of the certificates the user
    /// gave is accepted, as OpenSSL (and so Node and stock tfx) accepts it,
    /// if it is valid now and allows serverAuth; the caller still checks the
    /// host name. webpki refuses one made with `openssl req -x509` because
    /// that marks it CA:TRUE; a CA:FALSE one it already accepts.
    ///
    /// A given certificate that is no CA is not a trust anchor, so webpki
    /// refuses it as `UnknownIssuer`; accepted here the same way.
    ///
    /// A self-signed certificate that is not among them is reported as
    /// `UnknownIssuer`, whatever webpki stumbled on first (CA:TRUE, or a
    /// trusted certificate with the same name but another key).
    fn self_signed(
        &self,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
        err: rustls::Error,
    ) -> std::result::Result<(), rustls::Error> {
        let Some(facts) = cert::parse(end_entity).filter(|f| f.self_issued) else {
            return Err(err);
        };
        let trusted = self
            .explicit
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref());
        // Errors of the chain, not of the certificate: no anchor is its issuer
        // (a given certificate that is no CA is none), or an anchor with its
        // name but another key or algorithm (the system's snakeoil
        // `CN=localhost`) was tried first.
        let no_chain = matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
                    | CertificateError::BadSignature
                    | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
                    | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
            )
        ) || is_ca_used_as_end_entity(&err);
        if !no_chain {
            return Err(err);
        }
        if !trusted {
            return Err(CertificateError::UnknownIssuer.into());
        }
        // webpki reads the validity period before the basic constraints, so
        // today it has refused an expired certificate already; checked again so
        // this acceptance does not rest on that order.
        let at = |secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        if facts.not_before > facts.not_after || now.as_secs() > facts.not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: at(facts.not_after),
            }
            .into());
        }
        if now.as_secs() < facts.not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: at(facts.not_before),
            }
            .into());
        }
        if !facts.server_auth {
            return Err(CertificateError::InvalidPurpose.into());
        }
        Ok(())
    }
}

/// Whether a certificate the user gave may sign others: a CA (basicConstraints
/// CA:TRUE, keyCertSign when it has a key usage), valid at `now`. OpenSSL (so
/// Node) refuses the same as an issuer.
fn may_issue(der: &CertificateDer<'_>, now: UnixTime) -> bool {
    cert::parse(der).is_some_and(|f| {
        f.may_sign_certificates && (f.not_before..=f.not_after).contains(&now.as_secs())
    })
}

/// webpki's "CA certificate used as end entity", which rustls passes on
/// only as `CertificateError::Other`.
fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
    matches!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
    )
}

/// What a failed handshake means and what to do next, for `TLS_ERROR`. The
/// advice follows the certificates already given, so it never asks the user
/// to set what is set.
pub(crate) fn describe_failure(
    err: &rustls::Error,
    options: &ConnectOptions,
    extra_ca_file: Option<&str>,
) -> String {
    describe(err, extra_ca_file, !options.ca_certificates.is_empty())
}

fn describe(err: &rustls::Error, extra_ca_file: Option<&str>, ca_certificates: bool) -> String {
    use CertificateError as C;
    let rustls::Error::InvalidCertificate(cert_err) = err else {
        return match err {
            rustls::Error::InvalidMessage(_) => {
                "the server did not answer with TLS (is it plain http?)".into()
            }
            other => format!("the TLS handshake failed ({other})"),
        };
    };
    match cert_err {
        C::UnknownIssuer => {
            let given: Vec<String> = extra_ca_file
                .map(|p| format!("NODE_EXTRA_CA_CERTS ({p})"))
                .into_iter()
                .chain(ca_certificates.then(|| "caCertificates".to_string()))
                .collect();
            let untrusted = "the server's certificate is not signed by a trusted certificate authority";
            if given.is_empty() {
                format!(
                    "{untrusted}. If the server uses a private certificate authority or a self-signed certificate, pass that certificate (NODE_EXTRA_CA_CERTS or caCertificates)"
                )
            } else {
                let verb = if given.len() == 1 { "does" } else { "do" };
                format!(
                    "{untrusted}, and {} {verb} not hold its CA or the certificate itself. Add the server's CA certificate (or its self-signed certificate) there",
                    given.join(" and ")
                )
            }
        }
        C::NotValidForNameContext { presented, .. } if presented.is_empty() => {
            // Node (so stock tfx) falls back to the CN then; webpki, like browsers, does not.
            "the server's certificate names no host in subjectAltName (the CN does not count). \
             Make it with -addext subjectAltName=DNS:<host>"
                .into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            let presented = match cert_err {
                C::NotValidForNameContext { presented, .. } => {
                    let mut names = presented
                        .iter()
                        .take(5)
                        // The names come from the server: printable, and not a page of them.
                        .map(|n| crate::text::printable(bare_name(n)).chars().take(100).collect())
                        .collect::<Vec<String>>()
                        .join(", ");
                    if presented.len() > 5 {
                        names.push_str(", ...");
                    }
                    format!(" (it is for {names})")
                }
                _ => String::new(),
            };
            format!(
                "the server's certificate does not match its host name{presented}. Use a URL with a name the certificate holds"
            )
        }
        C::Expired | C::ExpiredContext { .. } => {
            "the server's certificate has expired. Renew it on the server, or check this computer's clock".into()
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet. Check this computer's clock".into()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the server's certificate is not meant for a TLS server (its extended key usage lacks serverAuth)".into()
        }
        _ if is_ca_used_as_end_entity(err) => {
            "the server presents a CA certificate as its own. It needs a server certificate (CA:FALSE) issued by that CA".into()
        }
        _ => format!("the TLS handshake failed ({err})"),
    }
}

/// `tfs.example` of rustls's `DnsName("tfs.example")`, `127.0.0.1` of
/// `IpAddress(127.0.0.1)`: the names as the user wrote them.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map_or(presented, |inner| inner.trim_matches('"'))
}

#[cfg(test)]
mod tests;
