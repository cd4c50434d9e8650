//! The VCI directory snapshot (the-commons-project/vci-directory): the keys and revocation
//! lists of every SMART Health Card issuer the VCI directory admits, collected daily, so a
//! verifier can trust them offline without fetching each issuer's `.well-known/jwks.json`.
//!
//! `logs/vci_snapshot.json` is `{"directory", "time", "issuerInfo": [{"issuer": {"iss",
//! "name", "canonical_iss"?, "website"?}, "keys": [JWK…], "crls"?: [CRL…]}]}` and
//! `logs/vci_snapshot.sig` is a DER ECDSA signature with SHA-512 over the snapshot's exact
//! bytes, by the P-521 key of `vci_snapshot.crt` (CN=vci.org), which this module carries as
//! [`VCI_SNAPSHOT_CERTIFICATE_PEM`]. [`DirectorySnapshot::verify`] checks the signature first
//! and reads the JSON only when it holds, then applies the same key rules as a JWKS
//! ([`IssuerKey::from_jwk`]) and CRL rules ([`ShcCrl::parse`]) to each entry: a bad key or
//! list is set aside with its reason, and never hides the issuer's good keys.

use der::Decode;
use der::asn1::ObjectIdentifier;
use healthpass_codec::json::{JsonError, parse_strict};
use jiff::Timestamp;
use serde_json::{Map, Value};
use thiserror::Error;
use x509_cert::Certificate;

use crate::jwk::{IssuerKey, Jwks, RefusedKey, json_type};
use crate::shc_crl::{CrlError, ShcCrl};
use crate::{SignerCertificate, TrustStore};

/// The certificate whose key signs the VCI directory snapshots (`vci_snapshot.crt` at the root
/// of the-commons-project/vci-directory; CN=vci.org, P-521, valid 2022-03-17 to 2032-03-14).
pub const VCI_SNAPSHOT_CERTIFICATE_PEM: &str = "-----BEGIN CERTIFICATE-----
MIICKzCCAYygAwIBAgIJAMR1t9soQWp5MAoGCCqGSM49BAMEMBIxEDAOBgNVBAMM
B3ZjaS5vcmcwHhcNMjIwMzE3MTgxMDQyWhcNMzIwMzE0MTgxMDQyWjASMRAwDgYD
VQQDDAd2Y2kub3JnMIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBeZ5TYVjzm5AB
OpAnzZxbgWvr03MiYKcMIfIFUZ3kKRFf4Cn3klPwqFARHS8VR+uieGeWYhJ6Ekat
5l2ctlSXlW0BkMLgn60eZhy0SNIz/V/U/4YsAvw96nePmr2Q9oJHjf4J1vER5szp
3Or3Ko3/TFVF5Zh0fBjzvcfdkmR5fD8S2TOjgYcwgYQwCQYDVR0TBAIwADALBgNV
HQ8EBAMCB4AwKgYDVR0RBCMwIYYfaHR0cHM6Ly9jb21tb250cnVzdG5ldHdvcmsu
b3JnLzAdBgNVHQ4EFgQUDIgsOYbtnJb1whr6aC1V3TOzhC0wHwYDVR0jBBgwFoAU
DIgsOYbtnJb1whr6aC1V3TOzhC0wCgYIKoZIzj0EAwQDgYwAMIGIAkIAk3q4ivWv
JddEleoSvCkEpwedvF2UWFbPZFEWDdjV+zwYgJhAe+pC1SGATqJAwCjzuIEVSIu9
ggACN2WLbEgR+GsCQgDvs693xo/beKHd71SQaSKJt7Ujo4s90YXF75DTcznVIrES
zeHk4CbYhxF9p84Vn+Hdh4ymVtz7s5S6GwitjNqHZg==
-----END CERTIFICATE-----
";

