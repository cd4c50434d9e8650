//! SMART Health Card issuer keys (spec "Determining keys associated with an issuer"): the
//! issuer publishes a JSON Web Key Set at `<iss>/.well-known/jwks.json`, and a card's JWS
//! header names its key by `kid`, the RFC 7638 thumbprint of the key.
//!
//! [`IssuerKey::from_jwk`] enforces the SHC key rules (EC P-256, ES256, `use` = `sig`, `kid`
//! = thumbprint, no private `d`), and [`Jwks::parse`] keeps the keys that pass and lists the
//! others with their reason, so one bad key does not hide the good ones.
//!
//! A key may carry an `x5c` certificate chain; [`IssuerKey::check_x5c`] checks what the spec
//! asks of it short of the verifier's own trust anchors: the leaf holds the same public key,
//! names `iss` as a URI in its subjectAltName, and every certificate is valid and issued by the
//! next. Chains seen in SHC deployments use P-384 and P-521 CA keys; this crate verifies
//! P-256 and P-384 issuers through `ring` and P-521 issuers through RustCrypto's `p521`, and
//! reports any other issuer key as [`X5cError::UnsupportedIssuerKey`] rather than skipping
//! its signature.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::Decode;
use der::asn1::IntRef;
use healthpass_codec::json::{JsonError, parse_strict};
use jiff::Timestamp;
use ring::signature::{self, UnparsedPublicKey};
use serde_json::{Map, Value};
use thiserror::Error;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::chain::{ChainError, verify_issued_by};
use crate::signer::{PublicKey, SignerCertificate};

/// Length of a P-256 coordinate.
const COORDINATE_LEN: usize = 32;
/// Length of the JOSE form of an ES256 signature (`r‖s`).
const ES256_SIGNATURE_LEN: usize = 64;

/// Why a JWK or a JWKS is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwkError {
    /// The key set is not (strict) JSON.
    #[error("the key set is not JSON: {0}")]
    Json(#[from] JsonError),
    /// The document is JSON but not `{"keys": [...]}`.
    #[error("not a JSON Web Key Set ({detail}); expected {{\"keys\": [...]}}")]
    NotAKeySet {
        /// What was found instead.
        detail: String,
    },
    /// A key is not a JSON object.
    #[error("a JWK is a JSON object; this one is {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// The key carries the private member `d`: a published key set must never hold it, and a
    /// key set that does has leaked its issuer's signing key.
    #[error("the key carries the private member \"d\"; a published key set must never hold it")]
    PrivateKey,
    /// A member that must be text is some other JSON type.
    #[error("member \"{member}\" is not a string")]
    NotAString {
        /// The member.
        member: &'static str,
    },
    /// `kty` is not `EC`.
    #[error("kty is {}; SMART Health Cards require \"EC\"", shown(.kty))]
    WrongKeyType {
        /// The `kty` found, `None` when absent.
        kty: Option<String>,
    },
    /// `crv` is not `P-256`.
    #[error("crv is {}; SMART Health Cards require \"P-256\"", shown(.crv))]
    WrongCurve {
        /// The `crv` found, `None` when absent.
        crv: Option<String>,
    },
    /// `alg` is not `ES256`.
    #[error("alg is {}; SMART Health Cards require \"ES256\"", shown(.alg))]
    WrongAlgorithm {
        /// The `alg` found, `None` when absent.
        alg: Option<String>,
    },
    /// `use` is not `sig`.
    #[error("use is {}; SMART Health Cards require \"sig\"", shown(.key_use))]
    WrongUse {
        /// The `use` found, `None` when absent.
        key_use: Option<String>,
    },
    /// `x` or `y` is absent, not base64url (unpadded) or not 32 bytes.
    #[error("coordinate \"{member}\" is not 32 bytes of base64url: {detail}")]
    BadCoordinate {
        /// `x` or `y`.
        member: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// No `kid`.
    #[error("the key has no kid")]
    MissingKid,
    /// `kid` is not the key's RFC 7638 thumbprint.
    #[error("kid {kid:?} is not the key's thumbprint {thumbprint:?}")]
    KidNotThumbprint {
        /// The `kid` found.
        kid: String,
        /// The thumbprint computed from `crv`, `kty`, `x`, `y`.
        thumbprint: String,
    },
    /// `crlVersion` is present but not a non-negative integer.
    #[error("crlVersion is {found}, not a non-negative integer")]
    BadCrlVersion {
        /// The JSON value found.
        found: String,
    },
    /// `x5c` is not a non-empty array of base64 DER certificates.
    #[error("x5c{}: {detail}", .index.map(|i| format!("[{i}]")).unwrap_or_default())]
    BadX5c {
        /// The certificate at fault, if one is.
        index: Option<usize>,
        /// What is wrong.
        detail: String,
    },
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "absent".to_owned(),
    }
}

/// Why an ES256 JWS signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwsSignatureError {
    /// The signature is an ASN.1 DER `ECDSA-Sig-Value`; JWS (and so SMART Health Cards) use
    /// the raw 64-byte `r‖s`. Told apart from other lengths because issuers have shipped this
    /// mistake (health-cards-dev-tools#28).
    #[error("the signature is ASN.1 DER; SMART Health Cards use the 64-byte JOSE form r‖s")]
    DerEncoded,
    /// Neither 64 bytes nor DER.
    #[error("an ES256 signature is 64 bytes (r‖s); this one has {len}")]
    BadLength {
        /// Its length.
        len: usize,
    },
    /// The signature does not match.
    #[error("the signature does not match the signed data")]
    Invalid,
}

/// Why a key's `x5c` chain is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum X5cError {
    /// The key has no `x5c`.
    #[error("the key has no x5c certificate chain")]
    Absent,
    /// A certificate could not be read again for a check (it parsed when the key was loaded).
    #[error("x5c[{index}] cannot be read: {detail}")]
    Unreadable {
        /// The certificate.
        index: usize,
        /// What the decoder reported.
        detail: String,
    },
    /// The leaf certificate holds another public key than the JWK.
    #[error("the x5c leaf certificate holds another public key ({leaf_key}) than the JWK")]
    LeafKeyMismatch {
        /// The leaf's key, described.
        leaf_key: String,
    },
    /// The leaf has no subjectAltName extension.
    #[error("the x5c leaf certificate has no subjectAltName; it must name the issuer URL")]
    NoSubjectAltName,
    /// The leaf's subjectAltName cannot be read (malformed, or present twice).
    #[error("the x5c leaf certificate's subjectAltName cannot be read: {detail}")]
    BadSubjectAltName {
        /// What the decoder reported.
        detail: String,
    },
    /// The leaf's subjectAltName has no URI at all (e.g. only a DNS name).
    #[error("the x5c leaf certificate's subjectAltName has no URI, only {names:?}")]
    NoUriInSubjectAltName {
        /// The names it has, e.g. `DNS:smarthealth.cards`.
        names: Vec<String>,
    },
    /// No subjectAltName URI equals `iss`.
    #[error("no subjectAltName URI of the x5c leaf certificate is {iss:?} (it has {uris:?})")]
    IssuerNotInSubjectAltName {
        /// The issuer URL looked for.
        iss: String,
        /// The URIs the leaf names.
        uris: Vec<String>,
    },
    /// A certificate is not yet valid.
    #[error("x5c[{index}] is not valid before {not_before}")]
    NotYetValid {
        /// The certificate.
        index: usize,
        /// Its notBefore.
        not_before: Timestamp,
    },
    /// A certificate has expired.
    #[error("x5c[{index}] expired at {not_after}")]
    Expired {
        /// The certificate.
        index: usize,
        /// Its notAfter.
        not_after: Timestamp,
    },
    /// A certificate is not issued by the next one (name or signature).
    #[error("x5c[{index}] is not issued by x5c[{issuer}]: {error}")]
    NotIssuedBy {
        /// The certificate.
        index: usize,
        /// The certificate expected to have issued it.
        issuer: usize,
        /// Why not.
        error: ChainError,
    },
    /// A signature in the chain is made with a key or algorithm this crate cannot check
    /// (e.g. a curve other than P-256, P-384 and P-521); the chain is not accepted unchecked.
    #[error("cannot check x5c[{index}]'s signature ({algorithm}) by x5c[{issuer}]'s {key} key")]
    UnsupportedIssuerKey {
        /// The certificate whose signature could not be checked.
        index: usize,
        /// The certificate holding the key.
        issuer: usize,
        /// The issuer's key, e.g. `EC P-521`.
        key: String,
        /// The signature algorithm OID.
        algorithm: String,
    },
}

