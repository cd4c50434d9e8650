//! The trust list as the gateway distributes it, and the check every verifier makes of it
//! before trusting a single key: governance (k of n) → the country's onboarding record → its
//! CSCA → the DSC, and the country's own CMS signature (by one of its upload certificates) over
//! the DSC. The gateway is only a courier: an entry it made up, or changed, fails here.

use crate::cms;
use crate::{GovernanceError, Network, SignedOnboarding, VerifiedOnboarding};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_trust::{SignerCertificate, verify_issued_by};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One signer certificate on the trust list (the EU gateway's `TrustListDto` for a DSC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustListEntry {
    /// HCERT key id, Base64 of 8 bytes.
    pub kid: String,
    /// When the gateway accepted it.
    pub timestamp: Timestamp,
    /// The uploading country.
    pub country: String,
    /// `DSC`.
    pub certificate_type: String,
    /// Lowercase hex SHA-256 of the certificate.
    pub thumbprint: String,
    /// The certificate, Base64 DER.
    pub raw_data: String,
    /// The country's detached CMS signature over the DER, as uploaded, Base64.
    pub signature: String,
}

/// Everything a verifier needs to rebuild trust: every country's signed onboarding record and
/// every signer certificate entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// The network it belongs to.
    pub network: String,
    /// Increases with every change the gateway accepts.
    pub version: u64,
    /// For a delta: the version it starts from. It then holds only what changed after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Onboarding records, with their governance signatures.
    pub onboardings: Vec<SignedOnboarding>,
    /// Signer certificates (DSCs).
    pub signers: Vec<TrustListEntry>,
    /// Signers their countries withdrew (so verifiers can say "withdrawn", not "unknown").
    #[serde(default)]
    pub withdrawn: Vec<WithdrawnEntry>,
}

/// A signer its country withdrew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WithdrawnEntry {
    /// HCERT key id, Base64 of 8 bytes.
    pub kid: String,
    /// Lowercase hex SHA-256 of the certificate.
    pub thumbprint: String,
    /// The country.
    pub country: String,
    /// When the gateway accepted the withdrawal.
    pub withdrawn_at: Timestamp,
    /// The country's withdrawal request as uploaded: a CMS by one of its upload certificates
    /// with the DSC as content, Base64. Without it a gateway could withdraw anyone's signer.
    pub signature: String,
}

/// Why one entry of a trust list is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryRejection {
    /// The country's onboarding record does not hold.
    #[error("onboarding of {country} refused: {error}")]
    Onboarding {
        /// The country.
        country: String,
        /// Why.
        error: GovernanceError,
    },
    /// An onboarding record older than one already seen (a rollback to withdrawn keys).
    #[error("onboarding of {country} has sequence {sequence}, older than {known} already seen")]
    Rollback {
        /// The country.
        country: String,
        /// The record's sequence.
        sequence: u64,
        /// The highest seen before.
        known: u64,
    },
    /// A DSC of a country that is not onboarded.
    #[error("{country} is not onboarded")]
    CountryNotOnboarded {
        /// The country.
        country: String,
    },
    /// The entry's certificate does not parse, or its kid or thumbprint do not match it.
    #[error("entry {thumbprint} of {country}: {problem}")]
    Entry {
        /// The country.
        country: String,
        /// The entry's thumbprint, as listed.
        thumbprint: String,
        /// What is wrong.
        problem: String,
    },
    /// No CSCA of the country issued the DSC.
    #[error("DSC {thumbprint} of {country} is not issued by any of its CSCAs")]
    NotIssuedByCsca {
        /// The country.
        country: String,
        /// The DSC's thumbprint.
        thumbprint: String,
    },
    /// A withdrawal without the country's own signed request for that DSC.
    #[error("withdrawal of {thumbprint} by {country}: {problem}")]
    Withdrawal {
        /// The country.
        country: String,
        /// The DSC's thumbprint, as listed.
        thumbprint: String,
        /// What is wrong.
        problem: String,
    },
    /// The country's CMS signature over the DSC is missing, invalid, or not by one of its
    /// upload certificates.
    #[error("DSC {thumbprint} of {country}: the upload signature is refused: {problem}")]
    UploadSignature {
        /// The country.
        country: String,
        /// The DSC's thumbprint.
        thumbprint: String,
        /// What is wrong.
        problem: String,
    },
}

/// Why a trust list is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {
    /// It is for another network.
    #[error("the trust list is for network {list:?}, not {network:?}")]
    WrongNetwork {
        /// The list's network.
        list: String,
        /// Ours.
        network: String,
    },
    /// Not the expected JSON.
    #[error("not a trust list: {0}")]
    Format(String),
}

