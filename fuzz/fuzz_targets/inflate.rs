//! zlib: the output cap holds for any input, and deflate → inflate round-trips.
#![no_main]

use healthpass_codec::zlib;
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = zlib::inflate(data, LIMIT) {
        assert!(
            out.len() <= LIMIT,
            "inflate produced {} bytes over a cap of {LIMIT}",
            out.len()
        );
    }

    if data.len() <= LIMIT {
        let packed = zlib::deflate(data);
        // The cap is exactly the original size: a stream that inflates to exactly `limit`
        // bytes must be accepted.
        match zlib::inflate(&packed, data.len()) {
            Ok(out) => assert_eq!(out, data, "deflate → inflate round trip"),
            Err(err) => panic!(
                "inflate(deflate(data), data.len()) failed for {} bytes: {err:?}",
                data.len()
            ),
        }
    }
});