/// What a successful x5c check established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct X5cPath {
    /// How many certificates the chain has.
    pub certificates: usize,
    /// Whether the last certificate is self-signed (its issuer is its subject and its
    /// signature verifies with its own key). When false, it must itself be chained to one of
    /// the verifier's anchors.
    pub ends_self_signed: bool,
}

/// An issuer's public signing key, checked against the SMART Health Card rules.
#[derive(Clone)]
pub struct IssuerKey {
    kid: String,
    /// SEC1 uncompressed point `04‖x‖y`, as `ring`'s verifiers take it.
    point: Vec<u8>,
    crl_version: Option<u64>,
    x5c: Vec<SignerCertificate>,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("kid", &self.kid)
            .field("crl_version", &self.crl_version)
            .field("x5c", &self.x5c.len())
            .finish()
    }
}

/// Reads a text member: `Ok(None)` when absent, an error when present but not text.
fn text_member<'a>(
    jwk: &'a Map<String, Value>,
    member: &'static str,
) -> Result<Option<&'a str>, JwkError> {
    match jwk.get(member) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JwkError::NotAString { member }),
    }
}

/// Requires a text member to have one value, building the error from what was found.
fn require(
    jwk: &Map<String, Value>,
    member: &'static str,
    wanted: &str,
    error: fn(Option<String>) -> JwkError,
) -> Result<(), JwkError> {
    match text_member(jwk, member)? {
        Some(v) if v == wanted => Ok(()),
        other => Err(error(other.map(str::to_owned))),
    }
}

/// A coordinate member: its text as published (the thumbprint hashes that) and its bytes.
fn coordinate<'a>(
    jwk: &'a Map<String, Value>,
    member: &'static str,
) -> Result<(&'a str, Vec<u8>), JwkError> {
    let bad = |detail: String| JwkError::BadCoordinate { member, detail };
    let text = text_member(jwk, member)?.ok_or_else(|| bad("absent".to_owned()))?;
    // The strict engine refuses padding and non-zero trailing bits, so the text is the one
    // canonical encoding of the bytes and the thumbprint cannot be varied.
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() != COORDINATE_LEN {
        return Err(bad(format!("{} bytes", bytes.len())));
    }
    Ok((text, bytes))
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_x5c(value: &Value) -> Result<Vec<SignerCertificate>, JwkError> {
    let bad = |index, detail: String| JwkError::BadX5c { index, detail };
    let Value::Array(entries) = value else {
        return Err(bad(None, format!("{}, not an array", json_type(value))));
    };
    // RFC 7517 4.7 and the SHC spec: "one or more" certificates.
    if entries.is_empty() {
        return Err(bad(None, "empty array".to_owned()));
    }
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let text = entry
                .as_str()
                .ok_or_else(|| bad(Some(index), format!("{}, not a string", json_type(entry))))?;
            // Standard base64 with padding, not base64url (RFC 7517 4.7).
            let der = STANDARD
                .decode(text)
                .map_err(|e| bad(Some(index), format!("not base64: {e}")))?;
            SignerCertificate::from_der(&der).map_err(|e| bad(Some(index), e.to_string()))
        })
        .collect()
}