/// A checked trust list: what to trust, and what was refused, with why.
#[derive(Debug, Clone)]
pub struct VerifiedTrustList {
    /// The list's version.
    pub version: u64,
    /// Onboarded countries, with their verified records.
    pub countries: BTreeMap<String, VerifiedOnboarding>,
    /// Signer certificates that passed every check.
    pub signers: Vec<SignerCertificate>,
    /// Signers withdrawn by onboarded countries.
    pub withdrawn: Vec<WithdrawnEntry>,
    /// Entries that did not.
    pub rejected: Vec<EntryRejection>,
}

impl VerifiedTrustList {
    /// A trust store with the verified signers, and the withdrawn ones recorded as such.
    pub fn to_trust_store(&self) -> healthpass_trust::TrustStore {
        let mut store = healthpass_trust::TrustStore::new();
        for signer in &self.signers {
            store.insert(signer.clone());
        }
        for w in &self.withdrawn {
            let kid = B64
                .decode(&w.kid)
                .ok()
                .and_then(|k| <[u8; 8]>::try_from(k).ok());
            if let Some(kid) = kid {
                store.insert_withdrawn(
                    kid,
                    healthpass_trust::WithdrawnSigner {
                        country: w.country.clone(),
                        withdrawn_at: w.withdrawn_at,
                    },
                );
            }
        }
        store
    }
}

impl TrustList {
    /// Reads a trust list.
    pub fn from_json(text: &str) -> Result<Self, TrustListError> {
        serde_json::from_str(text).map_err(|e| TrustListError::Format(e.to_string()))
    }

    /// Checks every entry. `known_sequences` are the highest onboarding sequences seen in
    /// earlier syncs: a lower one now is a rollback and is refused.
    pub fn verify(
        &self,
        network: &Network,
        known_sequences: &BTreeMap<String, u64>,
    ) -> Result<VerifiedTrustList, TrustListError> {
        if self.network != network.name {
            return Err(TrustListError::WrongNetwork {
                list: self.network.clone(),
                network: network.name.clone(),
            });
        }
        let mut rejected = Vec::new();
        let mut countries: BTreeMap<String, VerifiedOnboarding> = BTreeMap::new();
        for signed in &self.onboardings {
            let country = signed.record.country.clone();
            let verified = match signed.verify(network) {
                Ok(v) => v,
                Err(error) => {
                    rejected.push(EntryRejection::Onboarding { country, error });
                    continue;
                }
            };
            let sequence = verified.record.sequence;
            if let Some(&known) = known_sequences.get(&country)
                && sequence < known
            {
                rejected.push(EntryRejection::Rollback {
                    country,
                    sequence,
                    known,
                });
                continue;
            }
            // Of several valid records of a country, the latest counts.
            if countries
                .get(&country)
                .is_none_or(|v| v.record.sequence < sequence)
            {
                countries.insert(country, verified);
            }
        }
        let mut signers = Vec::new();
        for entry in &self.signers {
            match check_entry(entry, &countries) {
                Ok(signer) => signers.push(signer),
                Err(why) => rejected.push(why),
            }
        }
        let mut withdrawn = Vec::new();
        for w in &self.withdrawn {
            match check_withdrawal(w, &countries) {
                Ok(()) => withdrawn.push(w.clone()),
                Err(why) => rejected.push(why),
            }
        }
        Ok(VerifiedTrustList {
            version: self.version,
            countries,
            signers,
            withdrawn,
            rejected,
        })
    }
}

/// A withdrawal counts only with the country's own signed request for that DSC.
fn check_withdrawal(
    w: &WithdrawnEntry,
    countries: &BTreeMap<String, VerifiedOnboarding>,
) -> Result<(), EntryRejection> {
    let problem = |problem: String| EntryRejection::Withdrawal {
        country: w.country.clone(),
        thumbprint: w.thumbprint.clone(),
        problem,
    };
    let onboarding = countries
        .get(&w.country)
        .ok_or_else(|| problem("the country is not onboarded".into()))?;
    let der = cms::from_base64(w.signature.as_bytes()).map_err(|e| problem(e.to_string()))?;
    let verified = onboarding
        .certificates
        .verify_upload(&der, None)
        .map_err(|e| problem(format!("the withdrawal request is refused: {e}")))?;
    let dsc = SignerCertificate::from_der(&verified.content)
        .map_err(|e| problem(format!("the withdrawal request holds no certificate: {e}")))?;
    if dsc.thumbprint() != w.thumbprint || B64.encode(dsc.kid()) != w.kid {
        return Err(problem(
            "the withdrawal request is for another certificate".into(),
        ));
    }
    Ok(())
}

