//! Throw-away PKIs for tests and demos: a country signing CA (CSCA) and a document signer
//! (DSC) carrying the HCERT extended key usage OIDs. **Not for production**: the keys are made
//! on this machine, kept in plain files, and nobody else trusts them.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;
use thiserror::Error;

/// The words every test certificate carries in its common name.
pub const TEST_MARK: &str = "TEST ONLY - NOT FOR PRODUCTION";

/// The current HCERT extended key usage OIDs (appendix A.4): test, vaccination, recovery.
pub const HCERT_EKU_OIDS: [[u64; 10]; 3] = [
    [1, 3, 6, 1, 4, 1, 1847, 2021, 1, 1],
    [1, 3, 6, 1, 4, 1, 1847, 2021, 1, 2],
    [1, 3, 6, 1, 4, 1, 1847, 2021, 1, 3],
];

/// The signature algorithm of the document signer's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignerAlgorithm {
    /// ECDSA P-256 (HCERT's primary algorithm).
    #[default]
    Es256,
    /// RSASSA-PSS with an RSA-2048 key (HCERT's secondary algorithm).
    Ps256,
}

/// What to put in a test PKI.
#[derive(Debug, Clone)]
pub struct TestPkiOptions {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// The DSC's key type.
    pub algorithm: SignerAlgorithm,
    /// Start of validity of both certificates.
    pub not_before: jiff::Timestamp,
    /// Validity of the DSC in days (the CSCA gets twice as long).
    pub dsc_days: i64,
    /// Which HCERT types the DSC may sign; empty means the EKU extension is left out.
    pub key_usage_oids: Vec<[u64; 10]>,
}

impl TestPkiOptions {
    /// A P-256 DSC for `country`, valid two years from `not_before`, for all three types.
    pub fn new(country: &str, not_before: jiff::Timestamp) -> Self {
        Self {
            country: country.to_owned(),
            algorithm: SignerAlgorithm::Es256,
            not_before,
            dsc_days: 730,
            key_usage_oids: HCERT_EKU_OIDS.to_vec(),
        }
    }
}

/// A country's test credentials: CSCA and DSC, upload and authentication certificates.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// CSCA certificate.
    pub csca_cert_pem: String,
    /// CSCA private key (PKCS#8).
    pub csca_key_pem: String,
    /// DSC certificate.
    pub dsc_cert_pem: String,
    /// DSC certificate, DER.
    pub dsc_cert_der: Vec<u8>,
    /// DSC private key (PKCS#8).
    pub dsc_key_pem: String,
    /// Upload certificate (self-signed, EC P-256): signs the country's CMS uploads to the
    /// trust network's gateway.
    pub upload_cert_pem: String,
    /// Upload certificate, DER.
    pub upload_cert_der: Vec<u8>,
    /// Upload private key (PKCS#8).
    pub upload_key_pem: String,
    /// Authentication certificate (self-signed, EC P-256, extended key usage clientAuth): the
    /// country's TLS client certificate at the gateway.
    pub auth_cert_pem: String,
    /// Authentication certificate, DER.
    pub auth_cert_der: Vec<u8>,
    /// Authentication private key (PKCS#8).
    pub auth_key_pem: String,
}

/// Why a test PKI could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The country is not two uppercase letters.
    #[error("the country must be an ISO 3166-1 alpha-2 code such as AT; got {0:?}")]
    BadCountry(String),
    /// Certificate or key generation failed.
    #[error("cannot make the test PKI: {0}")]
    Generate(String),
}

fn generate(e: impl std::fmt::Display) -> PkiError {
    PkiError::Generate(e.to_string())
}

fn to_offset(ts: jiff::Timestamp) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(ts.as_second()).map_err(generate)
}

fn name(country: &str, role: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, country);
    dn.push(
        DnType::OrganizationName,
        format!("healthpass test PKI {country}"),
    );
    dn.push(
        DnType::CommonName,
        format!("{country} {role} ({TEST_MARK})"),
    );
    dn
}