impl IssuerKey {
    /// Reads one JWK and checks it against the SHC key rules: no private `d`, `kty` = `EC`,
    /// `crv` = `P-256`, `alg` = `ES256`, `use` = `sig`, `x` and `y` base64url of 32 bytes,
    /// `kid` equal to the RFC 7638 thumbprint; `crlVersion`, if present, a non-negative
    /// integer; `x5c`, if present, one or more base64 DER certificates. The checks run in that
    /// order and the first failure is reported. Members not named here are ignored.
    pub fn from_jwk(jwk: &Value) -> Result<IssuerKey, JwkError> {
        let Value::Object(jwk) = jwk else {
            return Err(JwkError::NotAnObject {
                found: json_type(jwk),
            });
        };
        // First, whatever else is wrong: a leaked private key is the finding that matters.
        if jwk.contains_key("d") {
            return Err(JwkError::PrivateKey);
        }
        require(jwk, "kty", "EC", |kty| JwkError::WrongKeyType { kty })?;
        require(jwk, "crv", "P-256", |crv| JwkError::WrongCurve { crv })?;
        require(jwk, "alg", "ES256", |alg| JwkError::WrongAlgorithm { alg })?;
        require(jwk, "use", "sig", |key_use| JwkError::WrongUse { key_use })?;
        let (x_text, x) = coordinate(jwk, "x")?;
        let (y_text, y) = coordinate(jwk, "y")?;
        let kid = text_member(jwk, "kid")?.ok_or(JwkError::MissingKid)?;
        let thumbprint = ec_thumbprint("P-256", x_text, y_text);
        if kid != thumbprint {
            return Err(JwkError::KidNotThumbprint {
                kid: kid.to_owned(),
                thumbprint,
            });
        }
        let crl_version = match jwk.get("crlVersion") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| JwkError::BadCrlVersion {
                found: v.to_string(),
            })?),
        };
        let x5c = match jwk.get("x5c") {
            None => Vec::new(),
            Some(v) => parse_x5c(v)?,
        };
        let mut point = Vec::with_capacity(1 + 2 * COORDINATE_LEN);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Ok(IssuerKey {
            kid: kid.to_owned(),
            point,
            crl_version,
            x5c,
        })
    }

    /// The key id (its thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `crlVersion` member: present when the issuer publishes a revocation list for this
    /// key at `<iss>/.well-known/crl/<kid>.json`, whose `ctr` must equal it.
    pub fn crl_version(&self) -> Option<u64> {
        self.crl_version
    }

    /// Whether the key carries an `x5c` certificate chain.
    pub fn has_x5c(&self) -> bool {
        !self.x5c.is_empty()
    }

    /// The `x5c` chain, leaf first (empty when absent): for linking the last certificate to
    /// the verifier's own anchors after [`IssuerKey::check_x5c`].
    pub fn x5c(&self) -> &[SignerCertificate] {
        &self.x5c
    }

    /// The public key as a SEC1 uncompressed point (`04‖x‖y`, 65 bytes).
    pub fn public_point(&self) -> &[u8] {
        &self.point
    }

    /// Verifies an ES256 JWS signature: `signing_input` is the JWS's `header.payload` ASCII as
    /// received, `signature` the base64url-decoded third part, which must be the 64-byte JOSE
    /// `r‖s`. A DER-encoded signature is reported as such (it is a known issuer mistake), any
    /// other length as [`JwsSignatureError::BadLength`].
    pub fn verify_es256(
        &self,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), JwsSignatureError> {
        let len = signature.len();
        if len != ES256_SIGNATURE_LEN {
            return Err(if is_der_ecdsa_signature(signature) {
                JwsSignatureError::DerEncoded
            } else {
                JwsSignatureError::BadLength { len }
            });
        }
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(signing_input, signature)
            .map_err(|_| JwsSignatureError::Invalid)
    }

    /// The spec's x5c checks, short of the verifier's own trust anchors: the leaf holds this
    /// key, its subjectAltName has a URI equal to `iss`, every certificate is valid at `now`,
    /// and each is issued by the next (name and signature). See [`IssuerKey::check_x5c_path`]
    /// for whether the chain ends in a self-signed certificate.
    pub fn check_x5c(&self, iss: &str, now: Timestamp) -> Result<(), X5cError> {
        self.check_x5c_path(iss, now).map(|_| ())
    }

    /// [`IssuerKey::check_x5c`], also telling how the chain ends. Checks run in this order,
    /// the first failure reported: leaf key, subjectAltName, validity (leaf first), then the
    /// signatures (leaf first), then the last certificate's self-signature if it is
    /// self-issued. A self-issued last certificate whose own signature fails is not an error
    /// (RFC 5280 never checks an anchor's signature); it is reported as not self-signed.
    pub fn check_x5c_path(&self, iss: &str, now: Timestamp) -> Result<X5cPath, X5cError> {
        let certs = &self.x5c;
        let Some(leaf) = certs.first() else {
            return Err(X5cError::Absent);
        };
        if !same_point(leaf.public_key(), &self.point) {
            return Err(X5cError::LeafKeyMismatch {
                leaf_key: leaf.public_key().describe(),
            });
        }
        check_san(leaf, iss)?;
        for (index, cert) in certs.iter().enumerate() {
            let validity = cert.validity();
            if now < validity.not_before {
                return Err(X5cError::NotYetValid {
                    index,
                    not_before: validity.not_before,
                });
            }
            if now > validity.not_after {
                return Err(X5cError::Expired {
                    index,
                    not_after: validity.not_after,
                });
            }
        }
        for (index, pair) in certs.windows(2).enumerate() {
            check_link(&pair[0], &pair[1], index, index + 1)?;
        }
        let last_index = certs.len() - 1;
        let last = &certs[last_index];
        let ends_self_signed = if is_self_issued(last, last_index)? {
            match check_link(last, last, last_index, last_index) {
                Ok(()) => true,
                Err(X5cError::NotIssuedBy { .. }) => false,
                Err(other) => return Err(other),
            }
        } else {
            false
        };
        Ok(X5cPath {
            certificates: certs.len(),
            ends_self_signed,
        })
    }
}

/// Whether a certificate's key is the JWK's point (the leaf may hold it compressed).
fn same_point(key: &PublicKey, point: &[u8]) -> bool {
    let PublicKey::EcP256(leaf) = key else {
        return false;
    };
    match leaf.len() {
        65 => leaf.as_slice() == point,
        33 => {
            // Compressed: 02/03 by the parity of y, then x.
            let parity = point[64] & 1;
            leaf[0] == 0x02 | parity && leaf[1..] == point[1..33]
        }
        _ => false,
    }
}

fn reread(cert: &SignerCertificate, index: usize) -> Result<Certificate, X5cError> {
    Certificate::from_der(cert.der()).map_err(|e| X5cError::Unreadable {
        index,
        detail: e.to_string(),
    })
}

fn check_san(leaf: &SignerCertificate, iss: &str) -> Result<(), X5cError> {
    let cert = reread(leaf, 0)?;
    let san = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .map_err(|e| X5cError::BadSubjectAltName {
            detail: e.to_string(),
        })?;
    let Some((_critical, SubjectAltName(names))) = san else {
        return Err(X5cError::NoSubjectAltName);
    };
    let uris: Vec<String> = names
        .iter()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
        .collect();
    if uris.is_empty() {
        return Err(X5cError::NoUriInSubjectAltName {
            names: names.iter().map(describe_general_name).collect(),
        });
    }
    // Exact comparison: the spec matches the `iss` value itself, and `iss` has a fixed form
    // (https, no trailing slash), so no normalisation is owed.
    if uris.iter().any(|uri| uri == iss) {
        Ok(())
    } else {
        Err(X5cError::IssuerNotInSubjectAltName {
            iss: iss.to_owned(),
            uris,
        })
    }
}

fn describe_general_name(name: &GeneralName) -> String {
    match name {
        GeneralName::OtherName(other) => format!("otherName:{}", other.type_id),
        GeneralName::Rfc822Name(s) => format!("email:{s}"),
        GeneralName::DnsName(s) => format!("DNS:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{n}"),
        GeneralName::EdiPartyName(_) => "ediPartyName".to_owned(),
        GeneralName::UniformResourceIdentifier(s) => format!("URI:{s}"),
        GeneralName::IpAddress(ip) => format!("IP:{:02x?}", ip.as_bytes()),
        GeneralName::RegisteredId(oid) => format!("RID:{oid}"),
    }
}

fn is_self_issued(cert: &SignerCertificate, index: usize) -> Result<bool, X5cError> {
    let parsed = reread(cert, index)?;
    let tbs = parsed.tbs_certificate();
    Ok(tbs.issuer() == tbs.subject())
}

/// Checks that `child` (x5c[`index`]) is issued by `issuer` (x5c[`issuer_index`]).
fn check_link(
    child: &SignerCertificate,
    issuer: &SignerCertificate,
    index: usize,
    issuer_index: usize,
) -> Result<(), X5cError> {
    let not_issued = |error| X5cError::NotIssuedBy {
        index,
        issuer: issuer_index,
        error,
    };
    match verify_issued_by(child, issuer) {
        Ok(()) => Ok(()),
        // A key the chain code cannot use: reported, not skipped. It checks the issuer name
        // before the algorithm, so the names already match here.
        Err(ChainError::Algorithm { algorithm, key }) => Err(X5cError::UnsupportedIssuerKey {
            index,
            issuer: issuer_index,
            key,
            algorithm,
        }),
        Err(error) => Err(not_issued(error)),
    }
}