fn check_entry(
    entry: &TrustListEntry,
    countries: &BTreeMap<String, VerifiedOnboarding>,
) -> Result<SignerCertificate, EntryRejection> {
    let country = entry.country.clone();
    let thumbprint = entry.thumbprint.clone();
    let problem = |problem: String| EntryRejection::Entry {
        country: country.clone(),
        thumbprint: thumbprint.clone(),
        problem,
    };
    let Some(onboarding) = countries.get(&entry.country) else {
        return Err(EntryRejection::CountryNotOnboarded { country });
    };
    if entry.certificate_type != "DSC" {
        return Err(problem(format!(
            "certificate type {:?} is not DSC",
            entry.certificate_type
        )));
    }
    let der = B64
        .decode(&entry.raw_data)
        .map_err(|e| problem(format!("rawData is not Base64: {e}")))?;
    let dsc = SignerCertificate::from_der(&der).map_err(|e| problem(e.to_string()))?;
    if dsc.thumbprint() != entry.thumbprint {
        return Err(problem("the thumbprint is not the certificate's".into()));
    }
    if B64.encode(dsc.kid()) != entry.kid {
        return Err(problem("the kid is not the certificate's".into()));
    }
    if dsc.country() != Some(entry.country.as_str()) {
        return Err(problem(format!(
            "the certificate's subject country is {:?}",
            dsc.country().unwrap_or("missing")
        )));
    }
    let csca = &onboarding.certificates.csca;
    if !csca.iter().any(|ca| verify_issued_by(&dsc, ca).is_ok()) {
        return Err(EntryRejection::NotIssuedByCsca {
            country,
            thumbprint,
        });
    }
    let upload_problem = |problem: String| EntryRejection::UploadSignature {
        country: country.clone(),
        thumbprint: thumbprint.clone(),
        problem,
    };
    let cms_der =
        cms::from_base64(entry.signature.as_bytes()).map_err(|e| upload_problem(e.to_string()))?;
    onboarding
        .certificates
        .verify_upload(&cms_der, Some(&der))
        .map_err(|e| upload_problem(e.to_string()))?;
    Ok(dsc)
}

