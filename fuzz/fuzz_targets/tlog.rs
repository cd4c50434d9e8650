//! The transparency log's decoders and proofs: signed notes, checkpoints, verifier keys, log
//! entries, filter statements and every kind's subject as text, a checkpoint through a fixed `LogPolicy`; and a Merkle tree of the input's
//! lines, whose every inclusion and consistency proof must hold and fail once changed, and
//! whose frontier at every size must grow into the same root.
#![no_main]

use healthpass_network::log::{ChangeKind, LogRecord, MAX_SUBJECT_CHARS, subject};
use healthpass_network::revocation::LoggedFilters;
use healthpass_trust::tlog::{
    Checkpoint, Frontier, LogPolicy, MemoryTree, NoteKeyKind, NoteSigner, NoteVerifierKey,
    SignedNote, check_consistency, check_inclusion, leaf_hash,
};
use libfuzzer_sys::fuzz_target;

fn signer(name: &str, kind: NoteKeyKind, seed: u8) -> NoteSigner {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[seed; 32]);
    NoteSigner::from_pkcs8(name, kind, &der).expect("a valid key")
}

fuzz_target!(|data: &[u8]| {
    // An entry reads only in the one form it is written in.
    if let Ok(record) = LogRecord::from_bytes(data) {
        assert_eq!(record.to_bytes(), data);
        assert!(record.version >= 1);
    }
    // A filters statement reads only in its one form; every kind's subject of any body is
    // one short printable line (so an entry always has its seven lines).
    if let Ok(filters) = LoggedFilters::from_json(data) {
        assert_eq!(filters.to_json(), data);
    }
    for kind in ChangeKind::ALL {
        let subject = subject(kind, data);
        assert!(!subject.is_empty() && subject.len() <= MAX_SUBJECT_CHARS);
        assert!(subject.bytes().all(|b| b.is_ascii_graphic()), "{subject:?}");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(note) = SignedNote::parse(text) {
            assert_eq!(note.to_text(), text);
            assert!(note.text.ends_with('\n') && !note.signatures.is_empty());
        }
        if let Ok(checkpoint) = Checkpoint::from_text(text) {
            assert_eq!(checkpoint.to_text(), text);
        }
        if let Ok(key) = NoteVerifierKey::parse_vkey(text) {
            assert_eq!(NoteVerifierKey::parse_vkey(&key.to_vkey()), Ok(key));
        }
        // A fixed log with two witnesses, quorum 1: a checkpoint it believes is signed by the
        // log (the fuzzer cannot forge that, so only notes signed here get through).
        let log = signer("fuzz.example/log", NoteKeyKind::Ed25519, 1);
        let witness = signer("fuzz.example/w", NoteKeyKind::Cosignature, 2);
        let policy = LogPolicy::new(
            log.verifier_key().clone(),
            vec![witness.verifier_key().clone()],
            1,
        )
        .expect("a valid policy");
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("a valid time");
        let verified = policy.verify(text, now);
        // The input as a checkpoint text, signed by both: believed exactly when it is one.
        if let Ok(checkpoint) = Checkpoint::from_text(text) {
            let mut note = SignedNote {
                text: text.to_owned(),
                signatures: vec![log.sign(text, 0)],
            };
            note.add_signature(witness.sign(text, 1_700_000_000));
            let believed = policy.verify(&note.to_text(), now);
            assert_eq!(
                believed.map(|v| v.checkpoint),
                if checkpoint.origin == "fuzz.example/log" {
                    Ok(checkpoint)
                } else {
                    Err(healthpass_trust::tlog::LogError::WrongOrigin {
                        expected: "fuzz.example/log".into(),
                        found: checkpoint.origin.clone(),
                    })
                }
            );
        } else {
            assert!(verified.is_err());
        }
    }

    // A tree of the input's lines (at most 64): every proof holds, and fails once changed.
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(64).collect();
    let mut tree = MemoryTree::new();
    for line in &lines {
        tree.push(line);
    }
    let n = tree.size();
    let root = tree.root();
    // The frontier at every size, with the lines after it, gives the same root; its hashes
    // read back as the frontier of that size only.
    for m in 0..=n {
        let frontier = tree.frontier(m).expect("inside the tree");
        assert_eq!(
            Frontier::from_hashes(m, &frontier.hashes()),
            Ok(frontier.clone())
        );
        let mut grown = frontier;
        for line in &lines[m as usize..] {
            grown.push(line);
        }
        assert_eq!(grown.root(), root);
    }
    for (i, line) in lines.iter().enumerate() {
        let i = i as u64;
        let proof = tree.prove_inclusion(i, n).expect("inside the tree");
        assert!(check_inclusion(&proof, i, leaf_hash(line), n, root).is_ok());
        let mut wrong = proof.clone();
        if let Some(first) = wrong.first_mut() {
            first[0] ^= 1;
            assert!(check_inclusion(&wrong, i, leaf_hash(line), n, root).is_err());
        }
        let old = i + 1;
        let old_root = tree.root_at(old).expect("inside the tree");
        let consistency = tree.prove_consistency(old, n).expect("inside the tree");
        assert!(check_consistency(&consistency, old, old_root, n, root).is_ok());
        if let Some(first) = consistency.first() {
            let mut wrong = consistency.clone();
            wrong[0] = [first[0] ^ 1; 32];
            assert!(check_consistency(&wrong, old, old_root, n, root).is_err());
        }
    }
    // The input's bytes as a proof: never a panic, whatever the sizes.
    let hashes: Vec<[u8; 32]> = data
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect();
    let size = u64::from(data.first().copied().unwrap_or(0));
    let index = u64::from(data.get(1).copied().unwrap_or(0));
    let _ = check_inclusion(&hashes, index, root, size, root);
    let _ = check_consistency(&hashes, index, root, size, root);
});
