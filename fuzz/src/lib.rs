//! Shared material of the fuzz targets: the verdict invariants every verifying target checks
//! ([`assert_untrusted`], [`assert_verdict_explained`]), the DIVOC archive both DIVOC targets
//! pack ([`divoc_zip`]), and for the trust-network targets
//! (`cms`, `network_json`, `gateway_prepare`) and their seed tool (`examples/seed_network.rs`)
//! the frozen keys below.
//!
//! The fuzzer can only get past a signature check with a message that was really signed, so
//! the keys must be the same in every run: the governance keys are fixed Ed25519 seeds, and
//! the country's test PKI (made once with `healthpass_issue::pki::generate_test_pki`, see
//! `fixtures/network/README.md`) is read from `fixtures/network/`. The seed tool signs the
//! corpus with the same frozen upload key, so signed seeds stay valid from run to run.
//!
//! Everything the frozen upload key ever signed is listed by [`Fixture::upload_key_signed`]
//! and every onboarding record the governance keys signed by [`GOVERNANCE_SIGNED`]: the
//! targets assert that nothing else is ever accepted (a forgery would need a private key).

use healthpass_gateway::Registry;
use healthpass_gateway::store::ChangeKind;
use healthpass_network::revocation::{RevocationBatch, batch_id};

/// A report against an empty trust store: never green, nothing signed, always a reason.
pub fn assert_untrusted(report: &healthpass_verify::VerificationReport) {
    use healthpass_verify::{Outcome, Verdict};
    assert_ne!(
        report.verdict,
        Verdict::Green,
        "green with an empty trust store: {report:?}"
    );
    assert_ne!(report.checks.signature, Outcome::Pass, "{report:?}");
    assert_ne!(report.checks.signer, Outcome::Pass, "{report:?}");
    assert!(!report.reasons.is_empty(), "a red report must say why");
}

/// Green only with every check passed and no reason; any other verdict says why.
pub fn assert_verdict_explained(report: &healthpass_verify::VerificationReport) {
    if report.verdict == healthpass_verify::Verdict::Green {
        assert!(
            report.checks.all_pass() && report.reasons.is_empty(),
            "{report:?}"
        );
    } else {
        assert!(
            !report.reasons.is_empty(),
            "a red report must say why: {report:?}"
        );
    }
}

