//! Seeds `corpus/cms/`, `corpus/network_json/` and `corpus/gateway_prepare/` with signed
//! messages, and makes the frozen test PKI in `fixtures/network/` when it is missing.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_network            # seeds
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_network -- --new-pki
//! ```
//!
//! `--new-pki` replaces the frozen PKI (a new CSCA, DSCs, upload and authentication keys):
//! every seed signed before stops verifying, so re-seed after it. Seeds are named by what they
//! are; running again overwrites them (ECDSA signatures differ from run to run).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_client::sync::{STATE_FORMAT, StoredBatch, TrustState};
use healthpass_fuzz::{
    CHANGE_KINDS, COMMITTED, COUNTRY, DETACHED_CONTENT, FIXTURE_DIR, FIXTURE_FILES, Fixture, at,
    network, now, t0,
};
use healthpass_gateway::store::ChangeKind;
use healthpass_issue::pki::{TestPkiOptions, generate_test_pki};
use healthpass_network::cms::{self, UploadSigner};
use healthpass_network::revocation::RevocationBatch;
use healthpass_trust::TrustStore;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("create the corpus folder");
    std::fs::write(dir.join(name), bytes).expect("write a seed");
}

fn new_pki() {
    let pki = generate_test_pki(&TestPkiOptions::new(COUNTRY, t0())).expect("a test PKI");
    let two_years = (t0(), at(60 * 24 * 730));
    let (dsc2, _) = pki
        .issue_dsc(COUNTRY, "2", two_years)
        .expect("a second DSC");
    let csca = TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes()).remove(0);
    let signer = UploadSigner::new(&pki.upload_key_pem, &pki.upload_cert_der).expect("upload key");
    let upload = signer
        .sign_at(&pki.dsc_cert_der, false, at(1))
        .expect("sign the upload");
    let dir = Path::new(FIXTURE_DIR);
    std::fs::create_dir_all(dir).expect("create fixtures/network");
    let files: [&[u8]; 9] = [
        &csca,
        &pki.dsc_cert_der,
        &dsc2,
        &pki.upload_cert_der,
        pki.upload_key_pem.as_bytes(),
        &pki.auth_cert_der,
        &upload,
        b"",
        b"",
    ];
    for (name, bytes) in FIXTURE_FILES.iter().zip(files) {
        std::fs::write(dir.join(name), bytes).expect("write the fixture");
    }
    // The batch names the DSC's kid: sign it once the DSC is on disk.
    let fixture = Fixture::load();
    for (file, content) in [
        (FIXTURE_FILES[7], fixture.committed_batch_json()),
        (FIXTURE_FILES[8], fixture.committed_rule_json()),
    ] {
        let message = signer
            .sign_at(&content, false, at(2))
            .expect("sign the fixture");
        std::fs::write(dir.join(file), message).expect("write the fixture");
    }
    println!("new test PKI in {FIXTURE_DIR}");
}

