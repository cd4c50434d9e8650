//! SMART Health Card revocation lists (spec 1.2.0+, "Revocation"): for each key whose JWK has
//! a `crlVersion`, the issuer serves `<iss>/.well-known/crl/<kid>.json` =
//! `{"kid", "method": "rid", "ctr", "rids": [...]}`. A card whose `vc.rid` is listed is
//! revoked; an entry `rid.T` (T in Unix seconds) revokes only the cards issued (`nbf`) before
//! T, so an issuer can revoke a person's old cards without touching the ones issued since.
//!
//! The list is checked whole when it is read, and refused on any fault: a verifier that
//! skipped a malformed entry could miss the revocation that entry was meant to carry.

use std::collections::BTreeMap;

use healthpass_codec::json::{JsonError, parse_strict};
use serde_json::Value;
use thiserror::Error;

/// The longest `rid` the spec allows.
pub const MAX_RID_LEN: usize = 24;

/// Why a revocation list is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CrlError {
    /// Not (strict) JSON.
    #[error("the revocation list is not JSON: {0}")]
    Json(#[from] JsonError),
    /// JSON, but not an object.
    #[error("the revocation list is not a JSON object")]
    NotAnObject,
    /// A required member is absent or of the wrong JSON type.
    #[error("member \"{member}\" is absent or not {expected}")]
    Member {
        /// The member.
        member: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// The list is for another key than the one it was fetched for.
    #[error("the revocation list is for kid {found:?}, not {expected:?}")]
    KidMismatch {
        /// The kid the list was fetched for.
        expected: String,
        /// The kid it names.
        found: String,
    },
    /// A revocation method other than `rid` (spec) and `hash-fhir` (RFC 002, for cards
    /// without a `rid`).
    #[error(
        "revocation method {method:?} is not supported; the spec defines \"rid\", RFC 002 \"hash-fhir\""
    )]
    Method {
        /// The method named.
        method: String,
    },
    /// `ctr` is not a non-negative integer.
    #[error("ctr is {found}, not a non-negative integer")]
    BadCounter {
        /// The JSON value found.
        found: String,
    },
    /// `ctr` is not the key's `crlVersion` (a stale or a premature list, or a key that
    /// announces no list).
    #[error("the list's ctr {ctr} is not the key's crlVersion ({})",
        .crl_version.map_or_else(|| "absent".to_owned(), |v| v.to_string()))]
    VersionMismatch {
        /// The list's counter.
        ctr: u64,
        /// The key's `crlVersion`.
        crl_version: Option<u64>,
    },
    /// A `rids` entry is not a string.
    #[error("rids[{index}] is not a string")]
    NotAString {
        /// The entry's position.
        index: usize,
    },
    /// A rid longer than [`MAX_RID_LEN`].
    #[error("rids[{index}]: rid {rid:?} has {len} characters, over the limit of {MAX_RID_LEN}")]
    RidTooLong {
        /// The entry's position.
        index: usize,
        /// The rid (without its timestamp).
        rid: String,
        /// Its length in characters.
        len: usize,
    },
    /// A rid that is empty or has a character outside the base64url alphabet.
    #[error("rids[{index}]: rid {rid:?} is not made of base64url characters")]
    RidAlphabet {
        /// The entry's position.
        index: usize,
        /// The rid (without its timestamp).
        rid: String,
    },
    /// A `.` suffix that is not Unix seconds (decimal digits).
    #[error("rids[{index}]: {entry:?} has a timestamp suffix that is not Unix seconds")]
    BadTimestamp {
        /// The entry's position.
        index: usize,
        /// The whole entry.
        entry: String,
    },
    /// The same rid listed twice (with or without a timestamp): which entry holds would be a
    /// guess.
    #[error("rids[{index}]: rid {rid:?} is listed more than once")]
    DuplicateRid {
        /// The position of its second appearance.
        index: usize,
        /// The rid.
        rid: String,
    },
}

/// How a list's ids are derived from a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationMethod {
    /// The card's own `vc.rid` (spec 1.2.0).
    Rid,
    /// For cards issued without a `rid` (RFC 002, `legacy-shc-revocation`): the id is
    /// [`hash_fhir_rid`] of the card's FHIR bundle.
    HashFhir,
}

