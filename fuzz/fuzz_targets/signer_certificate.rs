//! Signer certificates: DER (X.509) and the PEM / Base64 container reader.
#![no_main]

use healthpass_trust::{SignerCertificate, TrustStore, kid_of};
use libfuzzer_sys::fuzz_target;

fn check(der: &[u8]) {
    if let Ok(cert) = SignerCertificate::from_der(der) {
        // The kid and thumbprint are computed over exactly the bytes received.
        assert_eq!(cert.kid(), kid_of(der));
        assert_eq!(cert.der(), der);
        let kid_hex: String = cert.kid().iter().map(|b| format!("{b:02x}")).collect();
        assert!(cert.thumbprint().starts_with(&kid_hex));
        assert!(cert.validity().not_before <= jiff::Timestamp::MAX);
        let _ = cert.public_key().describe();
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    for der in TrustStore::parse_certificates(data) {
        check(&der);
    }
});