/// A DSC of `country` for `key`, issued by `issuer` (the CSCA).
fn dsc_certificate(
    country: &str,
    role: &str,
    key_usage_oids: &[[u64; 10]],
    (not_before, not_after): (jiff::Timestamp, jiff::Timestamp),
    key: &KeyPair,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<rcgen::Certificate, PkiError> {
    let mut dsc = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    dsc.distinguished_name = name(country, role);
    dsc.is_ca = IsCa::ExplicitNoCa;
    dsc.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    dsc.extended_key_usages = key_usage_oids
        .iter()
        .map(|oid| ExtendedKeyUsagePurpose::Other(oid.to_vec()))
        .collect();
    dsc.not_before = to_offset(not_before)?;
    dsc.not_after = to_offset(not_after)?;
    dsc.use_authority_key_identifier_extension = true;
    dsc.signed_by(key, issuer).map_err(generate)
}

impl TestPki {
    /// Another ES256 DSC of `country` (which must be the CSCA's), issued by this PKI's CSCA,
    /// with all HCERT key usages: for key rollovers, and for networks with many signers.
    /// Returns the certificate (DER) and its key (PKCS#8 PEM).
    pub fn issue_dsc(
        &self,
        country: &str,
        label: &str,
        validity: (jiff::Timestamp, jiff::Timestamp),
    ) -> Result<(Vec<u8>, String), PkiError> {
        let csca_key = KeyPair::from_pem(&self.csca_key_pem).map_err(generate)?;
        // The issuer as the DSC names it: the CSCA's subject (made the same way) and key.
        let mut csca = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
        csca.distinguished_name = name(country, "CSCA");
        csca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        csca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(csca, csca_key);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
        let role = format!("DSC {label}");
        let cert = dsc_certificate(country, &role, &HCERT_EKU_OIDS, validity, &key, &issuer)?;
        Ok((cert.der().to_vec(), key.serialize_pem()))
    }
}

/// Makes a CSCA and a DSC signed by it, and the country's upload and authentication
/// certificates for the trust network.
pub fn generate_test_pki(options: &TestPkiOptions) -> Result<TestPki, PkiError> {
    let country = &options.country;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(PkiError::BadCountry(country.clone()));
    }
    let not_before = options.not_before;
    let dsc_until = not_before
        .checked_add(jiff::SignedDuration::from_hours(24 * options.dsc_days))
        .map_err(generate)?;
    let csca_until = not_before
        .checked_add(jiff::SignedDuration::from_hours(48 * options.dsc_days))
        .map_err(generate)?;

    let csca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let mut csca = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    csca.distinguished_name = name(country, "CSCA");
    csca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    csca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    csca.not_before = to_offset(not_before)?;
    csca.not_after = to_offset(csca_until)?;
    let csca_cert = csca.self_signed(&csca_key).map_err(generate)?;
    let csca_key_pem = csca_key.serialize_pem();
    let issuer = Issuer::new(csca, csca_key);

    let dsc_key = match options.algorithm {
        SignerAlgorithm::Es256 => {
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?
        }
        SignerAlgorithm::Ps256 => {
            let rsa_key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(generate)?;
            let pem = rsa_key
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .map_err(generate)?;
            KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).map_err(generate)?
        }
    };
    let dsc_cert = dsc_certificate(
        country,
        "DSC",
        &options.key_usage_oids,
        (not_before, dsc_until),
        &dsc_key,
        &issuer,
    )?;
    // The gateway's own credentials of the country (EU NB_UP and NB_TLS): self-signed, as
    // many countries make them; the governance signatures on the onboarding record vouch.
    let credential =
        |role: &str, client_auth: bool| -> Result<(String, Vec<u8>, String), PkiError> {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
            let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
            params.distinguished_name = name(country, role);
            params.is_ca = IsCa::ExplicitNoCa;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            if client_auth {
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
            params.not_before = to_offset(not_before)?;
            params.not_after = to_offset(dsc_until)?;
            let cert = params.self_signed(&key).map_err(generate)?;
            Ok((cert.pem(), cert.der().to_vec(), key.serialize_pem()))
        };
    let (upload_cert_pem, upload_cert_der, upload_key_pem) = credential("Upload", false)?;
    let (auth_cert_pem, auth_cert_der, auth_key_pem) = credential("Authentication", true)?;
    Ok(TestPki {
        csca_cert_pem: csca_cert.pem(),
        csca_key_pem,
        dsc_cert_pem: dsc_cert.pem(),
        dsc_cert_der: dsc_cert.der().to_vec(),
        dsc_key_pem: dsc_key.serialize_pem(),
        upload_cert_pem,
        upload_cert_der,
        upload_key_pem,
        auth_cert_pem,
        auth_cert_der,
        auth_key_pem,
    })
}

