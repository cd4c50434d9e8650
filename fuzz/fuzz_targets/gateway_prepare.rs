//! The gateway's checks on what countries submit: the input as the body of every kind of
//! change from the onboarded country, at a fixed time, against a fixed registry (a 2-of-3
//! network, the country onboarded from the frozen test PKI, one DSC, one revocation batch and
//! one rule accepted). `prepare` never panics, every refusal has a problem code, and nothing is
//! accepted that the country's upload key (or k governance keys, for an onboarding record)
//! did not sign, nor a replay of what the registry accepted already.
#![no_main]

use healthpass_fuzz::{
    CHANGE_KINDS, COMMITTED, COUNTRY, Fixture, batch_id_of, network, now,
    value_sets_governance_signed,
};
use healthpass_gateway::Registry;
use healthpass_gateway::store::ChangeKind;
use healthpass_network::cms;
use healthpass_network::revocation::RevocationBatch;
use healthpass_network::{Network, SignedOnboarding, SignedValueSets};
use healthpass_rules::Rule;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixed {
    network: Network,
    fixture: Fixture,
    registry: Registry,
    /// `(content, signing time)` of every message the upload key signed.
    upload_signed: Vec<(Vec<u8>, Option<Timestamp>)>,
}

static FIXED: OnceLock<Fixed> = OnceLock::new();

fn fixed() -> &'static Fixed {
    FIXED.get_or_init(|| {
        let fixture = Fixture::load();
        Fixed {
            network: network(),
            registry: fixture.registry(),
            upload_signed: fixture.upload_key_signed(),
            fixture,
        }
    })
}

/// An accepted CMS change: the country's upload key signed exactly this content at this
/// time, and it is not one of the messages the registry accepted already (their
/// `(content, time)` are the first `COMMITTED` of `upload_signed`), however re-encoded.
fn accepted_cms(f: &Fixed, kind: ChangeKind, data: &[u8]) -> Vec<u8> {
    let verified = cms::verify(data, None).expect("an accepted change is a valid CMS");
    assert_eq!(
        verified.signer.der(),
        f.fixture.upload_cert_der.as_slice(),
        "{kind:?} accepted without the country's upload key"
    );
    let signed = (verified.content.clone(), verified.signing_time);
    let position = f.upload_signed.iter().position(|s| *s == signed);
    assert!(
        position.is_some(),
        "{kind:?} accepted for content the upload key never signed"
    );
    assert!(
        position >= Some(COMMITTED),
        "{kind:?}: a replay of an accepted message (signed content and time of #{position:?}) is accepted again"
    );
    verified.content
}

fuzz_target!(|data: &[u8]| {
    let f = fixed();
    for kind in CHANGE_KINDS {
        match f.registry.prepare(kind, COUNTRY, data, now()) {
            Err(e) => {
                assert!(!e.code().is_empty(), "{e:?} has no code");
                assert!(!e.to_string().is_empty());
            }
            Ok(prepared) if kind == ChangeKind::Onboarding => {
                let text = std::str::from_utf8(data).expect("an accepted record is UTF-8");
                let signed = SignedOnboarding::from_json(text).expect("an accepted record");
                assert!(
                    f.fixture.governance_signed(&f.network, &signed.record),
                    "onboarding accepted without k of n governance signatures"
                );
                assert!(signed.record.sequence > 1, "not newer than the one held");
                assert_eq!(prepared.country(), signed.record.country);
            }
            Ok(_) if kind == ChangeKind::ValueSets => {
                let text = std::str::from_utf8(data).expect("an accepted release is UTF-8");
                let signed = SignedValueSets::from_json(text).expect("an accepted release");
                assert!(
                    value_sets_governance_signed(&f.network, &signed.release),
                    "value sets accepted without k of n governance signatures"
                );
            }
            Ok(prepared) => {
                assert_eq!(prepared.country(), COUNTRY);
                let content = accepted_cms(f, kind, data);
                match kind {
                    ChangeKind::Upload => {
                        assert_eq!(content, f.fixture.dsc2_der, "only the new DSC uploads");
                    }
                    ChangeKind::Withdrawal => {
                        assert_eq!(content, f.fixture.dsc_der, "only the listed DSC goes");
                    }
                    ChangeKind::RevocationBatch => {
                        let batch = RevocationBatch::from_json(&content).expect("a valid batch");
                        assert_eq!(batch.country, COUNTRY);
                        assert!(batch.expires > now());
                        assert_eq!(prepared.batch_id(), Some(batch_id_of(data).as_str()));
                    }
                    ChangeKind::Rule => {
                        let text = std::str::from_utf8(&content).expect("a rule is UTF-8");
                        let rule = Rule::from_json_str(text).expect("an accepted rule loads");
                        assert_eq!(rule.country, COUNTRY);
                        assert!(rule.valid_from > now(), "a rule accepted in force already");
                    }
                    _ => {}
                }
            }
        }
    }
});
