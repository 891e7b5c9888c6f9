//! TLS for the HTTP layer: the roots (system, `NODE_EXTRA_CA_CERTS`,
//! per-call CAs, each file read with a size cap so a wrong path such as
//! `/dev/zero` fails fast) and the explicit, per-call skip of certificate checks.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::ConnectOptions;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// The most a CA bundle file may hold; real bundles (the whole Mozilla set)
/// are ~250 KiB.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
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
) -> Result<rustls::ClientConfig> {
    let tls_err = |reason: String| Error::Tls {
        url: url.to_string(),
        reason,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?;
    if options.skip_cert_validation {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system_roots().iter().cloned());
    if let Ok(path) = std::env::var("NODE_EXTRA_CA_CERTS") {
        // Like Node: an unreadable bundle is reported and otherwise ignored.
        match read_capped(std::path::Path::new(&path)) {
            Ok(pem) => {
                roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).flatten());
            }
            Err(e) => eprintln!("tfx-auth: warning: ignoring NODE_EXTRA_CA_CERTS ({path}: {e})"),
        }
    }
    for (i, ca) in options.ca_certificates.iter().enumerate() {
        let pem = if ca.contains("-----BEGIN") {
            ca.as_bytes().to_vec()
        } else {
            read_capped(std::path::Path::new(ca)).map_err(|e| {
                tls_err(format!(
                    "caCertificates[{i}] is neither PEM text nor a readable file ({e})"
                ))
            })?
        };
        let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).flatten().collect();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(tls_err(format!(
                "caCertificates[{i}] holds no usable certificate"
            )));
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Reads a CA bundle: a regular file of at most [`MAX_CA_FILE_BYTES`]. Devices,
/// FIFOs and folders are refused before opening (opening a FIFO blocks until
/// a writer comes; `/dev/zero` never ends), and the read stops at the cap.
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
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err(too_big());
    }
    let mut pem = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(too_big());
    }
    Ok(pem)
}

/// Accepts any certificate (`skipCertValidation`), still checking signatures
/// so the handshake itself stays sound.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
