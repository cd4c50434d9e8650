use base64::Engine;
use healthpass_codec::cose::Algorithm;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use thiserror::Error;

/// A private key that signs certificates: ES256 (EC P-256) or PS256 (RSA).
pub struct SigningKey {
    inner: Inner,
    rng: SystemRandom,
}

enum Inner {
    Es256(EcdsaKeyPair),
    Ps256(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "SigningKey({})", self.algorithm())
    }
}

/// Why a private key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No `PRIVATE KEY` PEM block, or bad Base64 inside it.
    #[error(
        "no PKCS#8 private key found; expected a \"-----BEGIN PRIVATE KEY-----\" block \
         (convert SEC1 or PKCS#1 keys with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem`)"
    )]
    NotPkcs8Pem,
    /// A PKCS#8 key that is neither EC P-256 nor RSA (2048 to 8192 bits).
    #[error("the key is not an EC P-256 or RSA (2048-8192 bit) PKCS#8 private key: {detail}")]
    Unsupported {
        /// What ring reported.
        detail: String,
    },
    /// Signing failed (an internal error of the crypto library).
    #[error("signing failed")]
    Signing,
}

impl SigningKey {
    /// Reads a PKCS#8 private key from PEM.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = healthpass_codec::pem::first(pem, "PRIVATE KEY")
            .ok_or(KeyError::NotPkcs8Pem)?
            .map_err(|_| KeyError::NotPkcs8Pem)?;
        Self::from_pkcs8_der(&der)
    }

    /// Reads a PKCS#8 private key from DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let inner = match EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            der,
            &rng,
        ) {
            Ok(key) => Inner::Es256(key),
            Err(ec_err) => match RsaKeyPair::from_pkcs8(der) {
                Ok(key) => Inner::Ps256(key),
                Err(rsa_err) => {
                    return Err(KeyError::Unsupported {
                        detail: format!("as EC: {ec_err}; as RSA: {rsa_err}"),
                    });
                }
            },
        };
        Ok(Self { inner, rng })
    }

    /// The COSE algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            Inner::Es256(_) => Algorithm::Es256,
            Inner::Ps256(_) => Algorithm::Ps256,
        }
    }

    /// The public key as it appears in a certificate: the SEC1 point for EC, the PKCS#1
    /// `RSAPublicKey` DER for RSA.
    pub fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Es256(key) => key.public_key().as_ref(),
            Inner::Ps256(key) => key.public_key().as_ref(),
        }
    }

    /// A new EC P-256 key; returns it and its PKCS#8 DER (to keep).
    pub fn generate_es256() -> Result<(Self, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Signing)?;
        let der = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8_der(&der)?, der))
    }

    /// Reads an EC P-256 private key from a JWK (`kty` EC, `crv` P-256, `x`, `y`, `d`), as
    /// SMART Health Card issuers keep them.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self, KeyError> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let field = |name: &str| {
            jwk.get(name)
                .and_then(serde_json::Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .filter(|v| v.len() == 32)
        };
        if jwk.get("kty").and_then(serde_json::Value::as_str) != Some("EC")
            || jwk.get("crv").and_then(serde_json::Value::as_str) != Some("P-256")
        {
            return Err(KeyError::Unsupported {
                detail: "a JWK signing key must be EC P-256".to_owned(),
            });
        }
        let (Some(x), Some(y), Some(d)) = (field("x"), field("y"), field("d")) else {
            return Err(KeyError::Unsupported {
                detail: "the JWK needs x, y and the private d, 32 bytes each".to_owned(),
            });
        };
        let point = [&[4u8][..], &x, &y].concat();
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &d,
            &point,
            &rng,
        )
        .map_err(|e| KeyError::Unsupported {
            detail: format!("the JWK is not a valid P-256 key pair: {e}"),
        })?;
        Ok(Self {
            inner: Inner::Es256(key),
            rng,
        })
    }

    /// The public key as a SMART Health Card JWK (`kid` = its RFC 7638 thumbprint, `use`
    /// sig, `alg` ES256), for EC P-256 keys.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let Inner::Es256(key) = &self.inner else {
            return None;
        };
        let point = key.public_key().as_ref();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        let kid = healthpass_trust::jwk::ec_thumbprint("P-256", &x, &y);
        Some(serde_json::json!({
            "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": x, "y": y,
        }))
    }

    /// Signs `message`: ES256 gives 64 bytes of `r‖s`, PS256 a modulus-sized PSS signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Es256(key) => key
                .sign(&self.rng, message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| KeyError::Signing),
            Inner::Ps256(key) => {
                let mut sig = vec![0u8; key.public().modulus_len()];
                key.sign(&signature::RSA_PSS_SHA256, &self.rng, message, &mut sig)
                    .map_err(|_| KeyError::Signing)?;
                Ok(sig)
            }
        }
    }
}
