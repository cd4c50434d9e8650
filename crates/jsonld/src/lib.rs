//! Linked Data proofs over bundled contexts: the bytes a DIVOC `RsaSignature2018` or
//! `Ed25519Signature2018` proof signs.
//!
//! A DIVOC certificate is a W3C verifiable credential signed with a Linked Data Signature
//! (jsonld-signatures, the 2018 suites). The signature does not cover the JSON but the RDF
//! it denotes:
//!
//! ```text
//! proof options = proof − jws, with "@context": security v2 (jsonld-signatures ≤ 6)
//!                                 or the document's @context (jsonld-signatures ≥ 7)
//! document      = credential − proof
//! c14n(x)       = JSON-LD → RDF (bundled contexts only) → URDNA2015 → sorted N-Quads
//! verify data   = SHA-256(c14n(proof options)) ‖ SHA-256(c14n(document))       64 bytes
//! jws           = base64url(header) ".." base64url(signature), detached, b64 false
//! signed bytes  = base64url(header) "." verify data
//! ```
//!
//! [`prepare`] turns a credential into those signed bytes and the signature; checking the
//! signature with a key is the caller's (the trust store's) job, so no key material is here.
//!
//! Soundness rules, so that what a verifier shows is what was signed:
//! - contexts are the bundled ones ([`BUNDLED_CONTEXTS`]); any other URL is
//!   [`LdError::ContextUnknown`], never a fetch; inline contexts are refused, so the meaning of
//!   every key is fixed by the bundled files;
//! - a key the contexts do not define would be dropped from the RDF, so left unsigned:
//!   [`LdError::TermUndefined`]; so would `@index`, `@direction` and nodes that are only an id
//!   inside a graph: [`LdError::Unsigned`];
//! - values this crate cannot canonicalise exactly as the JavaScript signers do (non-integer or
//!   unsafe numbers, control characters) are [`LdError::ValueUnsupported`], not a guess;
//! - URDNA2015 is exponential on crafted input: the RDF is capped ([`MAX_QUADS`],
//!   [`MAX_BLANK_NODES`], [`MAX_BLANK_NODE_TWINS`]) before canonicalisation.
//!
//! JSON-LD expansion is the `json-ld` crate's (JSON-LD 1.1, W3C test suite); canonicalisation
//! is `oxrdf`'s RDFC-1.0, which is URDNA2015 for every string accepted here. Both were checked
//! against jsonld-signatures 6 (jsonld.js 2, rdf-canonize 1) on a CoWIN certificate: the same
//! N-Quads, byte for byte.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod contexts;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use base64::Engine;
use json_ld::expansion::{Action, Policy};
use json_ld::rdf_types::{self, Id, LiteralType};
use json_ld::syntax::Parse;
use json_ld::{JsonLdProcessor, RemoteDocument};
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, NamedOrBlankNode, Quad, Term};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use contexts::{BUNDLED_CONTEXTS, context};

/// Most RDF statements one credential may denote (a CoWIN certificate has about 45).
pub const MAX_QUADS: usize = 2_000;
/// Most anonymous (blank) nodes (a CoWIN certificate has 5).
pub const MAX_BLANK_NODES: usize = 256;
/// Most blank nodes with identical neighbourhoods. URDNA2015 tells such twins apart by trying
/// every permutation of them, which is what makes it exponential; genuine credentials have
/// none or pairs.
pub const MAX_BLANK_NODE_TWINS: usize = 6;

/// The security context jsonld-signatures up to version 6 puts on the proof options.
pub const SECURITY_V2: &str = "https://w3id.org/security/v2";

