//! Revocation filters and deltas as a verifier receives them: `RevocationFilter::from_bytes`
//! and `FilterDelta::from_bytes` on the input; a filter built from the input's 8-byte words.
#![no_main]

use healthpass_trust::revocation_filter::{
    ALL_HASH_TYPES, FilterDelta, RevocationFilter, universe_bits_for,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A filter that reads is exactly its bytes (one encoding per filter), holds its count of
    // sorted fingerprints, and finds each of them.
    if let Ok(filter) = RevocationFilter::from_bytes(data) {
        assert_eq!(filter.to_bytes(), data);
        let fingerprints = filter.fingerprints();
        assert_eq!(fingerprints.len() as u64, filter.len());
        assert!(fingerprints.windows(2).all(|w| w[0] <= w[1]));
        // Applying the empty delta is the identity.
        let same = filter
            .apply(&filter.delta_to(&filter).expect("same width"))
            .expect("applies");
        assert_eq!(same.to_bytes(), data);
    }
    // A delta that reads is exactly its bytes; applied to a fixed filter of its width it gives
    // a filter or a typed refusal, and the result reads back.
    if let Ok(delta) = FilterDelta::from_bytes(data) {
        assert_eq!(delta.to_bytes(), data);
        let base = RevocationFilter::from_keys(
            vec![1 << 60, 2 << 60, u64::MAX],
            delta.universe_bits,
            ALL_HASH_TYPES,
        );
        if let Ok(applied) = base.apply(&delta) {
            let bytes = applied.to_bytes();
            assert_eq!(
                RevocationFilter::from_bytes(&bytes).expect("reads back"),
                applied
            );
        }
    }
    // Built from the input: every key is found, and the encoding reads back equal.
    let keys: Vec<u64> = data
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let width = universe_bits_for(keys.len() as u64);
    let filter = RevocationFilter::from_keys(keys.clone(), width, ALL_HASH_TYPES);
    let bytes = filter.to_bytes();
    let read = RevocationFilter::from_bytes(&bytes).expect("a built filter reads");
    assert_eq!(read, filter);
    let mut fingerprints: Vec<u64> = keys.iter().map(|k| k >> (64 - u32::from(width))).collect();
    fingerprints.sort_unstable();
    assert_eq!(read.fingerprints(), fingerprints);
});
