//! The JSON-LD contexts compiled into the verifier (see `contexts/README.md` for sources).

/// Every bundled context: its URL and its text.
pub const BUNDLED_CONTEXTS: &[(&str, &str)] = &[
    (
        "https://www.w3.org/2018/credentials/v1",
        include_str!("../contexts/credentials-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/v1",
        include_str!("../contexts/security-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/v2",
        include_str!("../contexts/security-v2.jsonld"),
    ),
    (
        "https://cowin.gov.in/credentials/vaccination/v1",
        include_str!("../contexts/cowin-vaccination-v1.jsonld"),
    ),
    (
        "https://cowin.gov.in/credentials/vaccination/v2",
        include_str!("../contexts/cowin-vaccination-v2.jsonld"),
    ),
];

/// The bundled text of the context at `url`, if it is bundled.
pub fn context(url: &str) -> Option<&'static str> {
    BUNDLED_CONTEXTS
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_context_is_a_json_ld_context() {
        for (url, text) in BUNDLED_CONTEXTS {
            let value: serde_json::Value = serde_json::from_str(text).expect(url);
            // security v2 builds on v1: `[v1, {…}]`.
            let context = &value["@context"];
            assert!(context.is_object() || context.is_array(), "{url}");
        }
        assert!(context("https://w3id.org/security/v2").is_some());
        assert!(context("https://example.com/context").is_none());
    }
}