const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Why a directory snapshot is refused. Every variant refuses the whole snapshot: a verifier
/// keeps the trust it had rather than take part of an unauthenticated or malformed list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The signer certificate cannot be read.
    #[error("the snapshot signer certificate cannot be read: {detail}")]
    SignerCertificate {
        /// What was wrong.
        detail: String,
    },
    /// The signer certificate's key is not the kind VCI signs with (EC P-521, SHA-512).
    #[error("the snapshot signer's key is {key}; VCI snapshots are signed with EC P-521")]
    SignerKeyUnsupported {
        /// The key found.
        key: String,
    },
    /// The signer certificate has expired.
    #[error("the snapshot signer certificate expired at {not_after} (now {now})")]
    SignerExpired {
        /// Its notAfter.
        not_after: Timestamp,
        /// The time of the check.
        now: Timestamp,
    },
    /// The signer certificate is not valid yet.
    #[error("the snapshot signer certificate is valid from {not_before} (now {now})")]
    SignerNotYetValid {
        /// Its notBefore.
        not_before: Timestamp,
        /// The time of the check.
        now: Timestamp,
    },
    /// The signature does not verify over the snapshot's bytes (or is not a DER ECDSA
    /// signature).
    #[error("the snapshot's signature does not verify: it was changed or signed by another key")]
    SignatureInvalid,
    /// The snapshot is not (strict) JSON.
    #[error("the snapshot is not JSON: {0}")]
    Json(#[from] JsonError),
    /// A member is missing or of the wrong type.
    #[error("{path}: expected {expected}, found {found}")]
    Member {
        /// Where, e.g. `issuerInfo[3].issuer.iss`.
        path: String,
        /// What the format has there.
        expected: &'static str,
        /// What the snapshot has.
        found: &'static str,
    },
    /// `time` is neither RFC 3339 nor the auditor's `YYYY-MM-DD HH:mm:ss` (UTC).
    #[error("time {found:?} is not a date and time")]
    Time {
        /// The text.
        found: String,
    },
    /// `time` lies after the time of the check: the snapshot cannot be from the future.
    #[error("the snapshot is dated {time}, after now ({now})")]
    FromTheFuture {
        /// The snapshot's time.
        time: Timestamp,
        /// The time of the check.
        now: Timestamp,
    },
}

/// One issuer of a snapshot, with the keys and revocation lists that passed the SHC rules and
/// those that did not.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DirectoryIssuer {
    /// The issuer's `iss`, as cards carry it.
    pub iss: String,
    /// The display name the directory gives.
    pub name: String,
    /// The issuer's canonical `iss` when this entry is an alternate one (an older or
    /// secondary URL under which it also issued cards).
    pub canonical_iss: Option<String>,
    /// The issuer's website, if listed.
    pub website: Option<String>,
    /// Usable keys.
    pub keys: Vec<IssuerKey>,
    /// Keys refused, with why (e.g. a key without `alg`, vci-directory#929).
    pub refused_keys: Vec<RefusedKey>,
    /// Revocation lists of usable keys.
    pub crls: Vec<ShcCrl>,
    /// Revocation lists refused: the `kid` they name and why.
    pub refused_crls: Vec<(String, CrlError)>,
}

/// A verified VCI directory snapshot.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DirectorySnapshot {
    /// The directory the snapshot was taken of (a URL).
    pub directory: String,
    /// When it was taken.
    pub time: Timestamp,
    /// Its issuers, in snapshot order.
    pub issuers: Vec<DirectoryIssuer>,
}

/// The key a directory's snapshots are signed with, from its certificate.
#[derive(Debug, Clone)]
pub struct SnapshotSigner {
    /// The SEC1 point of the P-521 key.
    point: Vec<u8>,
}

impl SnapshotSigner {
    /// The public VCI directory's signer ([`VCI_SNAPSHOT_CERTIFICATE_PEM`]), if valid at `now`.
    pub fn vci(now: Timestamp) -> Result<SnapshotSigner, DirectoryError> {
        Self::from_certificate(VCI_SNAPSHOT_CERTIFICATE_PEM.as_bytes(), now)
    }

    /// A P-521 public key given as its SEC1 point (for a directory that publishes its key
    /// without a certificate).
    pub fn from_p521_point(point: &[u8]) -> Result<SnapshotSigner, DirectoryError> {
        if p521::ecdsa::VerifyingKey::from_sec1_bytes(point).is_err() {
            return Err(DirectoryError::SignerKeyUnsupported {
                key: format!("{} bytes that are not a P-521 point", point.len()),
            });
        }
        Ok(SnapshotSigner {
            point: point.to_vec(),
        })
    }

