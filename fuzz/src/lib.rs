//! Shared material of the trust-network fuzz targets (`cms`, `network_json`,
//! `gateway_prepare`) and of their seed tool (`examples/seed_network.rs`).
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
use healthpass_network::revocation::{RevocationBatch, batch_id};
use healthpass_network::{GovernanceKey, Network, OnboardingRecord, SignedOnboarding};
use healthpass_trust::SignerCertificate;
use healthpass_trust::revocation::HashType;
use jiff::{SignedDuration, Timestamp};

/// The network's name.
pub const NETWORK_NAME: &str = "fuzz-net";

/// The onboarded country.
pub const COUNTRY: &str = "AT";

/// The content the `cms` target verifies detached messages against.
pub const DETACHED_CONTENT: &[u8] = b"detached content";

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
        governance_keys().iter().map(GovernanceKey::public).collect(),
    )
    .expect("a 2-of-3 network")
}

/// The onboarding records the governance keys signed: `(sequence, signing keys)`. Only
/// those with two distinct keys or more reach the threshold. Sequence 1 is the one the
/// `gateway_prepare` registry holds.
pub const GOVERNANCE_SIGNED: &[(u64, &[u8])] = &[(1, &[0, 1]), (2, &[1, 2]), (3, &[2])];

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
}

/// The folder of the frozen PKI.
pub const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/network");

/// File names in [`FIXTURE_DIR`], in [`Fixture`] field order.
pub const FIXTURE_FILES: [&str; 8] = [
    "csca.der",
    "dsc.der",
    "dsc2.der",
    "upload.der",
    "upload-key.pem",
    "auth.der",
    "upload-dsc.cms.der",
    "batch.cms.der",
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
            // Accepted by the registry: replays of these must be refused.
            (self.dsc_der.clone(), Some(at(1))),
            (self.committed_batch_json(), Some(at(2))),
            // Acceptable: a new DSC, the withdrawal of the listed one, a new batch, and the
            // deletion of the accepted batch.
            (self.dsc2_der.clone(), Some(at(3))),
            (self.dsc_der.clone(), Some(at(3))),
            (batch(COUNTRY, Some(self.dsc_kid()), year), Some(at(3))),
            (batch(COUNTRY, None, year), Some(at(3))),
            (deletion(&batch_id(&self.committed_batch)), Some(at(3))),
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
        ]
    }

    /// The registry of `gateway_prepare`: the network, the country onboarded with record 1,
    /// its DSC uploaded and one revocation batch accepted (version 3).
    pub fn registry(&self) -> Registry {
        let network = network();
        let mut registry = Registry::new(network.clone());
        let record = self.signed_records(&network).remove(0);
        registry.onboard(record).expect("2 of 3 signatures");
        registry
            .upload_signer(COUNTRY, &self.committed_upload, at(1))
            .expect("the frozen upload is the country's");
        registry
            .upload_batch(COUNTRY, &self.committed_batch, at(2))
            .expect("the frozen batch is the country's");
        assert_eq!(registry.version(), 3);
        registry
    }
}