fn main() {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let missing = FIXTURE_FILES
        .iter()
        .any(|f| !Path::new(FIXTURE_DIR).join(f).exists());
    if missing || std::env::args().any(|a| a == "--new-pki") {
        new_pki();
    }
    let fixture = Fixture::load();
    let network = network();
    let registry = fixture.registry();
    let signer = UploadSigner::new(&fixture.upload_key_pem, &fixture.upload_cert_der)
        .expect("the frozen upload key");

    // gateway_prepare: every message the upload key signed, the accepted ones, onboarding
    // records, and an upload signed by a key that is not the country's.
    let gateway = fuzz_dir.join("corpus/gateway_prepare");
    let mut messages: Vec<(String, Vec<u8>)> = vec![
        ("committed-upload".into(), fixture.committed_upload.clone()),
        ("committed-batch".into(), fixture.committed_batch.clone()),
        ("committed-rule".into(), fixture.committed_rule.clone()),
    ];
    for (i, (content, time)) in fixture
        .upload_key_signed()
        .iter()
        .enumerate()
        .skip(COMMITTED)
    {
        let message = match time {
            Some(t) => signer.sign_at(content, false, *t),
            None => signer.sign(content, false),
        }
        .expect("sign a seed");
        messages.push((format!("signed-{i:02}"), message));
    }
    let rogue = generate_test_pki(&TestPkiOptions::new(COUNTRY, t0())).expect("a rogue PKI");
    let rogue_signer =
        UploadSigner::new(&rogue.upload_key_pem, &rogue.upload_cert_der).expect("rogue key");
    messages.push((
        "rogue-upload".into(),
        rogue_signer
            .sign_at(&fixture.dsc2_der, false, at(3))
            .expect("sign"),
    ));
    for (name, message) in &messages {
        write(&gateway, name, message);
    }
    let records = fixture.signed_records(&network);
    for record in &records {
        let name = format!(
            "onboarding-{}-{}-signatures",
            record.record.sequence,
            record.signatures.len()
        );
        write(&gateway, &name, record.to_json().as_bytes());
    }
    for release in healthpass_fuzz::signed_value_sets(&network) {
        let name = format!(
            "value-sets-{}-{}-signatures",
            release.release.sequence,
            release.signatures.len()
        );
        write(&gateway, &name, release.to_json().as_bytes());
    }
    // Which seeds the registry accepts, for the record.
    let mut accepted = Vec::new();
    for entry in std::fs::read_dir(&gateway).expect("the corpus folder") {
        let path = entry.expect("a corpus file").path();
        let body = std::fs::read(&path).expect("read a seed");
        for kind in CHANGE_KINDS {
            if registry.prepare(kind, COUNTRY, &body, now()).is_ok() {
                accepted.push(format!(
                    "{} as {}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    kind.as_str()
                ));
            }
        }
    }
    accepted.sort();
    println!("gateway_prepare seeds accepted: {accepted:?}");

    // cms: the OpenSSL-made messages of the network crate, the gateway seeds, detached
    // messages over DETACHED_CONTENT, and Base64 bodies.
    let cms_dir = fuzz_dir.join("corpus/cms");
    let openssl = fuzz_dir.join("../crates/network/fixtures");
    if let Ok(entries) = std::fs::read_dir(&openssl) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".cms.der") {
                let bytes = std::fs::read(entry.path()).expect("read a fixture");
                write(&cms_dir, &format!("openssl-{name}"), &bytes);
                write(
                    &cms_dir,
                    &format!("openssl-{name}.b64"),
                    B64.encode(&bytes).as_bytes(),
                );
            }
        }
    }
    for (name, message) in &messages {
        write(&cms_dir, name, message);
    }
    let detached = signer
        .sign(DETACHED_CONTENT, true)
        .expect("a detached message");
    let detached_timed = signer
        .sign_at(DETACHED_CONTENT, true, at(5))
        .expect("a detached message");
    let stripped = cms::detach(&fixture.committed_upload).expect("detach the upload");
    write(&cms_dir, "detached", &detached);
    write(&cms_dir, "detached-timed", &detached_timed);
    write(&cms_dir, "detached-upload", &stripped);
    let mut wrapped = String::new();
    for line in B64.encode(&detached_timed).as_bytes().chunks(64) {
        wrapped.push_str(std::str::from_utf8(line).expect("ASCII"));
        wrapped.push_str("\r\n");
    }
    write(&cms_dir, "detached-timed.b64", wrapped.as_bytes());
    write(
        &cms_dir,
        "committed-upload.b64",
        B64.encode(&fixture.committed_upload).as_bytes(),
    );

    // network_json: the network, the records, trust lists (whole, delta, with a withdrawn
    // signer), revocation batches and a trust state.
    let json_dir = fuzz_dir.join("corpus/network_json");
    macro_rules! text {
        ($value:expr) => {
            serde_json::to_string_pretty($value).expect("serialises")
        };
    }
    write(&json_dir, "network", text!(&network).as_bytes());
    for record in &records {
        let name = format!(
            "onboarding-{}-{}-signatures",
            record.record.sequence,
            record.signatures.len()
        );
        write(&json_dir, &name, record.to_json().as_bytes());
    }
    for release in healthpass_fuzz::signed_value_sets(&network) {
        let name = format!(
            "value-sets-{}-{}-signatures",
            release.release.sequence,
            release.signatures.len()
        );
        write(&json_dir, &name, release.to_json().as_bytes());
    }
    let list = registry.trust_list();
    write(&json_dir, "trust-list", text!(&list).as_bytes());
    write(
        &json_dir,
        "trust-list-since-2",
        text!(&registry.trust_list_since(2)).as_bytes(),
    );
    let mut after = fixture.registry();
    let withdrawal = signer
        .sign_at(&fixture.dsc_der, false, at(3))
        .expect("sign");
    let prepared = after
        .prepare(ChangeKind::Withdrawal, COUNTRY, &withdrawal, now())
        .expect("the withdrawal of the listed DSC");
    after.commit(prepared);
    write(
        &json_dir,
        "trust-list-withdrawn",
        text!(&after.trust_list()).as_bytes(),
    );
    let batch_json = fixture.committed_batch_json();
    write(&json_dir, "batch", &batch_json);
    for (i, (content, _)) in fixture.upload_key_signed().iter().enumerate() {
        if RevocationBatch::from_json(content).is_ok() {
            write(&json_dir, &format!("batch-{i:02}"), content);
        }
    }
    let verified = list
        .verify(&network, &BTreeMap::new())
        .expect("the registry's list verifies");
    assert_eq!(verified.signers.len(), 1, "{:?}", verified.rejected);
    let batch = RevocationBatch::from_json(&batch_json).expect("the committed batch");
    let state = TrustState {
        format: STATE_FORMAT,
        network: network.name.clone(),
        fetched_at: now(),
        version: list.version,
        etag: Some("\"4\"".into()),
        sequences: BTreeMap::from([(COUNTRY.to_owned(), 1)]),
        onboardings: list.onboardings.clone(),
        signers: list.signers.clone(),
        withdrawn: after.trust_list().withdrawn,
        revocations: BTreeMap::from([(
            healthpass_fuzz::batch_id_of(&fixture.committed_batch),
            StoredBatch {
                country: batch.country,
                kid: batch.kid,
                hash_type: batch.hash_type,
                hashes: batch.entries.into_iter().map(|e| e.hash).collect(),
            },
        )]),
        value_sets: healthpass_fuzz::signed_value_sets(&network)
            .into_iter()
            .next(),
        rules: vec![String::from_utf8(fixture.committed_rule_json()).expect("JSON is UTF-8")],
        rejected: vec!["revocation batch 00 of DE: the country is not onboarded".into()],
        log_checkpoint: None,
    };
    write(&json_dir, "trust-state", state.to_json().as_bytes());
    println!("seeded corpus/cms, corpus/network_json and corpus/gateway_prepare");
}