/// Why a credential's proof cannot be turned into signed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LdError {
    /// A context that is not bundled: the signed bytes cannot be known without fetching it.
    #[error(
        "the JSON-LD context {0} is not bundled with this verifier (contexts are never fetched)"
    )]
    ContextUnknown(String),
    /// The credential has no `proof`.
    #[error("the credential has no proof")]
    ProofMissing,
    /// A proof type other than `RsaSignature2018` and `Ed25519Signature2018`.
    #[error("the proof type {0:?} is not supported (RsaSignature2018, Ed25519Signature2018)")]
    ProofTypeUnsupported(String),
    /// The proof is malformed: no `jws`, a JWS that is not a detached `b64: false` one, a
    /// purpose other than `assertionMethod`, no `verificationMethod`.
    #[error("the proof is malformed: {0}")]
    ProofInvalid(String),
    /// The credential is not JSON-LD this crate processes: inline contexts, an invalid IRI
    /// where one is required, an error of the JSON-LD algorithms.
    #[error("the credential is not valid JSON-LD here: {0}")]
    Invalid(String),
    /// A key the contexts do not define: it would be dropped, so not signed.
    #[error("{0:?} is not defined by the credential's contexts, so it is not signed")]
    TermUndefined(String),
    /// A key whose content JSON-LD leaves out of what is signed (`@index`, `@direction`, a
    /// bare node in a graph): the credential could show it unsigned.
    #[error("the credential uses {0}, whose content would not be signed")]
    Unsigned(String),
    /// A value the signers canonicalise in a way this crate does not reproduce exactly.
    #[error("{0}: not canonicalised exactly as the signers do, the signature cannot be checked")]
    ValueUnsupported(String),
    /// More than [`MAX_QUADS`] statements.
    #[error("the credential denotes more than {MAX_QUADS} statements")]
    TooManyQuads,
    /// More than [`MAX_BLANK_NODES`] blank nodes.
    #[error("the credential has more than {MAX_BLANK_NODES} anonymous nodes")]
    TooManyBlankNodes,
    /// More than [`MAX_BLANK_NODE_TWINS`] blank nodes with identical neighbourhoods.
    #[error(
        "the credential has more than {MAX_BLANK_NODE_TWINS} identical anonymous nodes \
         (canonicalising them is exponential)"
    )]
    BlankNodeTwins,
}

/// A Linked Data Signature suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// `RsaSignature2018`: RSASSA-PSS with SHA-256 (JWS `PS256`).
    RsaSignature2018,
    /// `Ed25519Signature2018`: Ed25519 (JWS `EdDSA`).
    Ed25519Signature2018,
}

impl Suite {
    /// The suite named by a proof's `type`.
    pub fn from_type(name: &str) -> Option<Self> {
        match name {
            "RsaSignature2018" => Some(Self::RsaSignature2018),
            "Ed25519Signature2018" => Some(Self::Ed25519Signature2018),
            _ => None,
        }
    }

    /// The proof `type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RsaSignature2018 => "RsaSignature2018",
            Self::Ed25519Signature2018 => "Ed25519Signature2018",
        }
    }

    /// The JWS `alg` of the suite.
    pub fn jws_alg(self) -> &'static str {
        match self {
            Self::RsaSignature2018 => "PS256",
            Self::Ed25519Signature2018 => "EdDSA",
        }
    }

    /// The detached JWS header jsonld-signatures writes, Base64url-encoded.
    pub fn encoded_header(self) -> String {
        let header = format!(
            r#"{{"alg":"{}","b64":false,"crit":["b64"]}}"#,
            self.jws_alg()
        );
        b64url().encode(header)
    }
}

/// What a proof signs, ready for a signature check.
#[derive(Debug, Clone)]
pub struct ProofInput {
    /// The proof's suite.
    pub suite: Suite,
    /// The proof's `verificationMethod`: which key signed.
    pub verification_method: String,
    /// The proof's `created`, as written.
    pub created: Option<String>,
    /// The JWS signature.
    pub signature: Vec<u8>,
    /// The bytes the signature may cover: one per way signers build the proof options
    /// (security v2 context first, then the document's context when it gives other bytes).
    /// A signature valid over any one of them is valid.
    pub signing_inputs: Vec<Vec<u8>>,
}

