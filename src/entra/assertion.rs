//! The client assertion of a service principal with a certificate: a JWT
//! signed with the certificate's private key (RFC 7523), as the Microsoft
//! identity platform takes it. PS256 with the certificate's SHA-256
//! thumbprint in `x5t#S256`, what current MSAL sends (RS256 with the SHA-1
//! `x5t` is the older form; Entra takes both); `x5c` with the chain when
//! asked (`AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`, subject name and issuer
//! authentication). Claims: `aud` the token endpoint, `iss` = `sub` the
//! client id, a fresh `jti`, `nbf` now, `exp` ten minutes on (Entra's limit).

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::entra::ci_files::read_small_file;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long an assertion is good for: Entra refuses more than ten minutes.
pub const LIFETIME_SECS: u64 = 600;

/// A PEM file's private key and certificates. (No secret in `Debug`.)
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// The key's own certificate first, then the rest as the file has them.
    chain: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint())
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads `AZURE_CLIENT_CERTIFICATE_PATH` (the same caps and checks as a
    /// CA file: a regular file of at most 1 MiB, never a FIFO or device).
    ///
    /// # Errors
    /// `INVALID_CREDENTIAL` when the file cannot be read or holds no RSA key
    /// with its certificate.
    pub fn read(path: &Path) -> Result<Self> {
        let pem = read_small_file(path, "AZURE_CLIENT_CERTIFICATE_PATH")?;
        Self::from_pem(&pem).map_err(|reason| {
            Error::invalid_credential(format!(
                "AZURE_CLIENT_CERTIFICATE_PATH ({}) {reason}",
                path.display()
            ))
        })
    }

    /// A PEM text with a private key (`PRIVATE KEY`, PKCS#8, or `RSA PRIVATE
    /// KEY`, PKCS#1) and its certificate.
    pub fn from_pem(pem: &[u8]) -> std::result::Result<Self, &'static str> {
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(der)) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            Ok(_) => {
                return Err("holds an EC key; Microsoft Entra certificate credentials are RSA");
            }
            Err(_) => {
                return Err("holds no unencrypted private key (PRIVATE KEY or RSA PRIVATE KEY)");
            }
        }
        .map_err(|_| "holds a private key that is not a usable RSA key (2048 bits or more)")?;
        let mut certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| "holds a certificate that cannot be read")?;
        let public = ring::signature::KeyPair::public_key(&key).as_ref().to_vec();
        // The SubjectPublicKeyInfo ends with the RSAPublicKey the key pair has.
        let own = certs.iter().position(|der| {
            webpki::EndEntityCert::try_from(der)
                .is_ok_and(|cert| cert.subject_public_key_info().as_ref().ends_with(&public))
        });
        let Some(own) = own else {
            return Err("holds no certificate for its private key");
        };
        let leaf = certs.remove(own);
        certs.insert(0, leaf);
        Ok(ClientCertificate { key, chain: certs })
    }

    /// `x5t#S256`: the certificate's SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &self.chain[0]))
    }

    /// The signed assertion for `client_id` at `audience` (the token
    /// endpoint), made at `now` (Unix seconds).
    ///
    /// # Errors
    /// `INVALID_CREDENTIAL` when the system has no randomness or cannot sign.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: u64,
        send_chain: bool,
    ) -> Result<Secret> {
        let rng = SystemRandom::new();
        let unusable = || Error::invalid_credential("the client assertion could not be signed");
        let mut header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t#S256": self.thumbprint(),
        });
        if send_chain {
            let chain: Vec<String> = self.chain.iter().map(|c| STANDARD.encode(c)).collect();
            header["x5c"] = chain.into();
        }
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid(&rng).ok_or_else(unusable)?,
            "nbf": now,
            "exp": now + LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = Zeroizing::new(vec![0; self.key.public().modulus_len()]);
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| unusable())?;
        Ok(Zeroizing::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(&*signature)
        )))
    }
}