    /// The key of `certificate` (PEM, DER or Base64), which must be valid at `now` and hold an
    /// EC P-521 key (VCI signs with `openssl dgst -sha512` under such a key).
    pub fn from_certificate(
        certificate: &[u8],
        now: Timestamp,
    ) -> Result<SnapshotSigner, DirectoryError> {
        let cert_error = |detail: String| DirectoryError::SignerCertificate { detail };
        let der = TrustStore::parse_certificates(certificate)
            .into_iter()
            .next()
            .ok_or_else(|| cert_error("no certificate (expected PEM, DER or Base64)".into()))?;
        let signer = SignerCertificate::from_der(&der).map_err(|e| cert_error(e.to_string()))?;
        let validity = signer.validity();
        if now < validity.not_before {
            return Err(DirectoryError::SignerNotYetValid {
                not_before: validity.not_before,
                now,
            });
        }
        if now > validity.not_after {
            return Err(DirectoryError::SignerExpired {
                not_after: validity.not_after,
                now,
            });
        }
        let cert = Certificate::from_der(&der).map_err(|e| cert_error(e.to_string()))?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        if crate::signer::ec_curve(spki) != Some(OID_P521) {
            return Err(DirectoryError::SignerKeyUnsupported {
                key: signer.public_key().describe(),
            });
        }
        Ok(SnapshotSigner {
            point: spki.subject_public_key.raw_bytes().to_vec(),
        })
    }
}

impl DirectorySnapshot {
    /// Checks `signature` (DER ECDSA, SHA-512) over the exact bytes of `snapshot` with
    /// `signer`'s key, then reads the snapshot, whose `time` may not lie after `now`.
    pub fn verify(
        snapshot: &[u8],
        signature: &[u8],
        signer: &SnapshotSigner,
        now: Timestamp,
    ) -> Result<DirectorySnapshot, DirectoryError> {
        if !crate::p521_ecdsa::verify(&signer.point, &ring::digest::SHA512, snapshot, signature) {
            return Err(DirectoryError::SignatureInvalid);
        }
        let parsed = Self::parse_unverified(snapshot)?;
        if parsed.time > now {
            return Err(DirectoryError::FromTheFuture {
                time: parsed.time,
                now,
            });
        }
        Ok(parsed)
    }

    /// Reads a snapshot without checking its signature (what `verify` does after checking).
    fn parse_unverified(snapshot: &[u8]) -> Result<DirectorySnapshot, DirectoryError> {
        let document = parse_strict(snapshot)?;
        let root = object(&document, "(snapshot)")?;
        let directory = string(root, "directory", "directory")?.to_owned();
        let time_text = string(root, "time", "time")?;
        let time = parse_time(time_text).ok_or_else(|| DirectoryError::Time {
            found: time_text.to_owned(),
        })?;
        let entries = array(root, "issuerInfo", "issuerInfo")?;
        let mut issuers = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let at = format!("issuerInfo[{index}]");
            let entry = object(entry, &at)?;
            let issuer = entry.get("issuer").ok_or_else(|| missing(&at, "issuer"))?;
            let issuer = object(issuer, &format!("{at}.issuer"))?;
            let iss = string(issuer, "iss", &format!("{at}.issuer.iss"))?.to_owned();
            let name = string(issuer, "name", &format!("{at}.issuer.name"))?.to_owned();
            let canonical_iss = optional_string(issuer, "canonical_iss", &format!("{at}.issuer"))?;
            let website = optional_string(issuer, "website", &format!("{at}.issuer"))?;
            let jwks = Jwks::from_entries(array(entry, "keys", &format!("{at}.keys"))?);
            let mut crls = Vec::new();
            let mut refused_crls = Vec::new();
            if let Some(lists) = entry.get("crls") {
                let Value::Array(lists) = lists else {
                    return Err(wrong(&format!("{at}.crls"), "an array", lists));
                };
                for list in lists {
                    let kid = list.get("kid").and_then(Value::as_str).unwrap_or_default();
                    let version = jwks.get(kid).map(IssuerKey::crl_version);
                    let parsed = match version {
                        // The list's own bytes are gone once parsed; its strict JSON form is
                        // the same list (no duplicate members survived the parse above).
                        Some(version) => ShcCrl::parse(list.to_string().as_bytes(), kid, version),
                        None => Err(CrlError::KidMismatch {
                            expected: "a kid of one of this issuer's usable keys".to_owned(),
                            found: kid.to_owned(),
                        }),
                    };
                    match parsed {
                        Ok(crl) => crls.push(crl),
                        Err(error) => refused_crls.push((kid.to_owned(), error)),
                    }
                }
            }
            issuers.push(DirectoryIssuer {
                iss,
                name,
                canonical_iss,
                website,
                keys: jwks.keys,
                refused_keys: jwks.refused,
                crls,
                refused_crls,
            });
        }
        Ok(DirectorySnapshot {
            directory,
            time,
            issuers,
        })
    }

    /// Trusts every issuer's usable keys (under the `iss` cards carry) and revocation lists,
    /// with the directory's display name. Returns how many keys are new to `store`.
    pub fn add_to(&self, store: &mut TrustStore) -> usize {
        let mut added = 0;
        for issuer in &self.issuers {
            if issuer.keys.is_empty() {
                continue;
            }
            added += store.add_shc_issuer(
                &issuer.iss,
                Some(issuer.name.clone()),
                issuer.keys.iter().cloned(),
            );
            for crl in &issuer.crls {
                store.add_shc_crl(&issuer.iss, crl.clone());
            }
        }
        added
    }
}

fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Some(time);
    }
    // The auditor's `date.format(now, 'YYYY-MM-DD HH:mm:ss')`, written on a UTC runner.
    let civil: jiff::civil::DateTime = jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S", text)
        .ok()?
        .to_datetime()
        .ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

fn wrong(path: &str, expected: &'static str, found: &Value) -> DirectoryError {
    DirectoryError::Member {
        path: path.to_owned(),
        expected,
        found: json_type(found),
    }
}

fn missing(at: &str, member: &str) -> DirectoryError {
    DirectoryError::Member {
        path: format!("{at}.{member}"),
        expected: "a member",
        found: "none",
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, DirectoryError> {
    value
        .as_object()
        .ok_or_else(|| wrong(path, "an object", value))
}

fn member<'a>(
    map: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a Value, DirectoryError> {
    map.get(name).ok_or_else(|| DirectoryError::Member {
        path: path.to_owned(),
        expected: "a member",
        found: "none",
    })
}

fn string<'a>(
    map: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a str, DirectoryError> {
    let value = member(map, name, path)?;
    value.as_str().ok_or_else(|| wrong(path, "a string", value))
}

fn optional_string(
    map: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<String>, DirectoryError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(wrong(&format!("{at}.{name}"), "a string", other)),
    }
}

fn array<'a>(
    map: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a [Value], DirectoryError> {
    let value = member(map, name, path)?;
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| wrong(path, "an array", value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p521_ecdsa::tests::{sign_der, test_key};

    const KID: &str = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    const ISS: &str = "https://spec.smarthealth.cards/examples/issuer";

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The spec examples' issuer key with `crlVersion`, a key without `alg` (refused, as the
    /// auditor's vci-directory#929 case), a revocation list, and an alternate `iss`.
    fn snapshot_json() -> String {
        serde_json::json!({
            "directory": "https://raw.githubusercontent.com/the-commons-project/vci-directory/main/vci-issuers.json",
            "time": "2026-11-20T05:52:08Z",
            "issuerInfo": [
                {
                    "issuer": {"iss": ISS, "name": "SMART Health Card example issuer", "website": "https://spec.smarthealth.cards/"},
                    "keys": [
                        {"kty": "EC", "kid": KID, "use": "sig", "alg": "ES256", "crv": "P-256", "crlVersion": 1,
                         "x": "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw", "y": "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"},
                        {"kty": "EC", "kid": "7JvktUpf1_9NPwdM-70FJT3YdyTiSe2IvmVxxgDSRb0", "use": "sig", "crv": "P-256",
                         "x": "3dQz5ZlbazChP3U7bdqShfF0fvSXLXD9WMa1kqqH6i4", "y": "FV4AsWjc7ZmfhSiHsw2gjnDMKNLwNqi2jMLmJpiKWtE"}
                    ],
                    "crls": [{"kid": KID, "method": "rid", "ctr": 1, "rids": ["MKyCxh7p6uQ"]}],
                    "lastRetrieved": "2026-11-20T05:52:08Z"
                },
                {
                    "issuer": {"iss": "https://old.example.org/shc", "name": "Example Health", "canonical_iss": "https://new.example.org/shc"},
                    "keys": []
                }
            ]
        })
        .to_string()
    }

    fn test_signer() -> SnapshotSigner {
        SnapshotSigner {
            point: test_key()
                .verifying_key()
                .to_sec1_point(false)
                .as_ref()
                .to_vec(),
        }
    }

    fn signed(json: &str) -> Vec<u8> {
        sign_der(&test_key(), &ring::digest::SHA512, json.as_bytes())
    }

    #[test]
    fn a_signed_snapshot_is_read_and_trusted() {
        let json = snapshot_json();
        let now = ts("2026-11-28T00:00:00Z");
        let snapshot =
            DirectorySnapshot::verify(json.as_bytes(), &signed(&json), &test_signer(), now)
                .unwrap();
        assert_eq!(snapshot.time, ts("2026-11-20T05:52:08Z"));
        assert_eq!(snapshot.issuers.len(), 2);
        let first = &snapshot.issuers[0];
        assert_eq!(first.iss, ISS);
        assert_eq!(first.name, "SMART Health Card example issuer");
        assert_eq!(
            first.website.as_deref(),
            Some("https://spec.smarthealth.cards/")
        );
        assert_eq!(first.keys.len(), 1);
        assert_eq!(first.keys[0].kid(), KID);
        // The key without `alg` is set aside with its reason, not dropped silently.
        assert_eq!(first.refused_keys.len(), 1);
        assert_eq!(first.refused_keys[0].index, 1);
        assert!(
            first.refused_keys[0].error.to_string().contains("alg"),
            "{}",
            first.refused_keys[0].error
        );
        assert_eq!(first.crls.len(), 1);
        assert!(first.crls[0].is_revoked("MKyCxh7p6uQ", 1.0e9));
        let second = &snapshot.issuers[1];
        assert_eq!(
            second.canonical_iss.as_deref(),
            Some("https://new.example.org/shc")
        );

        let mut store = TrustStore::new();
        assert_eq!(snapshot.add_to(&mut store), 1);
        let issuer = store.shc_issuer(ISS).unwrap();
        assert_eq!(
            issuer.name.as_deref(),
            Some("SMART Health Card example issuer")
        );
        assert!(issuer.key(KID).is_some());
        assert!(issuer.crl(KID).is_some());
        // An issuer with no usable key is not an issuer the store trusts.
        assert!(store.shc_issuer("https://old.example.org/shc").is_none());
    }

    #[test]
    fn the_auditor_time_format_is_utc() {
        let json = snapshot_json().replacen(
            "\"time\":\"2026-11-20T05:52:08Z\"",
            "\"time\":\"2022-02-02 12:00:00\"",
            1,
        );
        let snapshot = DirectorySnapshot::verify(
            json.as_bytes(),
            &signed(&json),
            &test_signer(),
            ts("2026-11-28T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(snapshot.time, ts("2022-02-02T12:00:00Z"));
    }

    #[test]
    fn a_changed_snapshot_or_foreign_signature_is_refused() {
        let json = snapshot_json();
        let now = ts("2026-11-28T00:00:00Z");
        let signature = signed(&json);
        // One byte of the snapshot changed: a key added, a rid removed, anything.
        let changed = json.replacen("MKyCxh7p6uQ", "MKyCxh7p6uR", 1);
        assert_eq!(
            DirectorySnapshot::verify(changed.as_bytes(), &signature, &test_signer(), now)
                .unwrap_err(),
            DirectoryError::SignatureInvalid
        );
        // Reformatting is a change too: the signature is over the bytes as published.
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&json).unwrap()).unwrap();
        assert_eq!(
            DirectorySnapshot::verify(pretty.as_bytes(), &signature, &test_signer(), now)
                .unwrap_err(),
            DirectoryError::SignatureInvalid
        );
        // Our test key's signature under the real VCI key.
        let vci = SnapshotSigner::vci(now).unwrap();
        assert_eq!(
            DirectorySnapshot::verify(json.as_bytes(), &signature, &vci, now).unwrap_err(),
            DirectoryError::SignatureInvalid
        );
        // Not a DER signature at all.
        assert_eq!(
            DirectorySnapshot::verify(json.as_bytes(), b"not a signature", &test_signer(), now)
                .unwrap_err(),
            DirectoryError::SignatureInvalid
        );
    }

    #[test]
    fn a_signed_but_malformed_snapshot_is_refused_whole() {
        let now = ts("2026-11-28T00:00:00Z");
        let duplicate =
            r#"{"directory":"d","time":"2026-01-01T00:00:00Z","issuerInfo":[],"time":"x"}"#;
        assert!(matches!(
            DirectorySnapshot::verify(duplicate.as_bytes(), &signed(duplicate), &test_signer(), now),
            Err(DirectoryError::Json(JsonError::Invalid { ref detail, .. })) if detail.contains("time")
        ));
        let cases: [(&str, DirectoryError); 4] = [
            (
                r#"{"directory":"d","time":"yesterday","issuerInfo":[]}"#,
                DirectoryError::Time {
                    found: "yesterday".to_owned(),
                },
            ),
            (
                r#"{"directory":"d","time":"2026-01-01T00:00:00Z","issuerInfo":[{"issuer":{"name":"n"},"keys":[]}]}"#,
                DirectoryError::Member {
                    path: "issuerInfo[0].issuer.iss".to_owned(),
                    expected: "a member",
                    found: "none",
                },
            ),
            (
                r#"{"directory":"d","time":"2026-01-01T00:00:00Z","issuerInfo":{}}"#,
                DirectoryError::Member {
                    path: "issuerInfo".to_owned(),
                    expected: "an array",
                    found: "an object",
                },
            ),
            (
                r#"{"directory":"d","time":"2027-01-01T00:00:00Z","issuerInfo":[]}"#,
                DirectoryError::FromTheFuture {
                    time: ts("2027-01-01T00:00:00Z"),
                    now,
                },
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(
                DirectorySnapshot::verify(json.as_bytes(), &signed(json), &test_signer(), now)
                    .unwrap_err(),
                expected,
                "{json}"
            );
        }
    }

    #[test]
    fn the_vci_certificate_is_checked_and_is_itself_a_p521_vector() {
        assert!(SnapshotSigner::vci(ts("2026-11-28T00:00:00Z")).is_ok());
        assert_eq!(
            SnapshotSigner::vci(ts("2032-03-15T00:00:00Z")).unwrap_err(),
            DirectoryError::SignerExpired {
                not_after: ts("2032-03-14T18:10:42Z"),
                now: ts("2032-03-15T00:00:00Z"),
            }
        );
        assert!(matches!(
            SnapshotSigner::vci(ts("2022-01-01T00:00:00Z")),
            Err(DirectoryError::SignerNotYetValid { .. })
        ));
        // A P-256 certificate is not a VCI snapshot signer.
        let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["vci.example".to_owned()])
            .unwrap()
            .self_signed(&p256)
            .unwrap();
        assert_eq!(
            SnapshotSigner::from_certificate(cert.pem().as_bytes(), ts("2026-11-28T00:00:00Z"))
                .unwrap_err(),
            DirectoryError::SignerKeyUnsupported {
                key: "EC P-256".to_owned()
            }
        );
        // The vci.org certificate signs itself with P-521/SHA-512: a published vector for the
        // verification the snapshots take.
        let der = &TrustStore::parse_certificates(VCI_SNAPSHOT_CERTIFICATE_PEM.as_bytes())[0];
        let cert = Certificate::from_der(der).unwrap();
        let key = cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes();
        let tbs = crate::chain::raw_tbs(der).unwrap();
        let signature = cert.signature().raw_bytes();
        assert!(crate::p521_ecdsa::verify(
            key,
            &ring::digest::SHA512,
            tbs,
            signature
        ));
        let mut other = tbs.to_vec();
        other[20] ^= 1;
        assert!(!crate::p521_ecdsa::verify(
            key,
            &ring::digest::SHA512,
            &other,
            signature
        ));
    }
}