impl TrustListEntry {
    /// An entry for a DSC with the country's detached CMS signature over it.
    pub fn new(
        dsc_der: &[u8],
        country: &str,
        signature_cms: &[u8],
        timestamp: Timestamp,
    ) -> Result<Self, healthpass_trust::CertificateError> {
        let dsc = SignerCertificate::from_der(dsc_der)?;
        Ok(Self {
            kid: B64.encode(dsc.kid()),
            timestamp,
            country: country.to_owned(),
            certificate_type: "DSC".into(),
            thumbprint: dsc.thumbprint().to_owned(),
            raw_data: B64.encode(dsc_der),
            signature: B64.encode(signature_cms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::UploadSigner;
    use crate::{GovernanceKey, OnboardingRecord};
    use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};

    fn t() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    struct Country {
        code: &'static str,
        /// CSCA and the DSC it issued.
        pki: TestPki,
        /// Stands in for the upload certificate (its DSC: right country, an EC key).
        upload: TestPki,
    }

    fn country(code: &'static str) -> Country {
        let make = || generate_test_pki(&TestPkiOptions::new(code, t())).unwrap();
        Country {
            code,
            pki: make(),
            upload: make(),
        }
    }

    fn pem_der(pem: &str) -> Vec<u8> {
        healthpass_trust::TrustStore::parse_certificates(pem.as_bytes()).remove(0)
    }

    fn onboard(
        network: &Network,
        keys: &[GovernanceKey],
        c: &Country,
        sequence: u64,
        signers: usize,
    ) -> SignedOnboarding {
        let record = OnboardingRecord::new(
            network,
            c.code,
            sequence,
            t(),
            &[pem_der(&c.pki.csca_cert_pem)],
            std::slice::from_ref(&c.upload.dsc_cert_der),
            std::slice::from_ref(&c.upload.dsc_cert_der),
        )
        .unwrap();
        let mut signed = SignedOnboarding::unsigned(record);
        for key in &keys[..signers] {
            signed.sign(key, network).unwrap();
        }
        signed
    }

    fn entry(dsc: &[u8], country: &str, signed_by: &TestPki) -> TrustListEntry {
        let signer = UploadSigner::new(&signed_by.dsc_key_pem, &signed_by.dsc_cert_der).unwrap();
        TrustListEntry::new(dsc, country, &signer.sign(dsc, true).unwrap(), t()).unwrap()
    }

    #[test]
    fn only_what_every_signature_chain_vouches_for_is_trusted() {
        let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
        let network = Network::new(
            "test-net",
            2,
            keys.iter().map(GovernanceKey::public).collect(),
        )
        .unwrap();
        let (at, de, fr) = (country("AT"), country("DE"), country("FR"));
        let rogue_at = generate_test_pki(&TestPkiOptions::new("AT", t())).unwrap();
        let good = entry(&at.pki.dsc_cert_der, "AT", &at.upload);
        let mut list = TrustList {
            network: "test-net".into(),
            version: 7,
            since: None,
            withdrawn: Vec::new(),
            onboardings: vec![
                onboard(&network, &keys, &at, 1, 2),
                onboard(&network, &keys, &de, 1, 2),
                onboard(&network, &keys, &fr, 1, 1),
            ],
            signers: vec![
                good.clone(),
                // A DSC no CSCA of AT issued, properly upload-signed.
                entry(&rogue_at.dsc_cert_der, "AT", &at.upload),
                // AT's DSC signed by a key that is not AT's upload certificate.
                entry(&at.pki.dsc_cert_der, "AT", &at.pki),
                // AT's DSC listed under DE, signed with DE's upload key.
                entry(&at.pki.dsc_cert_der, "DE", &de.upload),
                // FR has 1 of 3 governance signatures: not onboarded.
                entry(&fr.pki.dsc_cert_der, "FR", &fr.upload),
                TrustListEntry {
                    thumbprint: "00".repeat(32),
                    ..good.clone()
                },
                TrustListEntry {
                    kid: "AAAAAAAAAAA=".into(),
                    ..good.clone()
                },
                TrustListEntry {
                    signature: good.signature[..good.signature.len() - 8].into(),
                    ..good.clone()
                },
            ],
        };
        let verified = list.verify(&network, &BTreeMap::new()).unwrap();
        assert_eq!(verified.version, 7);
        assert_eq!(verified.countries.keys().collect::<Vec<_>>(), ["AT", "DE"]);
        assert_eq!(verified.signers.len(), 1);
        assert_eq!(verified.signers[0].der(), at.pki.dsc_cert_der.as_slice());
        let kinds: Vec<String> = verified.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(verified.rejected.len(), 8, "{kinds:#?}");
        assert!(
            matches!(verified.rejected[0], EntryRejection::Onboarding { ref country, error: GovernanceError::NotEnoughSignatures { valid: 1, .. } } if country == "FR")
        );
        assert!(
            matches!(verified.rejected[1], EntryRejection::NotIssuedByCsca { ref country, .. } if country == "AT")
        );
        assert!(
            matches!(verified.rejected[2], EntryRejection::UploadSignature { ref problem, .. } if problem.contains("not by an upload certificate of the country"))
        );
        assert!(
            matches!(verified.rejected[3], EntryRejection::Entry { ref problem, .. } if problem.contains("subject country is \"AT\""))
        );
        assert!(
            matches!(verified.rejected[4], EntryRejection::CountryNotOnboarded { ref country } if country == "FR")
        );
        assert!(
            matches!(verified.rejected[5], EntryRejection::Entry { ref problem, .. } if problem.contains("thumbprint"))
        );
        assert!(
            matches!(verified.rejected[6], EntryRejection::Entry { ref problem, .. } if problem.contains("kid"))
        );
        assert!(matches!(
            verified.rejected[7],
            EntryRejection::UploadSignature { .. }
        ));

        // Through JSON, as it travels.
        let json = serde_json::to_string(&list).unwrap();
        assert!(json.contains("\"rawData\"") && json.contains("\"certificateType\":\"DSC\""));
        assert_eq!(TrustList::from_json(&json).unwrap(), list);

        // A verifier that saw AT's sequence 2 refuses sequence 1: a rollback.
        let known = BTreeMap::from([("AT".to_owned(), 2)]);
        let verified = list.verify(&network, &known).unwrap();
        assert!(matches!(
            verified.rejected[0],
            EntryRejection::Rollback {
                sequence: 1,
                known: 2,
                ..
            }
        ));
        assert!(verified.signers.is_empty());

        list.network = "other".into();
        assert!(matches!(
            list.verify(&network, &BTreeMap::new()),
            Err(TrustListError::WrongNetwork { .. })
        ));
    }
}