fn b64url() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Reads a credential's proof and computes what it signs.
pub fn prepare(credential: &Value) -> Result<ProofInput, LdError> {
    let Value::Object(fields) = credential else {
        return Err(LdError::Invalid(
            "the credential is not a JSON object".into(),
        ));
    };
    let proof = match fields.get("proof") {
        None | Some(Value::Null) => return Err(LdError::ProofMissing),
        Some(Value::Object(proof)) => proof,
        Some(_) => {
            return Err(LdError::ProofInvalid(
                "the proof is not one JSON object (proof sets are not supported)".into(),
            ));
        }
    };
    let text = |name: &str| proof.get(name).and_then(Value::as_str);
    let suite_name = text("type").ok_or_else(|| LdError::ProofInvalid("no type".into()))?;
    let suite = Suite::from_type(suite_name)
        .ok_or_else(|| LdError::ProofTypeUnsupported(suite_name.to_owned()))?;
    if text("proofPurpose") != Some("assertionMethod") {
        return Err(LdError::ProofInvalid(
            "the proof purpose must be assertionMethod".into(),
        ));
    }
    let verification_method = text("verificationMethod")
        .ok_or_else(|| LdError::ProofInvalid("no verificationMethod".into()))?
        .to_owned();
    let jws = text("jws").ok_or_else(|| LdError::ProofInvalid("no jws".into()))?;
    let (encoded_header, signature) = parse_detached_jws(jws, suite)?;

    let mut document = fields.clone();
    document.remove("proof");
    let document = Value::Object(document);
    let document_hash = Sha256::digest(canonicalize(&document)?.as_bytes());

    let mut options = proof.clone();
    for name in ["jws", "signatureValue", "proofValue"] {
        options.remove(name);
    }
    let mut variants = vec![with_context(Value::from(SECURITY_V2), &options)];
    if let Some(context) = fields.get("@context")
        && context != &Value::from(SECURITY_V2)
    {
        variants.push(with_context(context.clone(), &options));
    }
    let mut signing_inputs: Vec<Vec<u8>> = Vec::new();
    for variant in &variants {
        let options_hash = Sha256::digest(canonicalize(variant)?.as_bytes());
        let mut input = Vec::with_capacity(encoded_header.len() + 65);
        input.extend_from_slice(encoded_header.as_bytes());
        input.push(b'.');
        input.extend_from_slice(&options_hash);
        input.extend_from_slice(&document_hash);
        if !signing_inputs.contains(&input) {
            signing_inputs.push(input);
        }
    }
    Ok(ProofInput {
        suite,
        verification_method,
        created: text("created").map(str::to_owned),
        signature,
        signing_inputs,
    })
}

