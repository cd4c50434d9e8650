//! The ICAO barcode signer certificate profile (Doc 9303-12, VDS-NC for travel-related public
//! health proofs): extended key usage `2.23.136.1.1.14.2` and the document types the signer
//! may seal (extension `2.23.136.1.1.6.2`, `NV` proof of vaccination, `NT` proof of test).

use der::Decode;
use der::asn1::ObjectIdentifier;
use x509_cert::Certificate;

use crate::SignerCertificate;

/// Extended key usage of a VDS-NC barcode signer for health proofs.
pub const OID_BARCODE_SIGNER_HEALTH: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.14.2");
/// ICAO DocumentTypeList extension.
pub const OID_DOCUMENT_TYPE_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.6.2");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// What a certificate says about being a barcode signer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarcodeSignerProfile {
    /// Its extended key usages include the health barcode signer purpose.
    pub barcode_signer_eku: bool,
    /// It has an extended key usage extension at all.
    pub has_eku: bool,
    /// The document types it lists, when it has the extension (`None` also when unreadable:
    /// see `document_types_unreadable`).
    pub document_types: Option<Vec<String>>,
    /// The extension is there but does not parse.
    pub document_types_unreadable: bool,
}

impl BarcodeSignerProfile {
    /// The profile of a certificate (read once per certificate: see
    /// [`SignerCertificate::barcode_profile`]).
    pub fn of(cert: &SignerCertificate) -> Self {
        cert.barcode_profile().clone()
    }

    /// Reads the profile from the certificate's DER.
    pub(crate) fn read(cert: &SignerCertificate) -> Self {
        let mut profile = Self::default();
        let Ok(parsed) = Certificate::from_der(cert.der()) else {
            return profile;
        };
        for ext in parsed.tbs_certificate().extensions().into_iter().flatten() {
            if ext.extn_id == OID_EXT_KEY_USAGE {
                profile.has_eku = true;
                profile.barcode_signer_eku =
                    Vec::<ObjectIdentifier>::from_der(ext.extn_value.as_bytes())
                        .is_ok_and(|oids| oids.contains(&OID_BARCODE_SIGNER_HEALTH));
            } else if ext.extn_id == OID_DOCUMENT_TYPE_LIST {
                profile.document_types = document_types(ext.extn_value.as_bytes());
                profile.document_types_unreadable = profile.document_types.is_none();
            }
        }
        profile
    }

    /// Whether the listed document types allow `doc_type`; `None` when the certificate does
    /// not list any.
    pub fn allows(&self, doc_type: &str) -> Option<bool> {
        self.document_types
            .as_ref()
            .map(|types| types.iter().any(|t| t == doc_type))
    }
}

/// `DocumentTypeListSyntax ::= SEQUENCE { version INTEGER (0), docTypeList SET OF
/// DocumentType }` with `DocumentType ::= PrintableString`.
fn document_types(bytes: &[u8]) -> Option<Vec<String>> {
    let (tag, body, rest) = tlv(bytes)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, version, rest) = tlv(body)?;
    if tag != 0x02 || version != [0] {
        return None;
    }
    let (tag, mut set, rest) = tlv(rest)?;
    if tag != 0x31 || !rest.is_empty() {
        return None;
    }
    let mut types = Vec::new();
    while !set.is_empty() {
        let (tag, value, rest) = tlv(set)?;
        if tag != 0x13 {
            return None;
        }
        types.push(std::str::from_utf8(value).ok()?.to_owned());
        set = rest;
    }
    Some(types)
}

/// One DER TLV with a short or long (up to 2 bytes) definite length.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => (usize::from(*rest.first()?), &rest[1..]),
        0x82 => (
            usize::from(*rest.first()?) << 8 | usize::from(*rest.get(1)?),
            rest.get(2..)?,
        ),
        _ => return None,
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_type_list_parses_and_refuses_garbage() {
        // SEQUENCE { INTEGER 0, SET { PrintableString "NV" } } as the Australian signer has it.
        let ext = [
            0x30, 0x09, 0x02, 0x01, 0x00, 0x31, 0x04, 0x13, 0x02, b'N', b'V',
        ];
        assert_eq!(document_types(&ext), Some(vec!["NV".to_owned()]));
        assert_eq!(document_types(&ext[..10]), None);
        let mut wrong_version = ext;
        wrong_version[4] = 1;
        assert_eq!(document_types(&wrong_version), None);
    }
}