/// Whether `signature` is an ASN.1 DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`.
fn is_der_ecdsa_signature(signature: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct EcdsaSigValue<'a> {
        #[allow(dead_code)]
        r: IntRef<'a>,
        #[allow(dead_code)]
        s: IntRef<'a>,
    }
    signature.first() == Some(&0x30) && EcdsaSigValue::from_der(signature).is_ok()
}

/// The RFC 7638 thumbprint of an EC key: base64url (no padding) of SHA-256 over
/// `{"crv":…,"kty":"EC","x":…,"y":…}`, members in that (lexicographic) order, no whitespace.
/// `x` and `y` are the base64url texts as published.
pub fn ec_thumbprint(crv: &str, x: &str, y: &str) -> String {
    // `Value`'s Display writes a JSON string with the escaping RFC 7638 section 3 asks for.
    let json = |s: &str| Value::String(s.to_owned()).to_string();
    let canonical = format!(
        r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
        json(crv),
        json(x),
        json(y)
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A key that [`Jwks::parse`] refused, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedKey {
    /// Its position in the `keys` array.
    pub index: usize,
    /// Its `kid`, if it has a text one.
    pub kid: Option<String>,
    /// Why it was refused.
    pub error: JwkError,
}

/// An issuer's JSON Web Key Set, split into the keys that meet the SHC rules and the others.
#[derive(Debug, Clone)]
pub struct Jwks {
    /// The usable keys, in document order.
    pub keys: Vec<IssuerKey>,
    /// The keys refused, in document order.
    pub refused: Vec<RefusedKey>,
}

impl Jwks {
    /// Parses a JWKS document (strict JSON: a duplicated member is an error). A document that
    /// is not `{"keys": [...]}` is refused whole; each key that breaks an SHC rule goes to
    /// [`Jwks::refused`].
    pub fn parse(bytes: &[u8]) -> Result<Jwks, JwkError> {
        let document = parse_strict(bytes)?;
        let Value::Object(document) = document else {
            return Err(JwkError::NotAKeySet {
                detail: format!("{}, not an object", json_type(&document)),
            });
        };
        let entries = match document.get("keys") {
            Some(Value::Array(entries)) => entries,
            Some(other) => {
                return Err(JwkError::NotAKeySet {
                    detail: format!("\"keys\" is {}, not an array", json_type(other)),
                });
            }
            None => {
                return Err(JwkError::NotAKeySet {
                    detail: "no \"keys\" member".to_owned(),
                });
            }
        };
        Ok(Jwks::from_entries(entries))
    }

    /// The keys of a `keys` array already parsed (a JWKS document's, or a directory
    /// snapshot's): each that breaks an SHC rule goes to [`Jwks::refused`].
    pub fn from_entries(entries: &[Value]) -> Jwks {
        let mut jwks = Jwks {
            keys: Vec::new(),
            refused: Vec::new(),
        };
        for (index, entry) in entries.iter().enumerate() {
            match IssuerKey::from_jwk(entry) {
                Ok(key) => jwks.keys.push(key),
                Err(error) => jwks.refused.push(RefusedKey {
                    index,
                    kid: entry.get("kid").and_then(Value::as_str).map(str::to_owned),
                    error,
                }),
            }
        }
        jwks
    }

    /// The first usable key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&IssuerKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// Every usable key with this `kid`: the spec publishes one entry per certificate when a
    /// key has several (entries identical but for `x5c`).
    pub fn get_all<'a>(&'a self, kid: &'a str) -> impl Iterator<Item = &'a IssuerKey> + 'a {
        self.keys.iter().filter(move |key| key.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_corpus::corpus;
    const SPEC_KID: &str = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    const X5C_KID: &str = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw";
    const SPEC_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";
    /// The issuer URL in the SAN of the dev-tools x5c fixtures (and dev-tools' own
    /// `EXPECTED_SUBJECT_ALT_NAME` in tests/keys.test.ts); not the spec examples' `iss`.
    const DEV_TOOLS_ISS: &str = "https://smarthealth.cards/examples/issuer";

    fn jwks(name: &str) -> Option<Jwks> {
        corpus(name).map(|bytes| Jwks::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
    }

    /// The first key's verdict in a dev-tools one-key set.
    fn single_key(name: &str) -> Option<Result<IssuerKey, JwkError>> {
        let jwks = jwks(name)?;
        assert_eq!(jwks.keys.len() + jwks.refused.len(), 1, "{name}");
        Some(
            match (
                jwks.keys.into_iter().next(),
                jwks.refused.into_iter().next(),
            ) {
                (Some(key), _) => Ok(key),
                (None, Some(refused)) => Err(refused.error),
                (None, None) => unreachable!(),
            },
        )
    }

    /// `(signing input, signature)` of a compact JWS file.
    fn jws(name: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let text = String::from_utf8(corpus(name)?).unwrap();
        let text = text.trim();
        let (signing_input, signature) = text.rsplit_once('.').unwrap();
        Some((
            signing_input.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(signature).unwrap(),
        ))
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn spec_key(kid: &str) -> Option<IssuerKey> {
        let jwks = jwks("shc-spec-examples/issuer_.well-known_jwks.json")?;
        Some(jwks.get(kid).unwrap().clone())
    }

    /// The published JWK with `kid`, as JSON (for tests that alter it).
    fn spec_jwk_of(kid: &str) -> Map<String, Value> {
        let bytes = corpus("shc-spec-examples/issuer_.well-known_jwks.json").unwrap();
        let set: Value = serde_json::from_slice(&bytes).unwrap();
        let found = set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid);
        found.and_then(Value::as_object).unwrap().clone()
    }

    #[test]
    fn spec_jwks_loads_both_keys() {
        let Some(bytes) = corpus("shc-spec-examples/issuer_.well-known_jwks.json") else {
            return;
        };
        let jwks = Jwks::parse(&bytes).unwrap();
        assert!(jwks.refused.is_empty(), "{:?}", jwks.refused);
        let kids: Vec<&str> = jwks.keys.iter().map(IssuerKey::kid).collect();
        assert_eq!(kids, [SPEC_KID, X5C_KID]);
        assert_eq!(jwks.get(SPEC_KID).unwrap().crl_version(), Some(1));
        assert!(!jwks.get(SPEC_KID).unwrap().has_x5c());
        assert_eq!(jwks.get(X5C_KID).unwrap().crl_version(), None);
        assert_eq!(jwks.get(X5C_KID).unwrap().x5c().len(), 3);
        assert!(jwks.get("nope").is_none());
        assert_eq!(jwks.get_all(SPEC_KID).count(), 1);

        // The thumbprint of each published key is its kid.
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        for key in raw["keys"].as_array().unwrap() {
            let s = |m: &str| key[m].as_str().unwrap();
            assert_eq!(ec_thumbprint(s("crv"), s("x"), s("y")), s("kid"));
        }
    }

    #[test]
    fn thumbprint_is_order_and_whitespace_exact() {
        // Spec key 3Kfdg…: same members, any order or spacing in the JWK, same thumbprint.
        let jwk: Value = serde_json::from_str(
            r#"{ "y": "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8", "use": "sig",
                 "x": "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw", "crv": "P-256",
                 "kty": "EC", "alg": "ES256",
                 "kid": "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" }"#,
        )
        .unwrap();
        assert_eq!(IssuerKey::from_jwk(&jwk).unwrap().kid(), SPEC_KID);
        assert_eq!(
            ec_thumbprint(
                "P-256",
                "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
                "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"
            ),
            SPEC_KID
        );
    }

    #[test]
    fn private_jwks_is_refused_key_by_key() {
        let Some(bytes) = corpus("shc-spec-examples/src_config_issuer.jwks.private.json") else {
            return;
        };
        let jwks = Jwks::parse(&bytes).unwrap();
        assert!(jwks.keys.is_empty());
        let refused: Vec<(usize, Option<&str>, &JwkError)> = jwks
            .refused
            .iter()
            .map(|r| (r.index, r.kid.as_deref(), &r.error))
            .collect();
        assert_eq!(
            refused,
            [
                (0, Some(SPEC_KID), &JwkError::PrivateKey),
                (
                    1,
                    Some("7rIUtD5K5Izrptr3ywgESTxhgJtJSeb06V42hg7WUDs"),
                    &JwkError::PrivateKey
                ),
                (2, Some(X5C_KID), &JwkError::PrivateKey),
            ]
        );

        // Without `d`, its two ES256 keys are the published ones; the third is an ECDH-ES
        // encryption key, which is no signing key.
        let mut raw: Value = serde_json::from_slice(&bytes).unwrap();
        for key in raw["keys"].as_array_mut().unwrap() {
            key.as_object_mut().unwrap().remove("d");
        }
        let public = Jwks::parse(raw.to_string().as_bytes()).unwrap();
        let kids: Vec<&str> = public.keys.iter().map(IssuerKey::kid).collect();
        assert_eq!(kids, [SPEC_KID, X5C_KID]);
        assert_eq!(
            public.refused[0].error,
            JwkError::WrongAlgorithm {
                alg: Some("ECDH-ES".to_owned())
            }
        );
        // The public set's crlVersion is not in the private config.
        assert_eq!(public.get(SPEC_KID).unwrap().crl_version(), None);
        assert!(public.get(X5C_KID).unwrap().has_x5c());
    }

    #[test]
    fn example_00_signature_verifies() {
        let (Some(key), Some((input, sig))) = (
            spec_key(SPEC_KID),
            jws("shc-spec-examples/example-00-d-jws.txt"),
        ) else {
            return;
        };
        assert_eq!(sig.len(), 64);
        assert_eq!(key.verify_es256(&input, &sig), Ok(()));
        for i in [0, 31, 32, 63] {
            let mut flipped = sig.clone();
            flipped[i] ^= 0x01;
            assert_eq!(
                key.verify_es256(&input, &flipped),
                Err(JwsSignatureError::Invalid),
                "byte {i}"
            );
        }
        let mut tampered = input.clone();
        tampered[10] ^= 0x01;
        assert_eq!(
            key.verify_es256(&tampered, &sig),
            Err(JwsSignatureError::Invalid)
        );
        // Another key of the same issuer does not verify it.
        let other = spec_key(X5C_KID).unwrap();
        assert_eq!(
            other.verify_es256(&input, &sig),
            Err(JwsSignatureError::Invalid)
        );
        assert_eq!(
            key.verify_es256(&input, &sig[..63]),
            Err(JwsSignatureError::BadLength { len: 63 })
        );
    }

    #[test]
    fn example_01_signature_verifies_with_the_x5c_key() {
        let (Some(key), Some((input, sig))) = (
            spec_key(X5C_KID),
            jws("shc-spec-examples/example-01-d-jws.txt"),
        ) else {
            return;
        };
        assert_eq!(key.verify_es256(&input, &sig), Ok(()));
    }

    #[test]
    fn der_signatures_are_told_apart() {
        let Some(key) = spec_key(SPEC_KID) else {
            return;
        };
        for (name, len) in [
            ("test-example-00-d-jws-der-signature.txt", 70),
            ("test-example-00-d-jws-der-signature-r-neg.txt", 71),
            ("test-example-00-d-jws-der-signature-s-neg.txt", 71),
            ("test-example-00-d-jws-der-signature-rs-neg.txt", 72),
        ] {
            let (input, sig) = jws(&format!("shc-dev-tools/{name}")).unwrap();
            assert_eq!(sig.len(), len, "{name}");
            assert_eq!(
                key.verify_es256(&input, &sig),
                Err(JwsSignatureError::DerEncoded),
                "{name}"
            );
        }
        let (input, sig) =
            jws("shc-dev-tools/test-example-00-d-jws-invalid-signature.txt").unwrap();
        assert_eq!(
            key.verify_es256(&input, &sig),
            Err(JwsSignatureError::Invalid)
        );
        // 0x30 alone, or a SEQUENCE that is not two INTEGERs, is just the wrong length.
        let not_der = [0x30, 0x03, 0x04, 0x01, 0x00];
        assert_eq!(
            key.verify_es256(b"x", &not_der),
            Err(JwsSignatureError::BadLength { len: 5 })
        );
        assert_eq!(
            key.verify_es256(b"x", &[0x30; 70]),
            Err(JwsSignatureError::BadLength { len: 70 })
        );
        assert_eq!(
            key.verify_es256(b"x", &[]),
            Err(JwsSignatureError::BadLength { len: 0 })
        );
    }

    #[test]
    fn dev_tools_valid_keys_load() {
        for (name, count) in [
            ("valid_key.json", 1),
            ("valid_keys.json", 3),
            ("valid_key_with_x5c.json", 1),
            ("valid_2_chain.public.json", 1),
        ] {
            let Some(jwks) = jwks(&format!("shc-dev-tools/{name}")) else {
                return;
            };
            assert!(jwks.refused.is_empty(), "{name}: {:?}", jwks.refused);
            assert_eq!(jwks.keys.len(), count, "{name}");
        }
    }

    #[test]
    fn dev_tools_wrong_keys_are_refused_for_their_fault() {
        let cases = [
            (
                "wrong_alg_key.json",
                JwkError::WrongAlgorithm {
                    alg: Some("ES256K".to_owned()),
                },
            ),
            (
                "wrong_curve_key.json",
                JwkError::WrongCurve {
                    crv: Some("P-384".to_owned()),
                },
            ),
            (
                "wrong_kid_key.json",
                JwkError::KidNotThumbprint {
                    kid: "ThisIsNotTheThumbprintOfTheKey".to_owned(),
                    thumbprint: "wNZabHtaITYHtzzThoavc326e40d9f-ZVb__IezFFxA".to_owned(),
                },
            ),
            (
                "wrong_kty_key.json",
                JwkError::WrongKeyType {
                    kty: Some("RSA".to_owned()),
                },
            ),
            (
                "wrong_use_key.json",
                JwkError::WrongUse {
                    key_use: Some("enc".to_owned()),
                },
            ),
            ("private_key.json", JwkError::PrivateKey),
        ];
        for (name, expected) in cases {
            let Some(verdict) = single_key(&format!("shc-dev-tools/{name}")) else {
                return;
            };
            assert_eq!(verdict.unwrap_err(), expected, "{name}");
        }
    }

    #[test]
    fn not_smart_key_set_is_a_valid_set_of_another_issuer() {
        // issuer.jwks.public.not.smart.json breaks no key rule: its one key is a proper SHC
        // key. Upstream uses it in "Cards: mismatch kid/issuer" (tests/card.test.ts): the card
        // test-example-00-d-jws-issuer-kid-mismatch.txt claims the spec issuer but is signed
        // with this key, which the spec issuer does not publish.
        let (Some(not_smart), Some(spec), Some((input, sig))) = (
            jwks("shc-dev-tools/issuer.jwks.public.not.smart.json"),
            jwks("shc-spec-examples/issuer_.well-known_jwks.json"),
            jws("shc-dev-tools/test-example-00-d-jws-issuer-kid-mismatch.txt"),
        ) else {
            return;
        };
        const NOT_SMART_KID: &str = "ARrigjsh8mTqaVdihxO5cxkaRjpjXUg8ARET6IzhvaQ";
        assert!(not_smart.refused.is_empty());
        assert_eq!(not_smart.keys.len(), 1);
        let key = not_smart.get(NOT_SMART_KID).unwrap();
        assert!(spec.get(NOT_SMART_KID).is_none());
        for spec_key in &spec.keys {
            assert!(not_smart.get(spec_key.kid()).is_none());
        }
        // The card's header names this key, and this key did sign it.
        let header_b64 = std::str::from_utf8(&input)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).unwrap()).unwrap();
        assert_eq!(header["kid"], NOT_SMART_KID);
        assert_eq!(key.verify_es256(&input, &sig), Ok(()));
    }

    #[test]
    fn documents_that_are_not_key_sets() {
        let cases: [(&[u8], &str); 4] = [
            (br#"[]"#, "an array, not an object"),
            (br#"{"kty":"EC"}"#, "no \"keys\" member"),
            (br#"{"keys":{}}"#, "\"keys\" is an object, not an array"),
            (br#"{"keys":null}"#, "\"keys\" is null, not an array"),
        ];
        for (bytes, detail) in cases {
            assert_eq!(
                Jwks::parse(bytes).unwrap_err(),
                JwkError::NotAKeySet {
                    detail: detail.to_owned()
                }
            );
        }
        assert!(matches!(
            Jwks::parse(br#"{"keys":[],"keys":[]}"#),
            Err(JwkError::Json(_))
        ));
        let empty = Jwks::parse(br#"{"keys":[]}"#).unwrap();
        assert!(empty.keys.is_empty() && empty.refused.is_empty());

        if let Some(bytes) = corpus("shc-dev-tools/badjwks/.well-known/jwks.json") {
            assert!(matches!(Jwks::parse(&bytes), Err(JwkError::Json(_))));
        }
        // badcrl/.well-known/jwks.json is a bare JWK, not a set.
        if let Some(bytes) = corpus("shc-dev-tools/badcrl/.well-known/jwks.json") {
            assert_eq!(
                Jwks::parse(&bytes).unwrap_err(),
                JwkError::NotAKeySet {
                    detail: "no \"keys\" member".to_owned()
                }
            );
        }
    }

    fn spec_jwk() -> Map<String, Value> {
        let Value::Object(map) = serde_json::json!({
            "kty": "EC", "kid": SPEC_KID, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
            "y": "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8",
        }) else {
            unreachable!()
        };
        map
    }

    fn with(member: &str, value: Value) -> Result<IssuerKey, JwkError> {
        let mut jwk = spec_jwk();
        jwk.insert(member.to_owned(), value);
        IssuerKey::from_jwk(&Value::Object(jwk))
    }

    fn without(member: &str) -> Result<IssuerKey, JwkError> {
        let mut jwk = spec_jwk();
        jwk.remove(member);
        IssuerKey::from_jwk(&Value::Object(jwk))
    }

    #[test]
    fn each_key_rule_has_its_error() {
        assert!(IssuerKey::from_jwk(&Value::Object(spec_jwk())).is_ok());
        assert_eq!(
            IssuerKey::from_jwk(&Value::from("key")).unwrap_err(),
            JwkError::NotAnObject { found: "a string" }
        );
        assert_eq!(
            without("kty").unwrap_err(),
            JwkError::WrongKeyType { kty: None }
        );
        assert_eq!(
            without("crv").unwrap_err(),
            JwkError::WrongCurve { crv: None }
        );
        assert_eq!(
            without("alg").unwrap_err(),
            JwkError::WrongAlgorithm { alg: None }
        );
        assert_eq!(
            without("use").unwrap_err(),
            JwkError::WrongUse { key_use: None }
        );
        assert_eq!(without("kid").unwrap_err(), JwkError::MissingKid);
        assert_eq!(
            with("alg", Value::from(7)).unwrap_err(),
            JwkError::NotAString { member: "alg" }
        );
        assert_eq!(
            with("kid", Value::Null).unwrap_err(),
            JwkError::NotAString { member: "kid" }
        );
        assert!(matches!(
            without("y").unwrap_err(),
            JwkError::BadCoordinate { member: "y", .. }
        ));
        // 31 bytes; padded base64url; standard base64 alphabet.
        for x in [
            "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcg",
            "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw=",
            "11XvRWy1I2S0EyJlyf/bWfw/TQ5CJJNLw78bHXNxcgw",
        ] {
            assert!(
                matches!(
                    with("x", Value::from(x)).unwrap_err(),
                    JwkError::BadCoordinate { member: "x", .. }
                ),
                "{x}"
            );
        }
        // A private member refuses the key whatever else it has.
        let mut private = spec_jwk();
        private.insert("d".to_owned(), Value::from("secret"));
        private.insert("kty".to_owned(), Value::from("RSA"));
        assert_eq!(
            IssuerKey::from_jwk(&Value::Object(private)).unwrap_err(),
            JwkError::PrivateKey
        );
    }

    #[test]
    fn crl_version_is_a_non_negative_integer() {
        assert_eq!(
            with("crlVersion", Value::from(3)).unwrap().crl_version(),
            Some(3)
        );
        assert_eq!(
            with("crlVersion", Value::from(0)).unwrap().crl_version(),
            Some(0)
        );
        for bad in [
            Value::from(-1),
            Value::from(1.5),
            Value::from("1"),
            Value::Null,
        ] {
            assert_eq!(
                with("crlVersion", bad.clone()).unwrap_err(),
                JwkError::BadCrlVersion {
                    found: bad.to_string()
                }
            );
        }
    }

    #[test]
    fn malformed_x5c_is_refused() {
        let cases = [
            (Value::from("MIIB"), None),
            (serde_json::json!([]), None),
            (serde_json::json!([1]), Some(0)),
            (serde_json::json!(["not base64!"]), Some(0)),
            (serde_json::json!(["AAAA"]), Some(0)),
        ];
        for (x5c, index) in cases {
            match with("x5c", x5c.clone()) {
                Err(JwkError::BadX5c { index: i, .. }) => assert_eq!(i, index, "{x5c}"),
                other => panic!("{x5c}: {other:?}"),
            }
        }
    }

    #[test]
    fn mixed_key_set_keeps_the_good_keys() {
        let mut bad = spec_jwk();
        bad.insert("use".to_owned(), Value::from("enc"));
        let set = serde_json::json!({ "keys": [Value::Object(bad), Value::Object(spec_jwk()), 5] });
        let jwks = Jwks::parse(set.to_string().as_bytes()).unwrap();
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].kid(), SPEC_KID);
        assert_eq!(jwks.refused.len(), 2);
        assert_eq!(jwks.refused[0].index, 0);
        assert_eq!(jwks.refused[0].kid.as_deref(), Some(SPEC_KID));
        assert_eq!(jwks.refused[1].index, 2);
        assert_eq!(jwks.refused[1].kid, None);
        assert_eq!(
            jwks.refused[1].error,
            JwkError::NotAnObject { found: "a number" }
        );
    }

    #[test]
    fn example_01_x5c_chain() {
        let Some(key) = spec_key(X5C_KID) else {
            return;
        };
        // Leaf 2021-06-01 → 2022-06-01, P-256, signed (ECDSA-SHA384) by a P-384 CA, which a
        // P-521 root signs (ECDSA-SHA512). Inside the leaf's validity the whole chain checks,
        // the P-521 link included.
        let inside = ts("2021-12-01T00:00:00Z");
        assert_eq!(
            key.check_x5c_path(SPEC_ISS, inside),
            Ok(X5cPath {
                certificates: 3,
                ends_self_signed: true,
            })
        );
        // One bit of the CA certificate's signature (made by the P-521 root) changed: that link
        // fails, so the P-521 check is a real one.
        let mut jwk = spec_jwk_of(X5C_KID);
        let ca = jwk["x5c"][1].as_str().unwrap().to_owned();
        let mut der = STANDARD.decode(ca).unwrap();
        let last = der.len() - 1;
        der[last] ^= 1;
        jwk["x5c"][1] = Value::from(STANDARD.encode(&der));
        let tampered = IssuerKey::from_jwk(&Value::Object(jwk)).unwrap();
        assert_eq!(
            tampered.check_x5c(SPEC_ISS, inside),
            Err(X5cError::NotIssuedBy {
                index: 1,
                issuer: 2,
                error: ChainError::Signature,
            })
        );
        assert_eq!(
            key.check_x5c("https://spec.smarthealth.cards/examples/issuer/", inside),
            Err(X5cError::IssuerNotInSubjectAltName {
                iss: "https://spec.smarthealth.cards/examples/issuer/".to_owned(),
                uris: vec![SPEC_ISS.to_owned()],
            })
        );
        assert_eq!(
            key.check_x5c(SPEC_ISS, ts("2026-11-27T00:00:00Z")),
            Err(X5cError::Expired {
                index: 0,
                not_after: ts("2022-06-01T15:50:09Z"),
            })
        );
        assert_eq!(
            key.check_x5c(SPEC_ISS, ts("2021-05-01T00:00:00Z")),
            Err(X5cError::NotYetValid {
                index: 0,
                not_before: ts("2021-06-01T15:50:09Z"),
            })
        );
        // The key without x5c has nothing to check.
        let plain = spec_key(SPEC_KID).unwrap();
        assert_eq!(plain.check_x5c(SPEC_ISS, inside), Err(X5cError::Absent));
    }

    /// Inside the dev-tools chains' validity (2021-03-30 → 2031-03-27).
    fn dev_tools_now() -> Timestamp {
        ts("2024-06-01T00:00:00Z")
    }

    fn dev_tools_key(name: &str) -> Option<IssuerKey> {
        match single_key(&format!("shc-dev-tools/{name}"))? {
            Ok(key) => Some(key),
            Err(e) => panic!("{name}: {e}"),
        }
    }

    #[test]
    fn dev_tools_x5c_faults() {
        let Some(key) = dev_tools_key("invalid_DNS_SAN.public.json") else {
            return;
        };
        assert_eq!(
            key.check_x5c(DEV_TOOLS_ISS, dev_tools_now()),
            Err(X5cError::NoUriInSubjectAltName {
                names: vec!["DNS:smarthealth.cards".to_owned()],
            })
        );
        let key = dev_tools_key("invalid_no_SAN.public.json").unwrap();
        assert_eq!(
            key.check_x5c(DEV_TOOLS_ISS, dev_tools_now()),
            Err(X5cError::NoSubjectAltName)
        );
        let key = dev_tools_key("cert_mismatch.public.json").unwrap();
        assert_eq!(
            key.check_x5c(DEV_TOOLS_ISS, dev_tools_now()),
            Err(X5cError::LeafKeyMismatch {
                leaf_key: "EC P-256".to_owned()
            })
        );
        // The leaf does not verify under the P-384 CA that follows it (its own CA is another
        // key of the same name); the later links are fine.
        let key = dev_tools_key("invalid_chain.public.json").unwrap();
        assert_eq!(
            key.check_x5c(DEV_TOOLS_ISS, dev_tools_now()),
            Err(X5cError::NotIssuedBy {
                index: 0,
                issuer: 1,
                error: ChainError::Signature,
            })
        );
    }

    #[test]
    fn dev_tools_valid_x5c_chains() {
        let Some(three) = dev_tools_key("valid_key_with_x5c.json") else {
            return;
        };
        // P-256 leaf ← P-384 CA ← P-521 root (ECDSA-SHA256): every link verifies.
        assert_eq!(
            three.check_x5c_path(DEV_TOOLS_ISS, dev_tools_now()),
            Ok(X5cPath {
                certificates: 3,
                ends_self_signed: true,
            })
        );
        // dev-tools' "wrong SAN in x5c cert" case.
        assert_eq!(
            three.check_x5c("https://invalid.url", dev_tools_now()),
            Err(X5cError::IssuerNotInSubjectAltName {
                iss: "https://invalid.url".to_owned(),
                uris: vec![DEV_TOOLS_ISS.to_owned()],
            })
        );
        // The spec examples' issuer is another URL.
        assert!(matches!(
            three.check_x5c(SPEC_ISS, dev_tools_now()),
            Err(X5cError::IssuerNotInSubjectAltName { .. })
        ));
        assert_eq!(
            three.check_x5c(DEV_TOOLS_ISS, ts("2031-03-28T00:00:00Z")),
            Err(X5cError::Expired {
                index: 0,
                not_after: ts("2031-03-27T16:00:45Z"),
            })
        );

        // P-256 leaf ← P-521 root: the first link is the P-521 one.
        let two = dev_tools_key("valid_2_chain.public.json").unwrap();
        assert_eq!(
            two.check_x5c_path(DEV_TOOLS_ISS, dev_tools_now()),
            Ok(X5cPath {
                certificates: 2,
                ends_self_signed: true,
            })
        );
    }

    /// A chain made for this test with OpenSSL 3.0 (no corpus chain avoids P-521): P-256
    /// leaf (SAN URI `https://issuer.example.org/shc`) ← P-384 CA (ECDSA-SHA256) ← P-256
    /// self-signed root (signs the CA with ECDSA-SHA384), all valid 2026-11-27 → 2046-11-22.
    const OWN_LEAF: &str = "MIIB1jCCAV2gAwIBAgIBAzAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJoZWFsdGhwYXNzIHRlc3QgQ0EwHhcNMjYxMTI3MjEzOTEyWhcNNDYxMTIyMjEzOTEyWjAhMR8wHQYDVQQDDBZoZWFsdGhwYXNzIHRlc3QgaXNzdWVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEr0ttlYS8fuIB4mTmw9hN5rnrBPveGa1PNvaiF0UXfPa9+9BZOcZCsp8mupsiDK41HtTP+fBonx7L04MZzivtFaOBiTCBhjAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDApBgNVHREEIjAghh5odHRwczovL2lzc3Vlci5leGFtcGxlLm9yZy9zaGMwHQYDVR0OBBYEFFWmW2Lhw2tCHM1fr8tjTDgbu61hMB8GA1UdIwQYMBaAFOCxWUEXvbHDjC91aqFr9rPTyQKXMAoGCCqGSM49BAMCA2cAMGQCMF1Iz4Q9KoYnL19dWa8rj7mCZctpGDkO/pKSiORP7ezdT8dLnDvPBkLtc+NHr55HDAIwdqNpo+cK2PxHEjyjLdutthLoJJY4poL/GupfJ6Xu2zA9/ygJk8GYM5wv7HKyjw9F";
    const OWN_CA: &str = "MIIBrjCCAVSgAwIBAgIBAjAKBggqhkjOPQQDAzAfMR0wGwYDVQQDDBRoZWFsdGhwYXNzIHRlc3Qgcm9vdDAeFw0yNjExMjcyMTM5MTJaFw00NjExMjIyMTM5MTJaMB0xGzAZBgNVBAMMEmhlYWx0aHBhc3MgdGVzdCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IABHpGz31xV9GYPeyx9IQEYF3+QlKtBLTN7G4rQkvDjpfsB7sRzcv+ReTT4lPpOJjWr423t076KEqqPA6UU/Oo9BcmMYuW6Qi/25zW3TmEHgu35ZDi06hsvDAypLrpZA3Lf6NmMGQwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFOCxWUEXvbHDjC91aqFr9rPTyQKXMB8GA1UdIwQYMBaAFKEcvaLSyHCOv4rk1h3PtybtIhtKMAoGCCqGSM49BAMDA0gAMEUCIHLDnRdXAFAl4DnRSJvu1qtPXJSXXFRfsdJmxoqqK8P7AiEA4w0LmXEYD4XEn4FeEQWcInTuNrLgDzYgvfKtCKkYWyQ=";
    const OWN_ROOT: &str = "MIIBbzCCARWgAwIBAgIBATAKBggqhkjOPQQDAjAfMR0wGwYDVQQDDBRoZWFsdGhwYXNzIHRlc3Qgcm9vdDAeFw0yNjExMjcyMTM5MTJaFw00NjExMjIyMTM5MTJaMB8xHTAbBgNVBAMMFGhlYWx0aHBhc3MgdGVzdCByb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeivWnSeAdTWvIdmqwiA66CEvU3GiU1LXcFTsMoZDwC0Bc1XU1eUE204L72TS1GKyHaiVvMC8Ke1nu35AyffSJ6NCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFKEcvaLSyHCOv4rk1h3PtybtIhtKMAoGCCqGSM49BAMCA0gAMEUCIQDQ/pe8LVKI3Py5QF4C/KRzjlIzF4HywA6VJ8PEjdBFnAIgTxY9HjvncA3zn2mXBvwkCoWWxba6u8JkZrohdLla7v4=";
    const OWN_ISS: &str = "https://issuer.example.org/shc";

    fn own_key(x5c: &[&str]) -> IssuerKey {
        let jwk = serde_json::json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256",
            "kid": "mNbyfWch0WRx4IlOJzybeMf7tDvqHI4GHjShF7coXqo",
            "x": "r0ttlYS8fuIB4mTmw9hN5rnrBPveGa1PNvaiF0UXfPY",
            "y": "vfvQWTnGQrKfJrqbIgyuNR7Uz_nwaJ8ey9ODGc4r7RU",
            "x5c": x5c,
        });
        IssuerKey::from_jwk(&jwk).unwrap()
    }

    #[test]
    fn a_chain_without_p521_is_accepted() {
        let now = ts("2030-01-01T00:00:00Z");
        let full = own_key(&[OWN_LEAF, OWN_CA, OWN_ROOT]);
        assert_eq!(
            full.check_x5c_path(OWN_ISS, now),
            Ok(X5cPath {
                certificates: 3,
                ends_self_signed: true,
            })
        );
        assert_eq!(full.check_x5c(OWN_ISS, now), Ok(()));
        // Ending at the intermediate is fine here; the caller links it to its anchors.
        assert_eq!(
            own_key(&[OWN_LEAF, OWN_CA]).check_x5c_path(OWN_ISS, now),
            Ok(X5cPath {
                certificates: 2,
                ends_self_signed: false,
            })
        );
        // The root did not issue the leaf.
        assert_eq!(
            own_key(&[OWN_LEAF, OWN_ROOT, OWN_CA]).check_x5c(OWN_ISS, now),
            Err(X5cError::NotIssuedBy {
                index: 0,
                issuer: 1,
                error: ChainError::IssuerName {
                    issuer: "CN=healthpass test CA".to_owned(),
                    candidate: "CN=healthpass test root".to_owned(),
                },
            })
        );
        // A leaf-only chain is not self-issued.
        assert_eq!(
            own_key(&[OWN_LEAF]).check_x5c_path(OWN_ISS, now),
            Ok(X5cPath {
                certificates: 1,
                ends_self_signed: false,
            })
        );
        // A corrupted CA signature (last byte of the DER, inside the signature) is caught.
        let mut ca = STANDARD.decode(OWN_CA).unwrap();
        *ca.last_mut().unwrap() ^= 0x01;
        let ca = STANDARD.encode(ca);
        assert_eq!(
            own_key(&[OWN_LEAF, &ca, OWN_ROOT]).check_x5c(OWN_ISS, now),
            Err(X5cError::NotIssuedBy {
                index: 1,
                issuer: 2,
                error: ChainError::Signature,
            })
        );
    }

    #[test]
    fn raw_tbs_is_the_first_element() {
        // SEQUENCE { SEQUENCE { INTEGER 1 }, NULL }
        let der = [0x30, 0x07, 0x30, 0x03, 0x02, 0x01, 0x01, 0x05, 0x00];
        assert_eq!(crate::chain::raw_tbs(&der), Some(&der[2..7]));
        assert_eq!(crate::chain::raw_tbs(&[0x30, 0x05, 0x30]), None);
    }

    #[test]
    fn compressed_leaf_point_matches() {
        let Some(key) = spec_key(SPEC_KID) else {
            return;
        };
        let point = key.public_point();
        let mut compressed = vec![0x02 | (point[64] & 1)];
        compressed.extend_from_slice(&point[1..33]);
        assert!(same_point(&PublicKey::EcP256(compressed.clone()), point));
        compressed[0] ^= 0x01;
        assert!(!same_point(&PublicKey::EcP256(compressed), point));
        assert!(same_point(&PublicKey::EcP256(point.to_vec()), point));
    }
}
