//! Test PKIs and certificates shared by the integration tests (made once per test binary:
//! RSA key generation is slow).

use std::sync::OnceLock;

use healthpass_issue::pki::{
    HCERT_EKU_OIDS, SignerAlgorithm, TestPki, TestPkiOptions, generate_test_pki,
};
use healthpass_issue::{Hc1Issuer, SigningKey};
use healthpass_trust::{SignerCertificate, TrustStore};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// The time every fixture is issued at.
pub fn t0() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn pki(country: &str, algorithm: SignerAlgorithm, oids: &[[u64; 10]]) -> TestPki {
    let mut options = TestPkiOptions::new(country, t0() - SignedDuration::from_hours(24));
    options.algorithm = algorithm;
    options.key_usage_oids = oids.to_vec();
    generate_test_pki(&options).unwrap()
}

/// AT, ES256, all types.
pub fn at_es256() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki("AT", SignerAlgorithm::Es256, &HCERT_EKU_OIDS))
}

/// DE, PS256 (RSA-2048), all types.
pub fn de_ps256() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki("DE", SignerAlgorithm::Ps256, &HCERT_EKU_OIDS))
}

/// FR, ES256, vaccinations only.
pub fn fr_vaccination_only() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki("FR", SignerAlgorithm::Es256, &HCERT_EKU_OIDS[1..2]))
}

pub fn issuer(pki: &TestPki) -> Hc1Issuer {
    let key = SigningKey::from_pkcs8_pem(&pki.dsc_key_pem).unwrap();
    Hc1Issuer::new(key, SignerCertificate::from_der(&pki.dsc_cert_der).unwrap()).unwrap()
}

pub fn trust(pkis: &[&TestPki]) -> TrustStore {
    let mut store = TrustStore::new();
    for pki in pkis {
        store.insert_der(&pki.dsc_cert_der).unwrap();
    }
    store
}

pub fn vaccination() -> Value {
    serde_json::from_str(
        r#"{"ver": "1.3.0",
            "nam": {"fn": "Musterfrau", "fnt": "MUSTERFRAU", "gn": "Erika", "gnt": "ERIKA"},
            "dob": "1964-08-12",
            "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                   "dn": 2, "sd": 2, "dt": "2021-06-01", "co": "AT", "is": "BMSGPK",
                   "ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"}]}"#,
    )
    .unwrap()
}

pub fn test_result() -> Value {
    serde_json::from_str(
        r#"{"ver": "1.3.0",
            "nam": {"fn": "Mustermann", "fnt": "MUSTERMANN", "gn": "Max", "gnt": "MAX"},
            "dob": "1990",
            "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR",
                   "sc": "2026-03-01T08:00:00Z", "tr": "260415000", "tc": "Testing centre Vienna 1",
                   "co": "AT", "is": "BMSGPK", "ci": "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I"}]}"#,
    )
    .unwrap()
}

/// Issues `payload` at `t0()` for 30 days.
pub fn issue(pki: &TestPki, payload: &Value) -> String {
    issuer(pki)
        .issue(payload, t0(), t0() + SignedDuration::from_hours(24 * 30))
        .unwrap()
}