/// RFC 002's `hash-fhir` id of a card: base64url of the first 8 bytes of SHA-256 over the
/// base64url text of the minified FHIR bundle, `bundle` being those minified bytes as the card
/// carries them (the spec requires minified payloads; the RFC's example hashes the bundle in
/// its own member order, so it is not re-serialised here).
pub fn hash_fhir_rid(bundle: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text = URL_SAFE_NO_PAD.encode(bundle);
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..8])
}

/// A SMART Health Card revocation list for one issuer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShcCrl {
    kid: String,
    method: RevocationMethod,
    ctr: u64,
    /// rid → the time before which cards are revoked (`None`: all of them).
    rids: BTreeMap<String, Option<i64>>,
}

fn is_base64url(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ShcCrl {
    /// Parses a revocation list fetched for key `expected_kid`, whose JWK says
    /// `key_crl_version`. Checks, in this order: strict JSON object, `kid` equal to
    /// `expected_kid`, `method` = `rid`, `ctr` a non-negative integer equal to
    /// `key_crl_version`, then each `rids` entry: a string, a rid of at most 24 base64url
    /// characters, an optional `.` and decimal Unix seconds, no rid listed twice.
    pub fn parse(
        bytes: &[u8],
        expected_kid: &str,
        key_crl_version: Option<u64>,
    ) -> Result<ShcCrl, CrlError> {
        let Value::Object(list) = parse_strict(bytes)? else {
            return Err(CrlError::NotAnObject);
        };
        let member = |member, expected| CrlError::Member { member, expected };
        let kid = list
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(member("kid", "a string"))?;
        if kid != expected_kid {
            return Err(CrlError::KidMismatch {
                expected: expected_kid.to_owned(),
                found: kid.to_owned(),
            });
        }
        let method = list
            .get("method")
            .and_then(Value::as_str)
            .ok_or(member("method", "a string"))?;
        let method = match method {
            "rid" => RevocationMethod::Rid,
            "hash-fhir" => RevocationMethod::HashFhir,
            _ => {
                return Err(CrlError::Method {
                    method: method.to_owned(),
                });
            }
        };
        // A number, as the spec's generator and live lists write it (the spec's template
        // shows a quoted placeholder, but health-cards-dev-tools compares it to crlVersion
        // with strict equality, so a string would fail there too).
        let ctr = list.get("ctr").ok_or(member("ctr", "an integer"))?;
        let ctr = ctr.as_u64().ok_or_else(|| CrlError::BadCounter {
            found: ctr.to_string(),
        })?;
        if key_crl_version != Some(ctr) {
            return Err(CrlError::VersionMismatch {
                ctr,
                crl_version: key_crl_version,
            });
        }
        let entries = list
            .get("rids")
            .and_then(Value::as_array)
            .ok_or(member("rids", "an array"))?;
        let mut rids = BTreeMap::new();
        for (index, entry) in entries.iter().enumerate() {
            let entry = entry.as_str().ok_or(CrlError::NotAString { index })?;
            let (rid, cutoff) = match entry.split_once('.') {
                None => (entry, None),
                Some((rid, suffix)) => {
                    // Digits only: no sign, no fraction, no exponent (and `i64::from_str`
                    // alone would take a leading `+`).
                    let seconds = suffix
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| suffix.parse::<i64>().ok())
                        .flatten()
                        .ok_or_else(|| CrlError::BadTimestamp {
                            index,
                            entry: entry.to_owned(),
                        })?;
                    (rid, Some(seconds))
                }
            };
            let len = rid.chars().count();
            if len > MAX_RID_LEN {
                return Err(CrlError::RidTooLong {
                    index,
                    rid: rid.to_owned(),
                    len,
                });
            }
            if !is_base64url(rid) {
                return Err(CrlError::RidAlphabet {
                    index,
                    rid: rid.to_owned(),
                });
            }
            if rids.insert(rid.to_owned(), cutoff).is_some() {
                return Err(CrlError::DuplicateRid {
                    index,
                    rid: rid.to_owned(),
                });
            }
        }
        Ok(ShcCrl {
            kid: kid.to_owned(),
            method,
            ctr,
            rids,
        })
    }

    /// How the list's ids are derived from a card.
    pub fn method(&self) -> RevocationMethod {
        self.method
    }

    /// The key the list is for.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The list's update counter (equal to the key's `crlVersion`).
    pub fn ctr(&self) -> u64 {
        self.ctr
    }

    /// Whether the card with this `rid` and `nbf` (seconds, possibly fractional) is revoked:
    /// a plain entry revokes it whatever its `nbf`; `rid.T` only when `nbf` is before T. A
    /// `nbf` that is not a number (NaN) cannot be shown to be after T, so it counts as
    /// revoked.
    pub fn is_revoked(&self, rid: &str, nbf: f64) -> bool {
        match self.rids.get(rid) {
            None => false,
            Some(None) => true,
            // Exact for any Unix time (|T| < 2^53).
            Some(Some(cutoff)) => nbf.is_nan() || nbf < *cutoff as f64,
        }
    }

    /// The entries, by rid: `(rid, Some(T))` for `rid.T`, `(rid, None)` for a plain rid.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Option<i64>)> {
        self.rids
            .iter()
            .map(|(rid, cutoff)| (rid.as_str(), *cutoff))
    }

    /// How many rids are listed.
    pub fn len(&self) -> usize {
        self.rids.len()
    }

    /// Whether no rid is listed.
    pub fn is_empty(&self) -> bool {
        self.rids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 002's example: the minified bundle of "Johnny Revoked" has the id `9q2bR-42Z30`.
    /// (Hashing it with its keys sorted, as RFC 8785 would, gives another id.)
    #[test]
    fn hash_fhir_rid_of_the_rfc_example() {
        let bundle = r#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"family":"Revoked","given":["Johnny"]}],"birthDate":"1960-04-22"}},{"fullUrl":"resource:1","resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"207"}]},"patient":{"reference":"resource:0"},"occurrenceDateTime":"2021-03-01","performer":[{"actor":{"display":"ABC General Hospital"}}],"lotNumber":"0000003"}},{"fullUrl":"resource:2","resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"207"}]},"patient":{"reference":"resource:0"},"occurrenceDateTime":"2021-03-29","performer":[{"actor":{"display":"ABC General Hospital"}}],"lotNumber":"0000009"}}]}"#;
        assert_eq!(hash_fhir_rid(bundle.as_bytes()), "9q2bR-42Z30");
        let sorted = serde_json::from_str::<Value>(bundle).unwrap().to_string();
        assert_ne!(hash_fhir_rid(sorted.as_bytes()), "9q2bR-42Z30");
        let list = ShcCrl::parse(
            br#"{"kid":"k","method":"hash-fhir","ctr":1,"rids":["9q2bR-42Z30"]}"#,
            "k",
            Some(1),
        )
        .unwrap();
        assert_eq!(list.method(), RevocationMethod::HashFhir);
        assert!(list.is_revoked(&hash_fhir_rid(bundle.as_bytes()), 1.6e9));
    }
    use crate::jwk::Jwks;

    use crate::test_corpus::corpus;
    const SPEC_KID: &str = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    const BADCRL_KID: &str = "hrvC0uzB16UXK83BnPo7Glg685b1D6iYOyJd5hpRaAA";

    /// The spec example list, checked against the spec JWKS's crlVersion.
    fn spec_crl() -> Option<ShcCrl> {
        let jwks = Jwks::parse(&corpus("shc-spec-examples/issuer_.well-known_jwks.json")?).unwrap();
        let key = jwks.get(SPEC_KID).unwrap();
        assert_eq!(key.crl_version(), Some(1));
        let bytes = corpus(&format!("shc-spec-examples/crl_{SPEC_KID}.json"))?;
        Some(ShcCrl::parse(&bytes, key.kid(), key.crl_version()).unwrap())
    }

    #[test]
    fn spec_example_list() {
        let Some(crl) = spec_crl() else {
            return;
        };
        assert_eq!(crl.kid(), SPEC_KID);
        assert_eq!(crl.ctr(), 1);
        assert_eq!(crl.len(), 4);
        assert!(!crl.is_empty());
        let entries: Vec<(&str, Option<i64>)> = crl.entries().collect();
        assert_eq!(
            entries,
            [
                ("FKDIxsTCGlU", None),
                ("TqB_qu_6OtM", None),
                ("XkNHp2Iyk0Y", Some(1664492124)),
                ("vwAjHdarZuc", Some(1664492124)),
            ]
        );

        // Example 03's rid, listed with a cutoff: revoked only for cards issued before it.
        assert!(crl.is_revoked("vwAjHdarZuc", 1664492000.0));
        assert!(crl.is_revoked("vwAjHdarZuc", 1664492123.999));
        assert!(!crl.is_revoked("vwAjHdarZuc", 1664492124.0));
        assert!(!crl.is_revoked("vwAjHdarZuc", 1715107763.0));
        assert!(crl.is_revoked("vwAjHdarZuc", f64::NAN));
        // Plain entries revoke whatever the nbf.
        assert!(crl.is_revoked("FKDIxsTCGlU", 0.0));
        assert!(crl.is_revoked("TqB_qu_6OtM", 4e9));
        // Examples 00 and 02 (rids MKyCxh7p6uQ, YjKhdFoxL_g) are not listed; nor is a
        // listed rid with its suffix, or in another case.
        for rid in [
            "MKyCxh7p6uQ",
            "YjKhdFoxL_g",
            "vwAjHdarZuc.1664492124",
            "fkdixstcglu",
        ] {
            assert!(!crl.is_revoked(rid, 0.0), "{rid}");
        }
    }

    #[test]
    fn example_03_card_is_not_revoked() {
        // The regenerated example 03 was issued after the list's cutoff for its rid.
        let (Some(crl), Some(payload)) = (
            spec_crl(),
            corpus("shc-spec-examples/example-03-b-jws-payload-expanded.json"),
        ) else {
            return;
        };
        let payload: Value = serde_json::from_slice(&payload).unwrap();
        let rid = payload["vc"]["rid"].as_str().unwrap();
        let nbf = payload["nbf"].as_f64().unwrap();
        assert_eq!(rid, "vwAjHdarZuc");
        assert_eq!(nbf, 1715107763.678);
        assert!(!crl.is_revoked(rid, nbf));
    }

    #[test]
    fn list_must_match_its_key() {
        let Some(bytes) = corpus(&format!("shc-spec-examples/crl_{SPEC_KID}.json")) else {
            return;
        };
        let other = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw";
        assert_eq!(
            ShcCrl::parse(&bytes, other, Some(1)).unwrap_err(),
            CrlError::KidMismatch {
                expected: other.to_owned(),
                found: SPEC_KID.to_owned(),
            }
        );
        assert_eq!(
            ShcCrl::parse(&bytes, SPEC_KID, None).unwrap_err(),
            CrlError::VersionMismatch {
                ctr: 1,
                crl_version: None
            }
        );
        assert_eq!(
            ShcCrl::parse(&bytes, SPEC_KID, Some(2)).unwrap_err(),
            CrlError::VersionMismatch {
                ctr: 1,
                crl_version: Some(2)
            }
        );
    }

    #[test]
    fn dev_tools_bad_lists() {
        let cases = [
            (
                "duplicate-rid",
                CrlError::DuplicateRid {
                    index: 2,
                    rid: "XkNHp2Iyk0Y".to_owned(),
                },
            ),
            (
                "invalid-method",
                CrlError::Method {
                    method: "invalid-method".to_owned(),
                },
            ),
            (
                "non-base64url-rid",
                CrlError::RidAlphabet {
                    index: 1,
                    rid: "base64==".to_owned(),
                },
            ),
            (
                "too-long-rid",
                CrlError::RidTooLong {
                    index: 1,
                    rid: "this-rid-is-longer-than-the-24-char-max".to_owned(),
                    len: 39,
                },
            ),
            (
                "version-mismatch",
                CrlError::VersionMismatch {
                    ctr: 2,
                    crl_version: Some(1),
                },
            ),
        ];
        for (case, expected) in cases {
            let dir = format!("shc-dev-tools/badcrl/{case}/.well-known");
            let Some(jwks) = corpus(&format!("{dir}/jwks.json")) else {
                return;
            };
            let jwks = Jwks::parse(&jwks).unwrap();
            assert!(jwks.refused.is_empty(), "{case}");
            let key = jwks.get(BADCRL_KID).unwrap();
            assert_eq!(key.crl_version(), Some(1), "{case}");
            let crl = corpus(&format!("{dir}/crl/{BADCRL_KID}.json")).unwrap();
            assert_eq!(
                ShcCrl::parse(&crl, key.kid(), key.crl_version()),
                Err(expected),
                "{case}"
            );
        }
    }

    fn list(rids: &str) -> Result<ShcCrl, CrlError> {
        let text = format!(r#"{{"kid":"k","method":"rid","ctr":3,"rids":{rids}}}"#);
        ShcCrl::parse(text.as_bytes(), "k", Some(3))
    }

    #[test]
    fn entry_rules() {
        assert!(list("[]").unwrap().is_empty());
        let max = "A".repeat(MAX_RID_LEN);
        assert_eq!(list(&format!(r#"["{max}.0"]"#)).unwrap().len(), 1);
        for (entry, index) in [("abc.", 0), ("abc.12x", 0), ("abc.-5", 0), ("abc.+5", 0)] {
            assert_eq!(
                list(&format!(r#"["ok", "{entry}"]"#)).unwrap_err(),
                CrlError::BadTimestamp {
                    index: index + 1,
                    entry: entry.to_owned(),
                },
                "{entry}"
            );
        }
        for (entry, bad) in [
            ("abc.1.2", "abc.1.2"),
            ("abc.1e9", "abc.1e9"),
            ("abc.99999999999999999999", "abc.99999999999999999999"),
        ] {
            assert!(
                matches!(
                    list(&format!(r#"["{entry}"]"#)).unwrap_err(),
                    CrlError::BadTimestamp { entry, .. } if entry == bad
                ),
                "{entry}"
            );
        }
        assert_eq!(
            list(r#"[".5"]"#).unwrap_err(),
            CrlError::RidAlphabet {
                index: 0,
                rid: String::new()
            }
        );
        assert_eq!(
            list(r#"["ré"]"#).unwrap_err(),
            CrlError::RidAlphabet {
                index: 0,
                rid: "ré".to_owned()
            }
        );
        assert_eq!(
            list(r#"["a", 1]"#).unwrap_err(),
            CrlError::NotAString { index: 1 }
        );
        assert_eq!(
            list(r#"["a.5", "a"]"#).unwrap_err(),
            CrlError::DuplicateRid {
                index: 1,
                rid: "a".to_owned()
            }
        );
    }

    #[test]
    fn document_rules() {
        assert!(matches!(
            ShcCrl::parse(b"not json", "k", Some(1)),
            Err(CrlError::Json(_))
        ));
        assert!(matches!(
            ShcCrl::parse(
                br#"{"kid":"k","kid":"k","method":"rid","ctr":1,"rids":[]}"#,
                "k",
                Some(1)
            ),
            Err(CrlError::Json(_))
        ));
        assert_eq!(
            ShcCrl::parse(b"[]", "k", Some(1)).unwrap_err(),
            CrlError::NotAnObject
        );
        assert_eq!(
            ShcCrl::parse(br#"{"method":"rid","ctr":1,"rids":[]}"#, "k", Some(1)).unwrap_err(),
            CrlError::Member {
                member: "kid",
                expected: "a string"
            }
        );
        assert_eq!(
            ShcCrl::parse(br#"{"kid":"k","method":"rid","ctr":1}"#, "k", Some(1)).unwrap_err(),
            CrlError::Member {
                member: "rids",
                expected: "an array"
            }
        );
        for ctr in [r#""1""#, "-1", "1.5", "null"] {
            let text = format!(r#"{{"kid":"k","method":"rid","ctr":{ctr},"rids":[]}}"#);
            assert_eq!(
                ShcCrl::parse(text.as_bytes(), "k", Some(1)).unwrap_err(),
                CrlError::BadCounter {
                    found: ctr.to_owned()
                },
                "{ctr}"
            );
        }
    }
}
