//! CMS SignedData (the gateway's `application/cms` uploads): the input as a DER message,
//! verified with encapsulated content and with a fixed detached content, detached, and as a
//! Base64 body. A message that verifies returns a signer certificate that is in the message,
//! byte for byte, and its content; detaching it keeps the signature valid over that content.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_fuzz::DETACHED_CONTENT;
use healthpass_network::cms::{self, CmsError, VerifiedCms};
use libfuzzer_sys::fuzz_target;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn same(a: &VerifiedCms, b: &VerifiedCms) {
    assert_eq!(a.content, b.content);
    assert_eq!(a.signer.der(), b.signer.der());
    assert_eq!(a.signing_time, b.signing_time);
}

fn check(message: &[u8]) {
    let encapsulated = cms::verify(message, None);
    let detached = cms::verify(message, Some(DETACHED_CONTENT));
    let stripped = cms::detach(message);

    if let Ok(verified) = &encapsulated {
        // The signer is the certificate carried in the message, as carried; the content is the
        // encapsulated OCTET STRING's (primitive in DER), so it is in the message too.
        assert!(
            contains(message, verified.signer.der()),
            "the signer certificate is not in the message as received"
        );
        assert!(contains(message, &verified.content));
        assert!(detached.is_err(), "content both encapsulated and detached");
        assert!(matches!(
            cms::verify(message, Some(&verified.content)),
            Err(CmsError::Content(_))
        ));
        // Detaching keeps the signature valid over the same content (the gateway publishes
        // uploads this way).
        let stripped = stripped
            .as_ref()
            .expect("a message that verifies can be detached");
        let again = cms::verify(stripped, Some(&verified.content))
            .expect("the detached message verifies over the content");
        same(verified, &again);
    }
    if let Ok(verified) = &detached {
        assert_eq!(verified.content, DETACHED_CONTENT);
        assert!(
            contains(message, verified.signer.der()),
            "the signer certificate is not in the message as received"
        );
        assert!(matches!(
            encapsulated,
            Err(CmsError::Content("the message carries no content"))
        ));
        let stripped = stripped
            .as_ref()
            .expect("a message that verifies can be detached");
        same(
            verified,
            &cms::verify(stripped, Some(DETACHED_CONTENT)).expect("detaching changes nothing"),
        );
    }
    if let Ok(stripped) = &stripped {
        // Detached, it carries no content; detaching is idempotent.
        assert!(cms::verify(stripped, None).is_err());
        assert_eq!(
            cms::detach(stripped).as_ref(),
            Ok(stripped),
            "detach is not idempotent"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // The Base64 body of an application/cms request: whitespace is dropped, the rest is
    // canonical Base64 (padding, no stray bits), so encoding gives the text back.
    if let Ok(der) = cms::from_base64(data) {
        let text: Vec<u8> = data
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        assert_eq!(B64.encode(&der).as_bytes(), text.as_slice());
        check(&der);
    }
});
