//! COSE_Sign1 and CWT claims: strict decoders never panic, and what they accept is coherent.
#![no_main]

use healthpass_codec::cose::CoseSign1;
use healthpass_codec::cwt::HcertClaims;
use healthpass_codec::dcc::DigitalCovidCertificate;
use libfuzzer_sys::fuzz_target;

fn claims_and_payload(bytes: &[u8]) {
    if let Ok(claims) = HcertClaims::decode(bytes) {
        assert!(
            claims.dcc.is_object(),
            "HcertClaims::decode accepted a non-map DCC"
        );
        if let Ok(dcc) = DigitalCovidCertificate::from_json(&claims.dcc) {
            let _ = dcc.single_entry();
            let _ = dcc.date_of_birth();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = CoseSign1::decode(data) {
        let tbs = msg.to_be_signed();
        assert!(
            tbs.starts_with(b"\x84\x6ASignature1"),
            "Sig_structure header: {tbs:02x?}"
        );
        assert!(
            tbs.ends_with(msg.payload),
            "Sig_structure must end with the payload"
        );
        // The borrowed slices point into the input.
        let range = data.as_ptr_range();
        for part in [msg.protected_bytes, msg.payload, msg.signature] {
            assert!(part.is_empty() || range.contains(&part.as_ptr()));
        }
        let _ = msg.kid();
        let _ = msg.alg();
        claims_and_payload(msg.payload);
    }
    claims_and_payload(data);
});