/// A gateway's TLS server credentials: a CA (give its certificate to clients) and a server
/// certificate it issued for `names` (DNS names or IP addresses).
#[derive(Debug, Clone)]
pub struct GatewayTls {
    /// The CA certificate clients trust (PEM).
    pub ca_cert_pem: String,
    /// The server certificate (PEM).
    pub cert_pem: String,
    /// The server key (PKCS#8 PEM).
    pub key_pem: String,
}

/// Makes TLS server credentials for a test gateway.
pub fn generate_gateway_tls(
    names: &[String],
    not_before: jiff::Timestamp,
    days: i64,
) -> Result<GatewayTls, PkiError> {
    let until = not_before
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .map_err(generate)?;
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("healthpass gateway CA ({TEST_MARK})"),
    );
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    ca.not_before = to_offset(not_before)?;
    ca.not_after = to_offset(until)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(generate)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let mut server = CertificateParams::new(names.to_vec()).map_err(generate)?;
    server.distinguished_name = DistinguishedName::new();
    server.distinguished_name.push(
        DnType::CommonName,
        format!("healthpass gateway ({TEST_MARK})"),
    );
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = to_offset(not_before)?;
    server.not_after = to_offset(until)?;
    let cert = server.signed_by(&key, &issuer).map_err(generate)?;
    Ok(GatewayTls {
        ca_cert_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthpass_codec::dcc::CertificateType;
    use healthpass_trust::{KeyUsage, SignerCertificate};

    #[test]
    fn dsc_carries_country_eku_and_validity() {
        let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut options = TestPkiOptions::new("AT", start);
        options.key_usage_oids = vec![HCERT_EKU_OIDS[1]];
        let pki = generate_test_pki(&options).unwrap();
        let dsc = SignerCertificate::from_der(&pki.dsc_cert_der).unwrap();
        assert_eq!(dsc.country(), Some("AT"));
        assert!(dsc.subject().contains(TEST_MARK));
        assert_eq!(
            dsc.key_usage(),
            &KeyUsage::Only(vec![CertificateType::Vaccination])
        );
        assert_eq!(dsc.validity().not_before, start);
        assert_eq!(
            dsc.validity().not_after,
            "2028-01-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
        );
        assert!(pki.csca_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.dsc_key_pem.contains("BEGIN PRIVATE KEY"));
        for der in [&pki.upload_cert_der, &pki.auth_cert_der] {
            let cert = SignerCertificate::from_der(der).unwrap();
            assert_eq!(cert.country(), Some("AT"));
            assert!(cert.subject().contains(TEST_MARK));
        }
        let auth = SignerCertificate::from_der(&pki.auth_cert_der).unwrap();
        assert!(auth.subject().contains("Authentication"));
    }

    #[test]
    fn more_dscs_of_the_same_csca_chain_to_it() {
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let pki = generate_test_pki(&TestPkiOptions::new("AT", t)).unwrap();
        let csca_der =
            healthpass_trust::TrustStore::parse_certificates(pki.csca_cert_pem.as_bytes())
                .remove(0);
        let csca = SignerCertificate::from_der(&csca_der).unwrap();
        let until = t + jiff::SignedDuration::from_hours(24);
        let (der, _) = pki.issue_dsc("AT", "2", (t, until)).unwrap();
        let dsc = SignerCertificate::from_der(&der).unwrap();
        assert_eq!(dsc.country(), Some("AT"));
        healthpass_trust::verify_issued_by(&dsc, &csca).unwrap();
        let (other, _) = pki.issue_dsc("AT", "3", (t, until)).unwrap();
        assert_ne!(
            SignerCertificate::from_der(&other).unwrap().kid(),
            dsc.kid()
        );
    }

    #[test]
    fn rejects_bad_country() {
        let options = TestPkiOptions::new("austria", jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(
            generate_test_pki(&options).unwrap_err(),
            PkiError::BadCountry("austria".into())
        );
    }
}

/// A test ICAO health PKI: a CSCA and a barcode signer (BSC) issued by it with the health
/// barcode-signer purpose (`2.23.136.1.1.14.2`) and the document types `NV` and `NT`.
#[derive(Debug, Clone)]
pub struct IcaoTestPki {
    /// CSCA certificate.
    pub csca_cert_pem: String,
    /// Barcode signer certificate.
    pub bsc_cert_pem: String,
    /// Barcode signer certificate, DER.
    pub bsc_cert_der: Vec<u8>,
    /// Barcode signer private key (PKCS#8).
    pub bsc_key_pem: String,
    /// CSCA private key (PKCS#8), to sign revocation lists.
    pub csca_key_pem: String,
    /// The CSCA's country (alpha-2), as in its name.
    pub country: String,
    /// The barcode signer's serial number (DER content octets).
    pub bsc_serial: Vec<u8>,
}

/// Makes a CSCA of `country` (alpha-2, as in certificate names) and a barcode signer valid
/// `days` from `not_before`, listing `document_types` (`NV`, `NT`).
pub fn generate_icao_test_pki(
    country: &str,
    not_before: jiff::Timestamp,
    days: i64,
    document_types: &[&str],
) -> Result<IcaoTestPki, PkiError> {
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(PkiError::BadCountry(country.to_owned()));
    }
    let until = not_before
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .map_err(generate)?;
    let csca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let mut csca = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    csca.distinguished_name = name(country, "Health CSCA");
    csca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    csca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    csca.not_before = to_offset(not_before)?;
    csca.not_after = to_offset(until)?;
    let csca_cert = csca.self_signed(&csca_key).map_err(generate)?;
    let csca_key_pem = csca_key.serialize_pem();
    let issuer = Issuer::new(csca, csca_key);

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let mut bsc = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    bsc.distinguished_name = name(country, "Barcode Signer");
    bsc.is_ca = IsCa::ExplicitNoCa;
    bsc.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    bsc.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![
        2, 23, 136, 1, 1, 14, 2,
    ])];
    // DocumentTypeListSyntax ::= SEQUENCE { version INTEGER (0), SET OF PrintableString }
    let mut set = Vec::new();
    for doc_type in document_types {
        set.extend([0x13, doc_type.len() as u8]);
        set.extend(doc_type.as_bytes());
    }
    let mut body = vec![0x02, 0x01, 0x00, 0x31, set.len() as u8];
    body.extend(set);
    let mut list = vec![0x30, body.len() as u8];
    list.extend(body);
    bsc.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
        &[2, 23, 136, 1, 1, 6, 2],
        list,
    )];
    bsc.not_before = to_offset(not_before)?;
    bsc.not_after = to_offset(until)?;
    bsc.use_authority_key_identifier_extension = true;
    // A positive 16-byte serial, kept so a revocation list can name it.
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(generate)?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    bsc.serial_number = Some(rcgen::SerialNumber::from(serial.to_vec()));
    let bsc_cert = bsc.signed_by(&key, &issuer).map_err(generate)?;
    Ok(IcaoTestPki {
        csca_cert_pem: csca_cert.pem(),
        bsc_cert_pem: bsc_cert.pem(),
        bsc_cert_der: bsc_cert.der().to_vec(),
        bsc_key_pem: key.serialize_pem(),
        csca_key_pem,
        country: country.to_owned(),
        bsc_serial: serial.to_vec(),
    })
}

/// The test CSCA's revocation list (DER), issued at `this_update` and due again `days` later,
/// revoking its barcode signer (as of `this_update`) when `revoke_bsc` is set.
pub fn icao_test_revocation_list(
    pki: &IcaoTestPki,
    revoke_bsc: bool,
    this_update: jiff::Timestamp,
    days: i64,
) -> Result<Vec<u8>, PkiError> {
    let next_update = this_update
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .map_err(generate)?;
    // The CRL names its issuer by the CSCA's name, made exactly as the certificate's was.
    let mut csca = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    csca.distinguished_name = name(&pki.country, "Health CSCA");
    csca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = Issuer::new(
        csca,
        KeyPair::from_pem(&pki.csca_key_pem).map_err(generate)?,
    );
    let revoked_certs = if revoke_bsc {
        vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(pki.bsc_serial.clone()),
            revocation_time: to_offset(this_update)?,
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }]
    } else {
        Vec::new()
    };
    let list = rcgen::CertificateRevocationListParams {
        this_update: to_offset(this_update)?,
        next_update: to_offset(next_update)?,
        crl_number: rcgen::SerialNumber::from(vec![1]),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .map_err(generate)?;
    Ok(list.der().to_vec())
}