/// CRC-32 (ISO-HDLC, as ZIP uses it), bit by bit: the fuzz crate has no CRC dependency.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A DIVOC archive: one entry, `content` as `certificate.json` (stored, or deflated), laid out as
/// a ZIP writer does (used by `divoc` and `divoc_proof`).
pub fn divoc_zip(content: &[u8], deflated: bool) -> Vec<u8> {
    let name = b"certificate.json";
    let data = if deflated {
        healthpass_codec::zlib::deflate_raw(content)
    } else {
        content.to_vec()
    };
    let method: u16 = if deflated { 8 } else { 0 };
    let fields = |zip: &mut Vec<u8>| {
        zip.extend_from_slice(&0u16.to_le_bytes()); // flags
        zip.extend_from_slice(&method.to_le_bytes());
        zip.extend_from_slice(&[0; 4]); // time, date
        zip.extend_from_slice(&crc32(content).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(content.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    };
    let mut zip = b"PK\x03\x04\x14\x00".to_vec();
    fields(&mut zip);
    zip.extend_from_slice(&0u16.to_le_bytes()); // extra length
    zip.extend_from_slice(name);
    zip.extend_from_slice(&data);
    let central = zip.len() as u32;
    zip.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
    fields(&mut zip);
    zip.extend_from_slice(&[0; 16]); // extra and comment lengths, disk, attributes, offset 0
    zip.extend_from_slice(name);
    let central_size = zip.len() as u32 - central;
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\x00\x01\x00");
    zip.extend_from_slice(&central_size.to_le_bytes());
    zip.extend_from_slice(&central.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// The id the gateway gives a revocation batch's CMS (it must verify).
pub fn batch_id_of(cms_der: &[u8]) -> String {
    let verified = healthpass_network::cms::verify(cms_der, None).expect("a batch CMS verifies");
    batch_id(&verified.signed_digest)
}
use healthpass_network::{
    GovernanceKey, Network, OnboardingRecord, SignedOnboarding, SignedValueSets, ValueSetRelease,
};
use healthpass_trust::SignerCertificate;
use healthpass_trust::revocation::HashType;
use jiff::{SignedDuration, Timestamp};

/// The network's name.
pub const NETWORK_NAME: &str = "fuzz-net";

/// The onboarded country.
pub const COUNTRY: &str = "AT";

/// The content the `cms` target verifies detached messages against.
pub const DETACHED_CONTENT: &[u8] = b"detached content";

/// Every kind of change the gateway takes.
pub const CHANGE_KINDS: [ChangeKind; 9] = [
    ChangeKind::Onboarding,
    ChangeKind::Upload,
    ChangeKind::Withdrawal,
    ChangeKind::RevocationBatch,
    ChangeKind::RevocationDeletion,
    ChangeKind::Rule,
    ChangeKind::RuleDeletion,
    ChangeKind::ValueSets,
    ChangeKind::RevocationFilters,
];

/// Stops compiling when `ChangeKind` gains a variant: add it to [`CHANGE_KINDS`] too.
const _: fn(ChangeKind) = |kind| match kind {
    ChangeKind::Onboarding
    | ChangeKind::Upload
    | ChangeKind::Withdrawal
    | ChangeKind::RevocationBatch
    | ChangeKind::RevocationDeletion
    | ChangeKind::Rule
    | ChangeKind::RuleDeletion
    | ChangeKind::ValueSets
    | ChangeKind::RevocationFilters => {}
};

/// The start of the test data (the PKI's `not_before`).
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).expect("2026-01-01T00:00:00Z")
}

/// `minutes` after [`t0`].
pub fn at(minutes: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(minutes)
}

/// The gateway's clock in `gateway_prepare`: an hour after [`t0`].
pub fn now() -> Timestamp {
    at(60)
}

/// Governance key `i` (0, 1, 2): Ed25519 from a fixed seed, as PKCS#8 v1.
pub fn governance_key(i: u8) -> GovernanceKey {
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend_from_slice(&[0xA0 + i; 32]);
    GovernanceKey::from_pkcs8_der(&pkcs8).expect("a fixed Ed25519 seed")
}

/// The three governance keys.
pub fn governance_keys() -> [GovernanceKey; 3] {
    [governance_key(0), governance_key(1), governance_key(2)]
}

/// The fixed 2-of-3 network.
pub fn network() -> Network {
    Network::new(
        NETWORK_NAME,
        2,
        governance_keys()
            .iter()
            .map(GovernanceKey::public)
            .collect(),
    )
    .expect("a 2-of-3 network")
}

/// The onboarding records the governance keys signed: `(sequence, signing keys)`. Only
/// those with two distinct keys or more reach the threshold. Sequence 1 is the one the
/// `gateway_prepare` registry holds.
pub const GOVERNANCE_SIGNED: &[(u64, &[u8])] = &[(1, &[0, 1]), (2, &[1, 2]), (3, &[2])];

/// The value-set releases the governance keys signed: `(sequence, signing keys)`.
pub const GOVERNANCE_SIGNED_VALUE_SETS: &[(u64, &[u8])] = &[(1, &[0, 2]), (2, &[1])];

/// Value-set release `sequence` of the network.
pub fn value_set_release(network: &Network, sequence: u64) -> ValueSetRelease {
    let value_set = serde_json::json!({
        "valueSetId": "vaccines-covid-19-names",
        "valueSetDate": "2026-01-01",
        "valueSetValues": {
            "EU/1/20/1528": {"display": "Comirnaty", "lang": "en", "active": true,
                             "system": "https://ec.europa.eu/health/documents/community-register/html/", "version": ""},
            "EU/1/20/1507": {"display": "Spikevax", "lang": "en", "active": sequence < 2,
                             "system": "https://ec.europa.eu/health/documents/community-register/html/", "version": ""}
        }
    });
    ValueSetRelease {
        network: network.name.clone(),
        sequence,
        issued_at: t0(),
        value_sets: [("vaccines-covid-19-names".to_owned(), value_set)].into(),
    }
}

/// Every release of [`GOVERNANCE_SIGNED_VALUE_SETS`], signed as listed.
pub fn signed_value_sets(network: &Network) -> Vec<SignedValueSets> {
    let keys = governance_keys();
    GOVERNANCE_SIGNED_VALUE_SETS
        .iter()
        .map(|&(sequence, signers)| {
            let mut signed = SignedValueSets::unsigned(value_set_release(network, sequence));
            for &i in signers {
                signed
                    .sign(&keys[usize::from(i)], network)
                    .expect("a governance key of the network");
            }
            signed
        })
        .collect()
}

/// Whether `release` is one that at least `threshold` governance keys signed.
pub fn value_sets_governance_signed(network: &Network, release: &ValueSetRelease) -> bool {
    GOVERNANCE_SIGNED_VALUE_SETS
        .iter()
        .any(|&(sequence, signers)| {
            signers.len() >= network.threshold && *release == value_set_release(network, sequence)
        })
}

/// The country's frozen test PKI and the two CMS messages the registry accepted.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// CSCA certificate (DER).
    pub csca_der: Vec<u8>,
    /// DSC on the registry's list (DER).
    pub dsc_der: Vec<u8>,
    /// A second DSC of the same CSCA, not uploaded (DER).
    pub dsc2_der: Vec<u8>,
    /// Upload certificate (DER).
    pub upload_cert_der: Vec<u8>,
    /// Upload key (PKCS#8 PEM, EC P-256). Test only.
    pub upload_key_pem: String,
    /// Authentication certificate (DER).
    pub auth_cert_der: Vec<u8>,
    /// The CMS upload of [`Self::dsc_der`] the registry accepted (signed at `at(1)`).
    pub committed_upload: Vec<u8>,
    /// The CMS revocation batch the registry accepted (signed at `at(2)`).
    pub committed_batch: Vec<u8>,
    /// The CMS rule (`VR-AT-0001` 1.0.0) the registry accepted (signed at `at(2)`).
    pub committed_rule: Vec<u8>,
}

/// How many of [`Fixture::upload_key_signed`] the registry accepted (the first ones).
pub const COMMITTED: usize = 3;

/// An acceptance rule (EU rule JSON) valid from `from_hours` after [`t0`], for `days` days;
/// its country is the identifier's (`VR-AT-…`).
pub fn rule_json(identifier: &str, version: &str, from_hours: i64, days: i64) -> Vec<u8> {
    let valid_from = t0() + SignedDuration::from_hours(from_hours);
    let valid_to = valid_from + SignedDuration::from_hours(24 * days);
    let country = identifier.get(3..5).unwrap_or(COUNTRY);
    serde_json::json!({
        "Identifier": identifier, "Type": "Acceptance", "Country": country, "Version": version,
        "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.0.0",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": "At least two doses must have been given."}],
        "ValidFrom": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "ValidTo": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "AffectedFields": ["v.0.dn"],
        "Logic": {">=": [{"var": "payload.v.0.dn"}, 2]}
    })
    .to_string()
    .into_bytes()
}

/// The folder of the frozen PKI.
pub const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/network");

/// File names in [`FIXTURE_DIR`], in [`Fixture`] field order.
pub const FIXTURE_FILES: [&str; 9] = [
    "csca.der",
    "dsc.der",
    "dsc2.der",
    "upload.der",
    "upload-key.pem",
    "auth.der",
    "upload-dsc.cms.der",
    "batch.cms.der",
    "rule.cms.der",
];

impl Fixture {
    /// Reads the frozen PKI from [`FIXTURE_DIR`].
    pub fn load() -> Self {
        let read = |i: usize| {
            let path = format!("{FIXTURE_DIR}/{}", FIXTURE_FILES[i]);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run the seed tool)"))
        };
        Self {
            csca_der: read(0),
            dsc_der: read(1),
            dsc2_der: read(2),
            upload_cert_der: read(3),
            upload_key_pem: String::from_utf8(read(4)).expect("PEM is text"),
            auth_cert_der: read(5),
            committed_upload: read(6),
            committed_batch: read(7),
            committed_rule: read(8),
        }
    }

    /// The kid of [`Self::dsc_der`].
    pub fn dsc_kid(&self) -> [u8; 8] {
        SignerCertificate::from_der(&self.dsc_der)
            .expect("the fixture DSC parses")
            .kid()
    }

    /// The revocation batch the registry accepted (content of [`Self::committed_batch`]).
    pub fn committed_batch_json(&self) -> Vec<u8> {
        RevocationBatch::new(
            COUNTRY,
            at(60 * 24 * 365),
            Some(self.dsc_kid()),
            HashType::Uci,
            &[[9; 16]],
        )
        .to_json()
    }

    /// The rule the registry accepted (content of [`Self::committed_rule`]).
    pub fn committed_rule_json(&self) -> Vec<u8> {
        rule_json("VR-AT-0001", "1.0.0", 72, 10)
    }

    /// The record of sequence `sequence`.
    pub fn record(&self, network: &Network, sequence: u64) -> OnboardingRecord {
        OnboardingRecord::new(
            network,
            COUNTRY,
            sequence,
            t0(),
            std::slice::from_ref(&self.csca_der),
            std::slice::from_ref(&self.upload_cert_der),
            std::slice::from_ref(&self.auth_cert_der),
        )
        .expect("the fixture record is well formed")
    }

    /// Every record of [`GOVERNANCE_SIGNED`], signed as listed.
    pub fn signed_records(&self, network: &Network) -> Vec<SignedOnboarding> {
        let keys = governance_keys();
        GOVERNANCE_SIGNED
            .iter()
            .map(|&(sequence, signers)| {
                let mut signed = SignedOnboarding::unsigned(self.record(network, sequence));
                for &i in signers {
                    signed
                        .sign(&keys[usize::from(i)], network)
                        .expect("a governance key of the network");
                }
                signed
            })
            .collect()
    }

    /// Whether `record` is one that at least `threshold` governance keys signed.
    pub fn governance_signed(&self, network: &Network, record: &OnboardingRecord) -> bool {
        GOVERNANCE_SIGNED.iter().any(|&(sequence, signers)| {
            signers.len() >= network.threshold && *record == self.record(network, sequence)
        })
    }

    /// Everything the frozen upload key signed, as `(content, signing time)`: the two messages
    /// the registry accepted first, then the seeds. Nothing else can verify as the country's.
    pub fn upload_key_signed(&self) -> Vec<(Vec<u8>, Option<Timestamp>)> {
        let batch = |country: &str, kid: Option<[u8; 8]>, expires| {
            RevocationBatch::new(country, expires, kid, HashType::Uci, &[[7; 16], [8; 16]])
                .to_json()
        };
        let year = at(60 * 24 * 365);
        let deletion = |id: &str| format!(r#"{{"batchId":"{id}"}}"#).into_bytes();
        vec![
            // Accepted by the registry ([`COMMITTED`]): replays of these must be refused.
            (self.dsc_der.clone(), Some(at(1))),
            (self.committed_batch_json(), Some(at(2))),
            (self.committed_rule_json(), Some(at(2))),
            // Acceptable: a new DSC, the withdrawal of the listed one, new batches, the
            // deletion of the accepted batch, a new rule version, a new rule, the deletion of
            // the accepted rule.
            (self.dsc2_der.clone(), Some(at(3))),
            (self.dsc_der.clone(), Some(at(3))),
            (batch(COUNTRY, Some(self.dsc_kid()), year), Some(at(3))),
            (batch(COUNTRY, None, year), Some(at(3))),
            (deletion(&batch_id_of(&self.committed_batch)), Some(at(3))),
            (rule_json("VR-AT-0001", "1.0.1", 96, 10), Some(at(3))),
            (rule_json("VR-AT-0002", "1.0.0", 72, 30), Some(at(3))),
            (b"VR-AT-0001".to_vec(), Some(at(3))),
            // Refused: no signing time, signed before the last upload, in the future, not a
            // certificate, an expired batch, another country's batch, an unknown kid, an
            // unknown batch.
            (self.dsc2_der.clone(), None),
            (self.dsc2_der.clone(), Some(at(0))),
            (self.dsc2_der.clone(), Some(at(120))),
            (b"not a certificate".to_vec(), Some(at(4))),
            (batch(COUNTRY, None, at(30)), Some(at(4))),
            (batch("DE", None, year), Some(at(4))),
            (batch(COUNTRY, Some([1; 8]), year), Some(at(4))),
            (deletion(&"0".repeat(32)), Some(at(4))),
            (rule_json("VR-AT-0001", "0.9.0", 96, 10), Some(at(4))),
            (rule_json("VR-AT-0003", "1.0.0", 1, 10), Some(at(4))),
            (rule_json("VR-AT-0004", "1.0.0", 72, 1), Some(at(4))),
            (rule_json("VR-DE-0001", "1.0.0", 72, 10), Some(at(4))),
            (b"VR-AT-0009".to_vec(), Some(at(4))),
        ]
    }

    /// The registry of `gateway_prepare`: the network, the country onboarded with record 1,
    /// its DSC uploaded, one revocation batch and one rule accepted (version 4).
    pub fn registry(&self) -> Registry {
        let network = network();
        let mut registry = Registry::new(network.clone());
        let record = self.signed_records(&network).remove(0);
        registry.onboard(record).expect("2 of 3 signatures");
        for (kind, message, at) in [
            (ChangeKind::Upload, &self.committed_upload, at(1)),
            (ChangeKind::RevocationBatch, &self.committed_batch, at(2)),
            (ChangeKind::Rule, &self.committed_rule, at(2)),
        ] {
            let prepared = registry
                .prepare(kind, COUNTRY, message, at)
                .unwrap_or_else(|e| panic!("the frozen {kind:?} is the country's: {e}"));
            registry.commit(prepared);
        }
        assert_eq!(registry.version(), 4);
        registry
    }
}
