//! The trust network's JSON documents from arbitrary text: network definitions, signed
//! onboarding records, signed value-set releases, trust lists, revocation batches and a verifier's trust state. Against
//! a fixed 2-of-3 network (fixed governance keys, the frozen test PKI): nothing is trusted
//! without k of n governance signatures, nothing but what the keys really signed verifies,
//! and every document that reads back writes out and reads back equal.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_client::sync::{STATE_FORMAT, TrustState};
use healthpass_fuzz::{Fixture, network, value_sets_governance_signed};
use healthpass_network::revocation::{MAX_BATCH_ENTRIES, RevocationBatch, UNKNOWN_KID};
use healthpass_network::trustlist::TrustList;
use healthpass_network::{MAX_GOVERNANCE_KEYS, Network, SignedOnboarding, SignedValueSets};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

struct Fixed {
    network: Network,
    fixture: Fixture,
    /// Every content the country's upload key signed.
    upload_signed: Vec<Vec<u8>>,
}

static FIXED: LazyLock<Fixed> = LazyLock::new(|| {
    let fixture = Fixture::load();
    let upload_signed = fixture
        .upload_key_signed()
        .into_iter()
        .map(|(content, _)| content)
        .collect();
    Fixed {
        network: network(),
        fixture,
        upload_signed,
    }
});

fn check_network(text: &str) {
    let Ok(network) = Network::from_json(text) else {
        return;
    };
    let n = network.governance_keys.len();
    assert!((1..=n).contains(&network.threshold) && n <= MAX_GOVERNANCE_KEYS);
    let ids: BTreeSet<_> = network.governance_keys.iter().map(|k| &k.id).collect();
    assert_eq!(ids.len(), n, "governance key ids are unique");
    let json = serde_json::to_string(&network).expect("a network serialises");
    assert_eq!(Network::from_json(&json).as_ref(), Ok(&network));
}

fn check_onboarding(text: &str) {
    let fixed = &*FIXED;
    let Ok(signed) = SignedOnboarding::from_json(text) else {
        return;
    };
    assert_eq!(
        SignedOnboarding::from_json(&signed.to_json()).as_ref(),
        Ok(&signed)
    );
    let Ok(verified) = signed.verify(&fixed.network) else {
        return;
    };
    // k distinct governance keys of the network, over a record they really signed.
    let ids: BTreeSet<_> = verified.signed_by.iter().collect();
    assert_eq!(ids.len(), verified.signed_by.len(), "a key counted twice");
    assert!(verified.signed_by.len() >= fixed.network.threshold);
    assert!(
        verified
            .signed_by
            .iter()
            .all(|id| { fixed.network.governance_keys.iter().any(|k| &k.id == id) })
    );
    assert!(
        fixed
            .fixture
            .governance_signed(&fixed.network, &verified.record),
        "a record no k governance keys signed verifies: {:?}",
        verified.record
    );
}

fn check_value_sets(text: &str) {
    let fixed = &*FIXED;
    let Ok(signed) = SignedValueSets::from_json(text) else {
        return;
    };
    assert_eq!(
        SignedValueSets::from_json(&signed.to_json()).as_ref(),
        Ok(&signed)
    );
    let Ok(signed_by) = signed.verify(&fixed.network) else {
        return;
    };
    let ids: BTreeSet<_> = signed_by.iter().collect();
    assert_eq!(ids.len(), signed_by.len(), "a key counted twice");
    assert!(signed_by.len() >= fixed.network.threshold);
    assert!(
        value_sets_governance_signed(&fixed.network, &signed.release),
        "a value-set release no k governance keys signed verifies"
    );
}

fn check_trust_list(text: &str) {
    let fixed = &*FIXED;
    let Ok(list) = TrustList::from_json(text) else {
        return;
    };
    let json = serde_json::to_string(&list).expect("a trust list serialises");
    assert_eq!(TrustList::from_json(&json).as_ref(), Ok(&list));
    let Ok(verified) = list.verify(&fixed.network, &BTreeMap::new()) else {
        assert_ne!(list.network, fixed.network.name);
        return;
    };
    let _ = verified.to_trust_store();
    for (country, onboarding) in &verified.countries {
        assert_eq!(country, &onboarding.record.country);
        assert!(
            fixed
                .fixture
                .governance_signed(&fixed.network, &onboarding.record)
        );
    }
    // Only what the country's upload key signed, for an onboarded country.
    for signer in &verified.signers {
        assert!(
            fixed.upload_signed.iter().any(|c| c == signer.der()),
            "trusted a DSC the upload key never signed"
        );
        let country = signer.country().expect("a trusted DSC names its country");
        assert!(verified.countries.contains_key(country));
    }
    if verified.countries.is_empty() {
        assert!(verified.signers.is_empty() && verified.withdrawn.is_empty());
    }
    for w in &verified.withdrawn {
        assert!(verified.countries.contains_key(&w.country));
    }
    // With fewer than k signatures on every record, nothing at all is trusted.
    let mut short = list.clone();
    for onboarding in &mut short.onboardings {
        onboarding
            .signatures
            .truncate(fixed.network.threshold.saturating_sub(1));
    }
    let short = short
        .verify(&fixed.network, &BTreeMap::new())
        .expect("the same network");
    assert!(
        short.countries.is_empty(),
        "onboarded with k - 1 signatures"
    );
    assert!(short.signers.is_empty(), "a signer trusted without k of n");
    assert!(short.withdrawn.is_empty());
}

fn check_batch(bytes: &[u8]) {
    let Ok(batch) = RevocationBatch::from_json(bytes) else {
        return;
    };
    assert!((1..=MAX_BATCH_ENTRIES).contains(&batch.entries.len()));
    assert_eq!(batch.country.len(), 2);
    assert!(batch.country.bytes().all(|b| b.is_ascii_uppercase()));
    let kid = batch.kid().expect("a parsed batch has a valid kid");
    assert_eq!(kid.is_none(), batch.kid == UNKNOWN_KID);
    assert!(batch.hash_type().is_ok());
    assert_eq!(
        batch.hashes().expect("valid hashes").len(),
        batch.entries.len()
    );
    let json = batch.to_json();
    assert_eq!(RevocationBatch::from_json(&json).as_ref(), Ok(&batch));
}

fn check_state(text: &str) {
    let Ok(state) = TrustState::from_json(text) else {
        return;
    };
    assert_eq!(state.format, STATE_FORMAT);
    let back = TrustState::from_json(&state.to_json()).expect("a state reads back");
    assert_eq!(back, state);
    let _ = state.rule_set();
    if let Ok(store) = state.to_trust_store() {
        // One certificate per distinct signer DER.
        let distinct: BTreeSet<Vec<u8>> = state
            .signers
            .iter()
            .map(|s| B64.decode(&s.raw_data).expect("a stored signer decoded"))
            .collect();
        assert_eq!(store.len(), distinct.len());
    }
}

fuzz_target!(|data: &[u8]| {
    check_batch(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_network(text);
    check_onboarding(text);
    check_value_sets(text);
    check_trust_list(text);
    check_state(text);
});