/// A random (version 4) UUID: the assertion's one-time `jti`.
fn uuid(rng: &SystemRandom) -> Option<String> {
    let mut b = [0u8; 16];
    rng.fill(&mut b).ok()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

// The key pairs are made by the `openssl` command at test time (no private
// key is checked in); the Windows core run under Wine has no such command, and
// this module is target-independent (ring and PEM parsing, no OS calls).
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    /// Test-only keys and self-signed certificates, made once per run.
    struct Pems {
        /// A PKCS#8 RSA key, then its certificate.
        pkcs8: Vec<u8>,
        /// Another certificate, the PKCS#1 form of the same key, its certificate.
        pkcs1_chain: Vec<u8>,
        /// An EC key and its certificate.
        ec: Vec<u8>,
        cert: Vec<u8>,
        other: Vec<u8>,
        /// openssl's SHA-256 fingerprint of `cert`, base64url.
        thumbprint: String,
    }

    fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("these tests make their keys with the `openssl` command ({e}): apt-get install openssl")
            });
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn pems() -> &'static Pems {
        static PEMS: OnceLock<Pems> = OnceLock::new();
        PEMS.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!(
                "tfx-auth-assertion-{}-{:x}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir(&dir).unwrap();
            let self_signed = |key: &str, cert: &str, new_key: &str| {
                let subject = format!("/CN=tfx-auth test {cert}");
                openssl(
                    &dir,
                    &[
                        "req", "-x509", "-newkey", new_key, "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", &subject,
                    ],
                );
            };
            self_signed("key.pem", "cert.pem", "rsa:2048");
            self_signed("other-key.pem", "other.pem", "rsa:2048");
            openssl(
                &dir,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    "ec.pem",
                ],
            );
            openssl(
                &dir,
                &[
                    "req",
                    "-x509",
                    "-key",
                    "ec.pem",
                    "-out",
                    "ec-cert.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=tfx-auth test ec",
                ],
            );
            let pkcs1 = openssl(&dir, &["rsa", "-in", "key.pem", "-traditional"]);
            let fingerprint = openssl(
                &dir,
                &[
                    "x509",
                    "-in",
                    "cert.pem",
                    "-noout",
                    "-fingerprint",
                    "-sha256",
                ],
            );
            let read = |name: &str| std::fs::read(PathBuf::from(&dir).join(name)).unwrap();
            let (key, cert, other) = (read("key.pem"), read("cert.pem"), read("other.pem"));
            let ec = [read("ec.pem"), read("ec-cert.pem")].concat();
            std::fs::remove_dir_all(&dir).unwrap();
            let hex = String::from_utf8(fingerprint).unwrap();
            let hex = hex.trim().rsplit('=').next().unwrap().replace(':', "");
            let digest: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(digest.len(), 32, "a SHA-256 fingerprint");
            // The two encodings the tests mean, as rustls's PEM reader sees them.
            assert!(
                matches!(
                    PrivateKeyDer::from_pem_slice(&key),
                    Ok(PrivateKeyDer::Pkcs8(_))
                ),
                "PKCS#8"
            );
            assert!(
                matches!(
                    PrivateKeyDer::from_pem_slice(&pkcs1),
                    Ok(PrivateKeyDer::Pkcs1(_))
                ),
                "PKCS#1"
            );
            Pems {
                pkcs8: [key, cert.clone()].concat(),
                pkcs1_chain: [other.clone(), pkcs1, cert.clone()].concat(),
                ec,
                cert,
                other,
                thumbprint: URL_SAFE_NO_PAD.encode(digest),
            }
        })
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    fn der(pem: &[u8]) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem).unwrap()
    }

    #[test]
    fn the_assertion_is_a_ps256_jwt_with_the_thumbprint_and_the_claims_entra_checks() {
        let certificate = ClientCertificate::from_pem(&pems().pkcs8).unwrap();
        assert_eq!(certificate.thumbprint(), pems().thumbprint);
        let aud = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
        let jwt = certificate
            .assertion("c1", aud, 1_700_000_000, false)
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(
            header,
            serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": pems().thumbprint})
        );
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], aud);
        assert_eq!(claims["iss"], "c1");
        assert_eq!(claims["sub"], "c1");
        assert_eq!(claims["nbf"], 1_700_000_000u64);
        assert_eq!(claims["exp"], 1_700_000_000u64 + 600);
        let jti = claims["jti"].as_str().unwrap();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4", "a version 4 UUID: {jti}");
        // A fresh jti every time (Entra refuses a replayed one).
        let again = certificate
            .assertion("c1", aud, 1_700_000_000, false)
            .unwrap();
        assert_ne!(
            decode(again.split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );

        // The signature verifies against the certificate's own public key
        // (ring's RSA-PSS verifier, through webpki), and not once altered.
        let cert = der(&pems().cert);
        let leaf = webpki::EndEntityCert::try_from(&cert).unwrap();
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        let alg = webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY;
        leaf.verify_signature(alg, signed.as_bytes(), &signature)
            .unwrap();
        let tampered = format!("{}.{}x", parts[0], parts[1]);
        assert!(
            leaf.verify_signature(alg, tampered.as_bytes(), &signature)
                .is_err()
        );
    }

    #[test]
    fn pkcs1_keys_find_their_own_certificate_and_x5c_sends_the_chain_leaf_first() {
        let certificate = ClientCertificate::from_pem(&pems().pkcs1_chain).unwrap();
        assert_eq!(
            certificate.thumbprint(),
            pems().thumbprint,
            "the key's certificate, not the first one"
        );
        let jwt = certificate
            .assertion("c1", "https://a/t/oauth2/v2.0/token", 1, true)
            .unwrap();
        let header = decode(jwt.split('.').next().unwrap());
        let x5c: Vec<String> = header["x5c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            x5c,
            [
                STANDARD.encode(der(&pems().cert)),
                STANDARD.encode(der(&pems().other))
            ]
        );
        assert!(!format!("{certificate:?}").contains("PRIVATE"));
    }

    #[test]
    fn unusable_files_say_why() {
        let without_cert = std::str::from_utf8(&pems().pkcs8)
            .unwrap()
            .split("-----BEGIN CERTIFICATE")
            .next()
            .unwrap()
            .to_string();
        let mismatched = format!(
            "{without_cert}{}",
            std::str::from_utf8(&pems().other).unwrap()
        );
        for (pem, why) in [
            (&pems().ec[..], "EC key"),
            (&pems().cert[..], "no unencrypted private key"),
            (
                without_cert.as_bytes(),
                "no certificate for its private key",
            ),
            (mismatched.as_bytes(), "no certificate for its private key"),
            (b"" as &[u8], "no unencrypted private key"),
        ] {
            let err = ClientCertificate::from_pem(pem).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }
}
