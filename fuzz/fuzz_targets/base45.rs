//! Base45: strict decoding is canonical, and encoding round-trips.
#![no_main]

use healthpass_codec::base45;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes → text → bytes.
    let text = base45::encode(data);
    assert!(text.bytes().all(|b| base45::ALPHABET.contains(&b)));
    assert_eq!(text.len(), data.len() / 2 * 3 + data.len() % 2 * 2);
    assert_eq!(
        base45::decode(&text).as_deref(),
        Ok(data),
        "encode → decode round trip"
    );

    // Arbitrary text → bytes → text: whatever strict Base45 accepts, it accepts in its only form.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = base45::decode(input) {
        assert_eq!(
            base45::encode(&bytes),
            input,
            "decode → encode is not canonical"
        );
    }
});
