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

#[cfg(test)]
mod tests {
    //! The PEM files under `testdata/` are test-only keys made for these
    //! tests (`openssl req -x509 -newkey rsa:2048`); `thumbprint.txt` is
    //! openssl's SHA-256 of the certificate, base64url.
    use super::*;

    const PKCS8: &[u8] = include_bytes!("testdata/pkcs8.pem");
    const PKCS1_CHAIN: &[u8] = include_bytes!("testdata/pkcs1-chain.pem");
    const EC: &[u8] = include_bytes!("testdata/ec-key.pem");
    const CERT: &[u8] = include_bytes!("testdata/cert.pem");
    const OTHER: &[u8] = include_bytes!("testdata/other.pem");
    const THUMBPRINT: &str = include_str!("testdata/thumbprint.txt");

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    fn der(pem: &[u8]) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem).unwrap()
    }

    #[test]
    fn the_assertion_is_a_ps256_jwt_with_the_thumbprint_and_the_claims_entra_checks() {
        let certificate = ClientCertificate::from_pem(PKCS8).unwrap();
        assert_eq!(certificate.thumbprint(), THUMBPRINT.trim());
        let aud = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
        let jwt = certificate
            .assertion("c1", aud, 1_700_000_000, false)
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(
            header,
            serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": THUMBPRINT.trim()})
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
        let cert = der(CERT);
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
        let certificate = ClientCertificate::from_pem(PKCS1_CHAIN).unwrap();
        assert_eq!(
            certificate.thumbprint(),
            THUMBPRINT.trim(),
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
            [STANDARD.encode(der(CERT)), STANDARD.encode(der(OTHER))]
        );
        assert!(!format!("{certificate:?}").contains("PRIVATE"));
    }

    #[test]
    fn unusable_files_say_why() {
        let without_cert = std::str::from_utf8(PKCS8)
            .unwrap()
            .split("-----BEGIN CERTIFICATE")
            .next()
            .unwrap()
            .to_string();
        let mismatched = format!("{without_cert}{}", std::str::from_utf8(OTHER).unwrap());
        for (pem, why) in [
            (EC, "EC key"),
            (CERT, "no unencrypted private key"),
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