/// `{"@context": context, ...options}`: the proof's own `@context`, if any, wins, as in
/// jsonld-signatures.
fn with_context(context: Value, options: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("@context".into(), context);
    for (k, v) in options {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// Splits `header..signature` and checks the header is exactly the suite's detached one.
fn parse_detached_jws(jws: &str, suite: Suite) -> Result<(&str, Vec<u8>), LdError> {
    let bad = |why: &str| LdError::ProofInvalid(format!("jws: {why}"));
    let mut parts = jws.split('.');
    let (Some(header), Some(""), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a detached JWS (header..signature)"));
    };
    let header_bytes = b64url()
        .decode(header)
        .map_err(|_| bad("the header is not Base64url"))?;
    let header_json: Value =
        serde_json::from_slice(&header_bytes).map_err(|_| bad("the header is not JSON"))?;
    let Value::Object(h) = &header_json else {
        return Err(bad("the header is not a JSON object"));
    };
    let detached = h.len() == 3
        && h.get("b64") == Some(&Value::Bool(false))
        && h.get("crit") == Some(&serde_json::json!(["b64"]));
    if !detached {
        return Err(bad(
            r#"the header must be {"alg", "b64": false, "crit": ["b64"]}"#,
        ));
    }
    if h.get("alg").and_then(Value::as_str) != Some(suite.jws_alg()) {
        return Err(bad(&format!(
            "{} requires alg {}",
            suite.name(),
            suite.jws_alg()
        )));
    }
    let signature = b64url()
        .decode(signature)
        .map_err(|_| bad("the signature is not Base64url"))?;
    Ok((header, signature))
}

/// Signs `credential` (which must have no `proof`) the way jsonld-signatures 6 does (proof
/// options in the security v2 context) and returns it with its proof. `sign` receives the
/// bytes to sign and returns the signature. For issuing test credentials and for tests.
pub fn sign(
    credential: &Value,
    suite: Suite,
    verification_method: &str,
    created: &str,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Result<Value, LdError> {
    let Value::Object(fields) = credential else {
        return Err(LdError::Invalid(
            "the credential is not a JSON object".into(),
        ));
    };
    let mut options = Map::new();
    options.insert("type".into(), suite.name().into());
    options.insert("created".into(), created.into());
    options.insert("verificationMethod".into(), verification_method.into());
    options.insert("proofPurpose".into(), "assertionMethod".into());
    let options_hash =
        Sha256::digest(canonicalize(&with_context(SECURITY_V2.into(), &options))?.as_bytes());
    let document_hash = Sha256::digest(canonicalize(credential)?.as_bytes());
    let header = suite.encoded_header();
    let mut input = header.clone().into_bytes();
    input.push(b'.');
    input.extend_from_slice(&options_hash);
    input.extend_from_slice(&document_hash);
    let signature = sign(&input);
    options.insert(
        "jws".into(),
        format!("{header}..{}", b64url().encode(signature)).into(),
    );
    let mut signed = fields.clone();
    signed.insert("proof".into(), Value::Object(options));
    Ok(Value::Object(signed))
}

/// The URDNA2015 canonical N-Quads of a JSON-LD document, over the bundled contexts.
pub fn canonicalize(document: &Value) -> Result<String, LdError> {
    check_json(document, true)?;
    let mut dataset = to_dataset(document)?;
    check_complexity(&dataset)?;
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|quad| format!("{quad} .\n")).collect();
    lines.sort_unstable();
    Ok(lines.concat())
}

/// 2^53: beyond it JavaScript numbers (what the signers parse) are not exact integers.
const MAX_SAFE_INTEGER: u64 = 1 << 53;

/// Refuses what would make the RDF differ from the signers' or depend on anything but the
/// bundled contexts: inline or nested contexts, numbers that are not safe integers, strings
/// the two N-Quads escapings write differently.
fn check_json(value: &Value, top: bool) -> Result<(), LdError> {
    match value {
        Value::Number(n) => {
            let exact = n.as_u64().is_some_and(|n| n <= MAX_SAFE_INTEGER)
                || n.as_i64()
                    .is_some_and(|n| n.unsigned_abs() <= MAX_SAFE_INTEGER);
            if exact {
                Ok(())
            } else {
                Err(LdError::ValueUnsupported(format!("the number {n}")))
            }
        }
        Value::String(s) => check_string(s),
        Value::Array(items) => items.iter().try_for_each(|v| check_json(v, false)),
        Value::Object(fields) => {
            for (key, v) in fields {
                check_string(key)?;
                // Content JSON-LD keeps out of the RDF would be shown but signed by nothing:
                // `@index` values, `@direction`, and nodes that are only an id inside a graph
                // (`@graph`, `@included`, and the bundled contexts' other @graph container,
                // `verifiableCredential`; `proof` is taken out before signing). Found by the
                // divoc_proof fuzz target's changed-value property (fuzz/fixtures/
                // divoc-proof-unsigned-index.json).
                if matches!(
                    key.as_str(),
                    "@index" | "@direction" | "@graph" | "@included" | "verifiableCredential"
                ) {
                    return Err(LdError::Unsigned(key.clone()));
                }
                if key == "@context" {
                    let urls_only = match v {
                        Value::String(_) => true,
                        Value::Array(items) => items.iter().all(Value::is_string),
                        _ => false,
                    };
                    if !top || !urls_only {
                        return Err(LdError::Invalid(
                            "only a top-level @context of context URLs is accepted".into(),
                        ));
                    }
                }
                check_json(v, false)?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) => Ok(()),
    }
}

/// rdf-canonize (URDNA2015, what the signers ran) escapes only `"`, `\`, LF and CR in
/// N-Quads; RDFC-1.0 also escapes other control characters and U+FFFE/U+FFFF.
fn check_string(s: &str) -> Result<(), LdError> {
    let differs = |c: char| {
        matches!(c, '\0'..='\u{1F}' | '\u{7F}' | '\u{FFFE}' | '\u{FFFF}') && c != '\n' && c != '\r'
    };
    if s.chars().any(differs) {
        Err(LdError::ValueUnsupported(format!(
            "the string {s:?} has control characters"
        )))
    } else {
        Ok(())
    }
}

/// Serves the bundled contexts; remembers the first URL asked for that is not bundled.
#[derive(Default)]
struct BundledLoader {
    unknown: RefCell<Option<String>>,
}

#[derive(Debug, Error)]
#[error("not bundled")]
struct NotBundled;

impl json_ld::Loader for BundledLoader {
    async fn load(
        &self,
        url: &json_ld::Iri,
    ) -> Result<RemoteDocument<json_ld::IriBuf>, json_ld::LoadError> {
        let Some(text) = context(url.as_str()) else {
            self.unknown
                .borrow_mut()
                .get_or_insert_with(|| url.as_str().to_owned());
            return Err(json_ld::LoadError::new(url.to_owned(), NotBundled));
        };
        let (document, _) = json_ld::syntax::Value::parse_str(text)
            .map_err(|_| json_ld::LoadError::new(url.to_owned(), NotBundled))?;
        Ok(RemoteDocument::new(Some(url.to_owned()), None, document))
    }
}

/// Collects the JSON-LD algorithms' warnings (malformed IRIs, empty terms, …): each marks
/// something dropped from the RDF, so it is refused.
#[derive(Default)]
struct Warnings(Vec<String>);

impl<N, W: std::fmt::Display> json_ld::warning::Handler<N, W> for Warnings {
    fn handle(&mut self, _vocabulary: &N, warning: W) {
        self.0.push(warning.to_string());
    }
}

fn to_dataset(document: &Value) -> Result<Dataset, LdError> {
    let text = serde_json::to_string(document).map_err(|e| LdError::Invalid(e.to_string()))?;
    let (value, _) =
        json_ld::syntax::Value::parse_str(&text).map_err(|e| LdError::Invalid(e.to_string()))?;
    let remote = RemoteDocument::new(None, None, value);
    let loader = BundledLoader::default();
    let options = json_ld::Options {
        expansion_policy: Policy {
            invalid: Action::Reject,
            vocab: Action::Keep,
            allow_undefined: false,
        },
        ..json_ld::Options::default()
    };
    let mut warnings = Warnings::default();
    let mut generator = rdf_types::generator::Blank::new();
    let result = futures::executor::block_on(remote.to_rdf_full(
        (),
        &mut generator,
        &loader,
        options,
        &mut warnings,
    ));
    let mut rdf = match result {
        Ok(rdf) => rdf,
        Err(err) => {
            if let Some(url) = loader.unknown.into_inner() {
                return Err(LdError::ContextUnknown(url));
            }
            let message = err.to_string();
            return Err(match undefined_term(&err) {
                Some(term) => LdError::TermUndefined(term),
                None => LdError::Invalid(message),
            });
        }
    };
    // json-ld warns of a malformed IRI each time it tries a key against a context that does
    // not define it yet (before a type-scoped context applies): those are keys, and undefined
    // keys are refused by the policy above. A malformed IRI that is not a key is a value (a
    // relative `id`, say) that the RDF drops, so it would go unsigned: refused.
    let mut keys = std::collections::HashSet::new();
    collect_keys(document, &mut keys);
    let dropped = warnings.0.iter().find(|warning| {
        warning
            .strip_prefix("malformed IRI `")
            .and_then(|rest| rest.strip_suffix('`'))
            .is_none_or(|iri| !keys.contains(iri))
    });
    if let Some(warning) = dropped {
        return Err(LdError::Invalid(warning.clone()));
    }
    let mut dataset = Dataset::new();
    for (i, rdf_types::Quad(s, p, o, g)) in rdf.cloned_quads().enumerate() {
        if i >= MAX_QUADS {
            return Err(LdError::TooManyQuads);
        }
        let predicate = match p {
            Id::Iri(iri) => NamedNode::new_unchecked(iri.as_str()),
            // Generalized RDF is off, so json-ld emits no blank-node predicate.
            Id::Blank(_) => return Err(LdError::Invalid("a blank node as predicate".into())),
        };
        let object: Term = match o {
            rdf_types::Term::Id(id) => subject(&id).into(),
            rdf_types::Term::Literal(literal) => match literal.type_ {
                LiteralType::Any(datatype) => Literal::new_typed_literal(
                    literal.value,
                    NamedNode::new_unchecked(datatype.as_str()),
                )
                .into(),
                LiteralType::LangString(tag) => Literal::new_language_tagged_literal_unchecked(
                    literal.value,
                    tag.as_str().to_ascii_lowercase(),
                )
                .into(),
            },
        };
        let graph = match g.as_ref().map(subject) {
            None => GraphName::DefaultGraph,
            Some(NamedOrBlankNode::NamedNode(n)) => n.into(),
            Some(NamedOrBlankNode::BlankNode(b)) => b.into(),
        };
        dataset.insert(&Quad::new(subject(&s), predicate, object, graph));
    }
    Ok(dataset)
}

fn collect_keys<'a>(value: &'a Value, keys: &mut std::collections::HashSet<&'a str>) {
    match value {
        Value::Object(fields) => {
            for (key, v) in fields {
                keys.insert(key);
                collect_keys(v, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

fn subject(id: &Id<json_ld::IriBuf, json_ld::BlankIdBuf>) -> NamedOrBlankNode {
    match id {
        Id::Iri(iri) => NamedNode::new_unchecked(iri.as_str()).into(),
        Id::Blank(blank) => BlankNode::new_unchecked(blank.suffix()).into(),
    }
}

/// The key behind a key-expansion failure (an undefined term under the strict policy).
fn undefined_term(err: &json_ld::ToRdfError) -> Option<String> {
    let json_ld::ToRdfError::Expand(json_ld::ExpandError::Expansion(
        json_ld::expansion::Error::KeyExpansionFailed(term),
    )) = err
    else {
        return None;
    };
    Some(term.clone())
}

/// Refuses RDF that URDNA2015 would canonicalise slowly: too many blank nodes, or too many
/// blank nodes with the same first-degree neighbourhood (the permutation search).
fn check_complexity(dataset: &Dataset) -> Result<(), LdError> {
    let mut quads_of: HashMap<String, Vec<oxrdf::QuadRef<'_>>> = HashMap::new();
    for quad in dataset.iter() {
        let mut blanks = Vec::new();
        if let oxrdf::NamedOrBlankNodeRef::BlankNode(b) = quad.subject {
            blanks.push(b.as_str());
        }
        if let oxrdf::TermRef::BlankNode(b) = quad.object {
            blanks.push(b.as_str());
        }
        if let oxrdf::GraphNameRef::BlankNode(b) = quad.graph_name {
            blanks.push(b.as_str());
        }
        blanks.dedup();
        for b in blanks {
            quads_of.entry(b.to_owned()).or_default().push(quad);
            if quads_of.len() > MAX_BLANK_NODES {
                return Err(LdError::TooManyBlankNodes);
            }
        }
    }
    // The first-degree neighbourhood of URDNA2015: the node's quads with itself as _:a and
    // every other blank node as _:z, sorted.
    let mut twins: BTreeMap<String, usize> = BTreeMap::new();
    for (node, quads) in &quads_of {
        let mut lines: Vec<String> = quads
            .iter()
            .map(|q| {
                let mut line = String::new();
                let name = |b: &str| if b == node { "_:a" } else { "_:z" };
                match q.subject {
                    oxrdf::NamedOrBlankNodeRef::BlankNode(b) => line.push_str(name(b.as_str())),
                    s => {
                        let _ = write!(line, "{s}");
                    }
                }
                let _ = write!(line, " {} ", q.predicate);
                match q.object {
                    oxrdf::TermRef::BlankNode(b) => line.push_str(name(b.as_str())),
                    o => {
                        let _ = write!(line, "{o}");
                    }
                }
                match q.graph_name {
                    oxrdf::GraphNameRef::BlankNode(b) => {
                        line.push(' ');
                        line.push_str(name(b.as_str()));
                    }
                    oxrdf::GraphNameRef::NamedNode(n) => {
                        let _ = write!(line, " {n}");
                    }
                    oxrdf::GraphNameRef::DefaultGraph => {}
                }
                line
            })
            .collect();
        lines.sort_unstable();
        let count = twins.entry(lines.join("\n")).or_default();
        *count += 1;
        if *count > MAX_BLANK_NODE_TWINS {
            return Err(LdError::BlankNodeTwins);
        }
    }
    Ok(())
}
