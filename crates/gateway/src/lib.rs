//! The trust network's gateway: a database of trust, never of people.
//!
//! The [`Registry`] holds what the gateway accepted and decides what it accepts, with the EU
//! gateway's checks: a country exists only through an onboarding record with k of n governance
//! signatures; a signer certificate (DSC) exists only through the country's own CMS upload,
//! signed by one of its upload certificates, for a DSC its CSCA issued, with its country in the
//! subject and a unique kid; a withdrawn DSC can never come back (a replayed upload is refused).
//! Every change raises the version the trust list carries. The gateway cannot add a country or
//! a key on its own: verifiers re-check every signature of the [`TrustList`] it publishes.
//!
//! The [`Registry`] decides; it does no I/O and reads no clock (`now` is passed in). The
//! [`store`] keeps every accepted change durably, and the [`server`] puts both on HTTP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod observe;
pub mod server;
pub mod store;

use store::ChangeKind;
pub mod tls;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use healthpass_network::cms::{self, CmsError};
use healthpass_network::revocation::{
    BatchDeletion, BatchError, BatchListItem, RevocationBatch, batch_id,
};
use healthpass_network::trustlist::{TrustList, TrustListEntry, WithdrawnEntry};
use healthpass_network::{
    GovernanceError, Network, SignedOnboarding, UploadSignatureError, VerifiedOnboarding,
};
use healthpass_trust::revocation::HashType;
use healthpass_trust::{SignerCertificate, verify_issued_by};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why the gateway refuses a request. Each has a stable [`code`](Self::code) for the
/// problem report; messages say what was wrong and never echo certificate content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The onboarding record does not hold (network, form, or governance signatures).
    #[error("onboarding refused: {0}")]
    Onboarding(GovernanceError),
    /// The onboarding record is not newer than the one the gateway has.
    #[error("onboarding of {country} has sequence {sequence}; the gateway has {current}")]
    OnboardingNotNewer {
        /// The country.
        country: String,
        /// The record's sequence.
        sequence: u64,
        /// The sequence held.
        current: u64,
    },
    /// The authenticated country is not onboarded.
    #[error("{0} is not onboarded")]
    NotOnboarded(String),
    /// The upload is not a valid CMS message.
    #[error("the upload is not a valid CMS message: {0}")]
    Cms(CmsError),
    /// The CMS signer is not one of the country's upload certificates.
    #[error("the upload is signed by a certificate that is not an upload certificate of {0}")]
    NotAnUploadCertificate(String),
    /// The uploaded content is not a certificate.
    #[error("the uploaded content is not an X.509 certificate: {0}")]
    NotACertificate(String),
    /// The DSC's subject names another country (or none).
    #[error("the certificate's subject country is {found}, not {country}")]
    WrongCountry {
        /// The authenticated country.
        country: String,
        /// What the subject says.
        found: String,
    },
    /// No CSCA of the country issued the DSC.
    #[error("the certificate is not issued by any CSCA of {0}")]
    NotIssuedByCsca(String),
    /// The DSC is on the list already.
    #[error("signer {0} is already on the trust list")]
    AlreadyPresent(String),
    /// The DSC was withdrawn; it cannot be uploaded again (a replay of an old upload).
    #[error("signer {0} was withdrawn and cannot be uploaded again")]
    Withdrawn(String),
    /// Another signer on the list has the same kid.
    #[error("another signer on the trust list has kid {0}")]
    KidInUse(String),
    /// The CMS has no signing-time attribute, which orders a country's uploads.
    #[error("the upload has no signing time; it is needed to order uploads")]
    SigningTimeMissing,
    /// The CMS was signed in the future.
    #[error("the upload was signed at {signed_at}, later than now ({now})")]
    SigningTimeInFuture {
        /// Its signing time.
        signed_at: Timestamp,
        /// The gateway's time.
        now: Timestamp,
    },
    /// The same signed statement (signer, content, signing time) was accepted before, in this
    /// or any other envelope: a replay. A new request with the same content (a withdrawal
    /// after its upload) must be signed at a later second.
    #[error(
        "this signed statement (same signer, content and signing time) was accepted before: a replay; a new request must be signed at a later second"
    )]
    Replayed,
    /// The CMS was signed before the country's last accepted upload: a replay of an older
    /// message, or out of order.
    #[error(
        "the upload was signed at {signed_at}, before {country}'s last accepted upload ({last}): a replay or out of order"
    )]
    OutOfOrder {
        /// The country.
        country: String,
        /// Its signing time.
        signed_at: Timestamp,
        /// The last accepted signing time.
        last: Timestamp,
    },
    /// A withdrawal for a signer that is not on the list (or belongs to another country).
    #[error("signer {0} is not on the trust list of this country")]
    UnknownSigner(String),
    /// The revocation batch is not valid.
    #[error("the revocation batch is refused: {0}")]
    Batch(BatchError),
    /// The revocation batch expired already.
    #[error("the revocation batch expired at {expires}, before now ({now})")]
    BatchExpired {
        /// Its expiry.
        expires: Timestamp,
        /// The gateway's time.
        now: Timestamp,
    },
    /// The value-set release does not hold (form, network, or governance signatures).
    #[error("value sets refused: {0}")]
    ValueSets(GovernanceError),
    /// The value-set release is not newer than the one the gateway has.
    #[error("value-set release {sequence} is not above the current release {current}")]
    ValueSetsNotNewer {
        /// The release's sequence.
        sequence: u64,
        /// The sequence held.
        current: u64,
    },
    /// The rule is not a valid rule object.
    #[error("the rule is refused: {0}")]
    Rule(String),
    /// The rule breaks one of the gateway's timing constraints.
    #[error("the rule is refused: {0}")]
    RuleTiming(String),
    /// The rule's version is not above the last one of its identifier.
    #[error("rule {identifier} version {version} is not above the last version {last}")]
    RuleVersionNotNewer {
        /// The rule.
        identifier: String,
        /// Its version.
        version: String,
        /// The last version accepted.
        last: String,
    },
    /// A deletion names a rule the country does not have.
    #[error("rule {0} is not a current rule of this country")]
    UnknownRule(String),
    /// The TLS client certificate is no onboarded country's authentication certificate.
    #[error(
        "the TLS client certificate is not the authentication certificate of an onboarded country"
    )]
    UnknownClientCertificate,
    /// A deletion names a batch the country does not have (or deleted already).
    #[error("revocation batch {0} is not a current batch of this country")]
    UnknownBatch(String),
    /// A revocation-filters statement is not the gateway's own, or not in its one form.
    #[error("revocation filters statement refused: {0}")]
    Filters(String),
}

impl GatewayError {
    /// The problem code (`"onboarding_invalid"`, `"upload_not_signed_by_country"`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Onboarding(_) => "onboarding_invalid",
            Self::OnboardingNotNewer { .. } => "onboarding_not_newer",
            Self::NotOnboarded(_) => "country_not_onboarded",
            Self::Cms(_) => "cms_invalid",
            Self::NotAnUploadCertificate(_) => "upload_not_signed_by_country",
            Self::NotACertificate(_) => "not_a_certificate",
            Self::WrongCountry { .. } => "wrong_country",
            Self::NotIssuedByCsca(_) => "not_issued_by_csca",
            Self::AlreadyPresent(_) => "signer_exists",
            Self::Withdrawn(_) => "signer_withdrawn",
            Self::KidInUse(_) => "kid_in_use",
            Self::UnknownSigner(_) => "signer_unknown",
            Self::SigningTimeMissing => "signing_time_missing",
            Self::SigningTimeInFuture { .. } => "signing_time_in_future",
            Self::OutOfOrder { .. } => "out_of_order",
            Self::Replayed => "replayed",
            Self::Batch(_) => "batch_invalid",
            Self::BatchExpired { .. } => "batch_expired",
            Self::UnknownBatch(_) => "batch_unknown",
            Self::UnknownClientCertificate => "client_certificate_unknown",
            Self::Rule(_) => "rule_invalid",
            Self::ValueSets(_) => "value_sets_invalid",
            Self::ValueSetsNotNewer { .. } => "value_sets_not_newer",
            Self::RuleTiming(_) => "rule_timing",
            Self::RuleVersionNotNewer { .. } => "rule_version_not_newer",
            Self::UnknownRule(_) => "rule_unknown",
            Self::Filters(_) => "filters_invalid",
        }
    }

    /// The problem report: `{"code", "problem"}`.
    pub fn problem_report(&self) -> ProblemReport {
        ProblemReport {
            code: self.code(),
            problem: self.to_string(),
        }
    }
}

/// A client error as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemReport {
    /// Stable code.
    pub code: &'static str,
    /// What was wrong.
    pub problem: String,
}

#[derive(Debug, Clone)]
struct Country {
    signed: SignedOnboarding,
    verified: VerifiedOnboarding,
    /// Signing time of the last upload accepted from the country.
    last_upload: Option<Timestamp>,
    /// The version that accepted this record.
    version: u64,
}

/// The country column of changes that belong to the whole network (value sets): ISO 3166
/// reserves `ZZ` for user assignment, and no country has it.
pub const NETWORK_COUNTRY: &str = "ZZ";

/// How far in the future an upload's signing time may be (clocks drift).
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

#[derive(Debug, Clone)]
struct Signer {
    entry: TrustListEntry,
    withdrawn_at: Option<Timestamp>,
    /// The country's withdrawal request (CMS DER), published with the withdrawal.
    withdrawal: Option<Vec<u8>>,
    /// The version of its last change (upload, or withdrawal).
    version: u64,
}

/// What the gateway holds, and the checks that guard it.
#[derive(Debug)]
pub struct Registry {
    network: Network,
    version: u64,
    countries: BTreeMap<String, Country>,
    /// By thumbprint; withdrawn signers stay as tombstones.
    signers: BTreeMap<String, Signer>,
    /// Revocation batches by id; deleted ones stay as tombstones.
    batches: BTreeMap<String, Batch>,
    /// The version of the last batch upload or deletion.
    revocations_version: u64,
    /// The current value-set release.
    value_sets: Option<healthpass_network::SignedValueSets>,
    /// Rules by identifier: every version accepted, in order; deleted ones are gone.
    rules: BTreeMap<String, Vec<StoredRule>>,
    /// The signed digest of every CMS message accepted: the same signed statement twice is a
    /// replay, whatever its envelope. (Signing times have one-second resolution, so a burst
    /// of uploads may share one: order alone cannot tell a replay.)
    accepted_cms: std::collections::HashSet<[u8; 32]>,
    /// The last revocation-filters statement: its log index and what it says.
    logged_filters: Option<(u64, healthpass_network::revocation::LoggedFilters)>,
}

/// One version of a rule the gateway accepted.
#[derive(Debug, Clone)]
struct StoredRule {
    country: String,
    version: healthpass_rules::SemVer,
    valid_from: Timestamp,
    valid_to: Timestamp,
    cms: Vec<u8>,
}

/// A revocation batch the gateway accepted.
#[derive(Debug, Clone)]
struct Batch {
    item: BatchListItem,
    /// The CMS as uploaded.
    cms: Vec<u8>,
    /// What it revokes, read once when it was accepted.
    revoked: RevokedHashes,
}

/// A batch's revocations, decoded: what the revocation filters are built of.
#[derive(Debug, Clone)]
struct RevokedHashes {
    /// The signer's kid (Base64); `None` for `UNKNOWN_KID`.
    kid: Option<String>,
    hash_type: HashType,
    expires: Timestamp,
    hashes: Vec<[u8; 16]>,
}

impl RevokedHashes {
    /// From a batch that passed [`RevocationBatch::from_json`]'s checks (hash type known,
    /// every hash 16 bytes of Base64).
    fn of(batch: &RevocationBatch) -> Result<Self, GatewayError> {
        let hash_type = HashType::parse(&batch.hash_type)
            .ok_or_else(|| GatewayError::Batch(BatchError::HashType(batch.hash_type.clone())))?;
        Ok(Self {
            kid: batch
                .kid()
                .map_err(GatewayError::Batch)?
                .map(|_| batch.kid.clone()),
            hash_type,
            expires: batch.expires,
            hashes: batch
                .entries
                .iter()
                .filter_map(|e| B64.decode(&e.hash).ok()?.try_into().ok())
                .collect(),
        })
    }
}

impl Registry {
    /// An empty gateway for `network`.
    pub fn new(network: Network) -> Self {
        Self {
            network,
            version: 0,
            countries: BTreeMap::new(),
            signers: BTreeMap::new(),
            batches: BTreeMap::new(),
            revocations_version: 0,
            logged_filters: None,
            rules: BTreeMap::new(),
            value_sets: None,
            accepted_cms: std::collections::HashSet::new(),
        }
    }

    /// The current version: it rises with every accepted change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Checks a change of `kind` from `country` (the one its TLS client certificate
    /// authenticated; ignored for onboarding, whose record names its country) without
    /// applying it. The gateway stores the change durably between this and [`commit`](Self::commit).
    pub fn prepare(
        &self,
        kind: ChangeKind,
        country: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        match kind {
            ChangeKind::Onboarding => {
                let text = std::str::from_utf8(body).map_err(|_| {
                    GatewayError::Onboarding(GovernanceError::Format {
                        what: "onboarding record",
                        problem: "not UTF-8".into(),
                    })
                })?;
                let signed = SignedOnboarding::from_json(text).map_err(GatewayError::Onboarding)?;
                self.prepare_onboarding(signed)
            }
            ChangeKind::Upload => self.prepare_upload(country, body, now),
            ChangeKind::Withdrawal => self.prepare_withdrawal(country, body, now),
            ChangeKind::RevocationBatch => self.prepare_batch(country, body, now),
            ChangeKind::RevocationDeletion => self.prepare_batch_deletion(country, body, now),
            ChangeKind::Rule => self.prepare_rule(country, body, now),
            ChangeKind::ValueSets => {
                let text = std::str::from_utf8(body).map_err(|_| {
                    GatewayError::ValueSets(GovernanceError::Format {
                        what: "value-set release",
                        problem: "not UTF-8".into(),
                    })
                })?;
                let signed = healthpass_network::SignedValueSets::from_json(text)
                    .map_err(GatewayError::ValueSets)?;
                self.prepare_value_sets(signed, now)
            }
            ChangeKind::RuleDeletion => self.prepare_rule_deletion(country, body, now),
            // The gateway's own statement (it has no route): no country sends it, and it
            // changes nothing the list shows. Whether its digests are the filters of the
            // batches in force is for auditors (`healthpass log verify` rebuilds them).
            ChangeKind::RevocationFilters => {
                if !country.is_empty() && country != NETWORK_COUNTRY {
                    return Err(GatewayError::Filters(format!(
                        "sent for country {country:?}; only the gateway states its filters"
                    )));
                }
                let logged = healthpass_network::revocation::LoggedFilters::from_json(body)
                    .map_err(|e| GatewayError::Filters(e.to_string()))?;
                Ok(Prepared {
                    // The network's own, as value sets.
                    country: NETWORK_COUNTRY.to_owned(),
                    change: PreparedChange::Filters(logged),
                    accepted_at: now,
                    upload: None,
                })
            }
        }
    }

    /// Applies a prepared change; returns the new version. `prepared` must come from
    /// [`prepare`](Self::prepare) on this registry with no commit in between.
    pub fn commit(&mut self, prepared: Prepared) -> u64 {
        self.version += 1;
        let version = self.version;
        let Prepared {
            country,
            change,
            accepted_at,
            upload,
        } = prepared;
        if let Some((signed_at, digest)) = upload {
            self.accepted_cms.insert(digest);
            if let Some(c) = self.countries.get_mut(&country) {
                c.last_upload = Some(signed_at);
            }
        }
        match change {
            PreparedChange::Onboarding(mut record) => {
                record.last_upload = self.countries.get(&country).and_then(|c| c.last_upload);
                record.version = version;
                self.countries.insert(country, *record);
            }
            PreparedChange::Signer(entry) => {
                self.signers.insert(
                    entry.thumbprint.clone(),
                    Signer {
                        entry,
                        withdrawn_at: None,
                        withdrawal: None,
                        version,
                    },
                );
            }
            PreparedChange::Withdrawal { thumbprint, cms } => {
                if let Some(s) = self.signers.get_mut(&thumbprint) {
                    s.withdrawn_at = Some(accepted_at);
                    s.withdrawal = Some(cms);
                    s.version = version;
                }
            }
            PreparedChange::Batch { id, cms, revoked } => {
                let item = BatchListItem {
                    batch_id: id.clone(),
                    country,
                    date: accepted_at,
                    deleted: false,
                    version,
                };
                self.revocations_version = version;
                self.batches.insert(id, Batch { item, cms, revoked });
            }
            PreparedChange::Rule(rule) => {
                self.rules.entry(rule.0.clone()).or_default().push(rule.1);
            }
            PreparedChange::ValueSets(release) => self.value_sets = Some(*release),
            PreparedChange::RuleDeletion(identifier) => {
                self.rules.remove(&identifier);
            }
            PreparedChange::Filters(logged) => {
                self.logged_filters = Some((version - 1, logged));
            }
            PreparedChange::BatchDeletion(id) => {
                self.revocations_version = version;
                if let Some(b) = self.batches.get_mut(&id) {
                    b.item.deleted = true;
                    b.item.date = accepted_at;
                    b.item.version = version;
                }
            }
        }
        version
    }

    /// Checks and applies a change ([`prepare`](Self::prepare), then [`commit`](Self::commit));
    /// returns the new version. The gateway server stores the change between the two.
    pub fn apply(
        &mut self,
        kind: ChangeKind,
        country: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<u64, GatewayError> {
        let prepared = self.prepare(kind, country, body, now)?;
        Ok(self.commit(prepared))
    }

    /// Onboards a country, or replaces its record with a newer one. The record must carry
    /// k of n valid governance signatures; the gateway's operator cannot add a country alone.
    pub fn onboard(&mut self, signed: SignedOnboarding) -> Result<u64, GatewayError> {
        let prepared = self.prepare_onboarding(signed)?;
        Ok(self.commit(prepared))
    }

    fn prepare_onboarding(&self, signed: SignedOnboarding) -> Result<Prepared, GatewayError> {
        let verified = signed
            .verify(&self.network)
            .map_err(GatewayError::Onboarding)?;
        let country = verified.record.country.clone();
        if let Some(current) = self.countries.get(&country)
            && current.verified.record.sequence >= verified.record.sequence
        {
            return Err(GatewayError::OnboardingNotNewer {
                country,
                sequence: verified.record.sequence,
                current: current.verified.record.sequence,
            });
        }
        let issued_at = verified.record.issued_at;
        Ok(Prepared {
            country,
            change: PreparedChange::Onboarding(Box::new(Country {
                signed,
                verified,
                last_upload: None,
                version: 0,
            })),
            accepted_at: issued_at,
            upload: None,
        })
    }

    /// Checks a CMS message from `country`: the country is onboarded, the CMS verifies, its
    /// signer is one of the country's upload certificates, it was not accepted before, and it
    /// was signed no earlier than the country's last accepted upload (and not in the future).
    /// Returns the content, the signing time and the message's signed digest.
    fn checked_cms(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<(Vec<u8>, Timestamp, [u8; 32]), GatewayError> {
        let onboarded = self
            .countries
            .get(country)
            .ok_or_else(|| GatewayError::NotOnboarded(country.to_owned()))?;
        let verified = onboarded
            .verified
            .certificates
            .verify_upload(cms_der, None)
            .map_err(|e| match e {
                UploadSignatureError::Cms(e) => GatewayError::Cms(e),
                _ => GatewayError::NotAnUploadCertificate(country.to_owned()),
            })?;
        let signed_at = verified
            .signing_time
            .ok_or(GatewayError::SigningTimeMissing)?;
        if now
            .checked_add(CLOCK_SKEW)
            .is_ok_and(|limit| signed_at > limit)
        {
            return Err(GatewayError::SigningTimeInFuture { signed_at, now });
        }
        if self.accepted_cms.contains(&verified.signed_digest) {
            return Err(GatewayError::Replayed);
        }
        if let Some(last) = onboarded.last_upload
            && signed_at < last
        {
            return Err(GatewayError::OutOfOrder {
                country: country.to_owned(),
                signed_at,
                last,
            });
        }
        Ok((verified.content, signed_at, verified.signed_digest))
    }

    /// Checks a CMS upload of a DSC from `country` ([`checked_cms`](Self::checked_cms)) and
    /// returns the DSC with its signing time: a DSC of that country issued by one of its CSCAs.
    fn checked_upload(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<(SignerCertificate, Vec<u8>, Timestamp, [u8; 32]), GatewayError> {
        let (content, signed_at, key) = self.checked_cms(country, cms_der, now)?;
        let certificates = &self.countries[country].verified.certificates;
        let dsc = SignerCertificate::from_der(&content)
            .map_err(|e| GatewayError::NotACertificate(e.to_string()))?;
        if dsc.country() != Some(country) {
            return Err(GatewayError::WrongCountry {
                country: country.to_owned(),
                found: dsc.country().unwrap_or("missing").to_owned(),
            });
        }
        if !certificates
            .csca
            .iter()
            .any(|ca| verify_issued_by(&dsc, ca).is_ok())
        {
            return Err(GatewayError::NotIssuedByCsca(country.to_owned()));
        }
        Ok((dsc, content, signed_at, key))
    }

    /// A DSC from a country's CMS upload (`country` is the one its TLS client certificate
    /// authenticated).
    fn prepare_upload(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        let (dsc, der, signed_at, key) = self.checked_upload(country, cms_der, now)?;
        let thumbprint = dsc.thumbprint().to_owned();
        match self.signers.get(&thumbprint) {
            Some(s) if s.withdrawn_at.is_some() => {
                return Err(GatewayError::Withdrawn(thumbprint));
            }
            Some(_) => return Err(GatewayError::AlreadyPresent(thumbprint)),
            None => {}
        }
        let kid = B64.encode(dsc.kid());
        if self
            .signers
            .values()
            .any(|s| s.withdrawn_at.is_none() && s.entry.kid == kid)
        {
            return Err(GatewayError::KidInUse(kid));
        }
        let detached = cms::detach(cms_der).map_err(GatewayError::Cms)?;
        let entry = TrustListEntry::new(&der, country, &detached, now)
            .map_err(|e| GatewayError::NotACertificate(e.to_string()))?;
        Ok(Prepared::upload(
            country,
            PreparedChange::Signer(entry),
            now,
            signed_at,
            key,
        ))
    }

    /// Withdraws a DSC: the CMS (signed like an upload, after it) carries the DSC to
    /// withdraw. It leaves the trust list for good.
    fn prepare_withdrawal(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        let (dsc, _, signed_at, key) = self.checked_upload(country, cms_der, now)?;
        let thumbprint = dsc.thumbprint().to_owned();
        match self.signers.get(&thumbprint) {
            Some(s) if s.entry.country == country && s.withdrawn_at.is_none() => {
                Ok(Prepared::upload(
                    country,
                    PreparedChange::Withdrawal {
                        thumbprint,
                        cms: cms_der.to_vec(),
                    },
                    now,
                    signed_at,
                    key,
                ))
            }
            _ => Err(GatewayError::UnknownSigner(thumbprint)),
        }
    }

    /// The trust list: every onboarding record with its governance signatures, and every
    /// signer on the list with its country's upload signature.
    pub fn trust_list(&self) -> TrustList {
        self.trust_list_since(0)
    }

    /// The changes after version `since` (the whole list for 0): onboarding records accepted,
    /// signers added, and signers withdrawn since then. A verifier that holds the list at
    /// `since` and applies this has the current list.
    pub fn trust_list_since(&self, since: u64) -> TrustList {
        TrustList {
            network: self.network.name.clone(),
            version: self.version,
            since: (since > 0).then_some(since),
            onboardings: self
                .countries
                .values()
                .filter(|c| c.version > since)
                .map(|c| c.signed.clone())
                .collect(),
            signers: self
                .signers
                .values()
                .filter(|s| s.withdrawn_at.is_none() && s.version > since)
                .map(|s| s.entry.clone())
                .collect(),
            withdrawn: self
                .signers
                .values()
                .filter(|s| s.version > since)
                .filter_map(|s| {
                    Some(WithdrawnEntry {
                        kid: s.entry.kid.clone(),
                        thumbprint: s.entry.thumbprint.clone(),
                        country: s.entry.country.clone(),
                        withdrawn_at: s.withdrawn_at?,
                        signature: B64.encode(s.withdrawal.as_deref()?),
                    })
                })
                .collect(),
        }
    }

    /// The signers on the list of one country (EU `/trustList/DSC/{country}`).
    pub fn country_signers(&self, country: &str) -> Vec<TrustListEntry> {
        self.signers
            .values()
            .filter(|s| s.withdrawn_at.is_none() && s.entry.country == country)
            .map(|s| s.entry.clone())
            .collect()
    }

    /// A revocation batch from a country's CMS upload: a valid batch of that country, not
    /// expired, for one of its signers (current or withdrawn) or `UNKNOWN_KID`.
    fn prepare_batch(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        let (content, signed_at, key) = self.checked_cms(country, cms_der, now)?;
        let batch = RevocationBatch::from_json(&content).map_err(GatewayError::Batch)?;
        if batch.country != country {
            return Err(GatewayError::WrongCountry {
                country: country.to_owned(),
                found: batch.country,
            });
        }
        if batch.expires <= now {
            return Err(GatewayError::BatchExpired {
                expires: batch.expires,
                now,
            });
        }
        if batch.kid().map_err(GatewayError::Batch)?.is_some()
            && !self
                .signers
                .values()
                .any(|s| s.entry.country == country && s.entry.kid == batch.kid)
        {
            return Err(GatewayError::UnknownSigner(batch.kid));
        }
        let id = batch_id(&key);
        if self.batches.contains_key(&id) {
            return Err(GatewayError::AlreadyPresent(id));
        }
        let change = PreparedChange::Batch {
            id,
            cms: cms_der.to_vec(),
            revoked: RevokedHashes::of(&batch)?,
        };
        Ok(Prepared::upload(country, change, now, signed_at, key))
    }

    /// Deletes a revocation batch: the CMS (signed like an upload) carries `{"batchId"}`.
    fn prepare_batch_deletion(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        let (content, signed_at, key) = self.checked_cms(country, cms_der, now)?;
        let deletion: BatchDeletion = serde_json::from_slice(&content)
            .map_err(|e| GatewayError::Batch(BatchError::Format(e.to_string())))?;
        match self.batches.get(&deletion.batch_id) {
            Some(b) if b.item.country == country && !b.item.deleted => Ok(Prepared::upload(
                country,
                PreparedChange::BatchDeletion(deletion.batch_id),
                now,
                signed_at,
                key,
            )),
            _ => Err(GatewayError::UnknownBatch(deletion.batch_id)),
        }
    }

    /// The revocation batches changed after version `since` (all with 0), deleted ones
    /// included, in id order.
    pub fn batch_list(&self, since: u64) -> Vec<BatchListItem> {
        self.batches
            .values()
            .filter(|b| b.item.version > since)
            .map(|b| b.item.clone())
            .collect()
    }

    /// The revoked hashes of each signer key (kid, Base64) in the batches in force at `now`:
    /// not deleted, not expired. Batches for `UNKNOWN_KID` are left out (a verifier cannot
    /// pick their filter by the certificate's key). What the revocation filters are built of.
    pub fn revoked_hashes(&self, now: Timestamp) -> BTreeMap<String, Vec<(HashType, [u8; 16])>> {
        let mut by_kid: BTreeMap<String, Vec<(HashType, [u8; 16])>> = BTreeMap::new();
        for batch in self.batches.values() {
            let revoked = &batch.revoked;
            let Some(kid) = &revoked.kid else { continue };
            if batch.item.deleted || revoked.expires <= now {
                continue;
            }
            by_kid
                .entry(kid.clone())
                .or_default()
                .extend(revoked.hashes.iter().map(|h| (revoked.hash_type, *h)));
        }
        by_kid
    }

    /// The version of the last change to the revocation batches (an upload or a deletion):
    /// the revocation filters change only with it (and with time, as batches expire).
    pub fn revocations_version(&self) -> u64 {
        self.revocations_version
    }

    /// The last revocation-filters statement in the log: its index and what it says.
    pub fn logged_filters(&self) -> Option<(u64, &healthpass_network::revocation::LoggedFilters)> {
        self.logged_filters.as_ref().map(|(i, f)| (*i, f))
    }

    /// A batch's CMS as uploaded, and whether it was deleted.
    pub fn batch(&self, id: &str) -> Option<(&[u8], bool)> {
        self.batches
            .get(id)
            .map(|b| (b.cms.as_slice(), b.item.deleted))
    }

    /// The country whose authentication certificate is `certificate_der` (the TLS client
    /// certificate, byte for byte, as the onboarding record lists it).
    pub fn authenticate(&self, certificate_der: &[u8]) -> Result<&str, GatewayError> {
        self.countries
            .iter()
            .find(|(_, c)| {
                c.verified
                    .certificates
                    .authentication
                    .iter()
                    .any(|a| a.der() == certificate_der)
            })
            .map(|(code, _)| code.as_str())
            .ok_or(GatewayError::UnknownClientCertificate)
    }

    /// A rule version from a country's CMS upload, with the EU gateway's checks: a valid rule
    /// object of that country (identifier, type and country constraints included), its
    /// version above the identifier's last, `ValidTo` at least 72 hours after `ValidFrom`,
    /// `ValidFrom` within two weeks, at least 48 hours ahead for an acceptance rule and in the
    /// future for an invalidation rule, and not before the previous version's.
    fn prepare_rule(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        use healthpass_rules::RuleType;
        use jiff::SignedDuration;
        let (content, signed_at, key) = self.checked_cms(country, cms_der, now)?;
        let text = std::str::from_utf8(&content)
            .map_err(|_| GatewayError::Rule("the rule is not UTF-8".into()))?;
        let rule = healthpass_rules::Rule::from_json_str(text)
            .map_err(|e| GatewayError::Rule(e.to_string()))?;
        if rule.country != country {
            return Err(GatewayError::WrongCountry {
                country: country.to_owned(),
                found: rule.country,
            });
        }
        let timing = |problem: &str| Err(GatewayError::RuleTiming(problem.to_owned()));
        if rule.valid_to < rule.valid_from + SignedDuration::from_hours(72) {
            return timing("ValidTo must be at least 72 hours after ValidFrom");
        }
        if rule.valid_from > now + SignedDuration::from_hours(24 * 14) {
            return timing("ValidFrom must be within two weeks from now");
        }
        match rule.rule_type {
            RuleType::Acceptance if rule.valid_from < now + SignedDuration::from_hours(48) => {
                return timing("an acceptance rule's ValidFrom must be at least 48 hours ahead");
            }
            RuleType::Invalidation if rule.valid_from <= now => {
                return timing("an invalidation rule's ValidFrom must be in the future");
            }
            _ => {}
        }
        if let Some(last) = self.rules.get(&rule.identifier).and_then(|v| v.last()) {
            if rule.version <= last.version {
                return Err(GatewayError::RuleVersionNotNewer {
                    identifier: rule.identifier,
                    version: rule.version.to_string(),
                    last: last.version.to_string(),
                });
            }
            if rule.valid_from < last.valid_from {
                return timing("ValidFrom must not be before the previous version's");
            }
        }
        let stored = StoredRule {
            country: country.to_owned(),
            version: rule.version,
            valid_from: rule.valid_from,
            valid_to: rule.valid_to,
            cms: cms_der.to_vec(),
        };
        Ok(Prepared::upload(
            country,
            PreparedChange::Rule(Box::new((rule.identifier, stored))),
            now,
            signed_at,
            key,
        ))
    }

    /// Deletes every version of a rule: the CMS (signed like an upload) carries its
    /// identifier.
    fn prepare_rule_deletion(
        &self,
        country: &str,
        cms_der: &[u8],
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        let (content, signed_at, key) = self.checked_cms(country, cms_der, now)?;
        let identifier = String::from_utf8_lossy(&content).trim().to_owned();
        match self.rules.get(&identifier).and_then(|v| v.first()) {
            Some(r) if r.country == country => Ok(Prepared::upload(
                country,
                PreparedChange::RuleDeletion(identifier),
                now,
                signed_at,
                key,
            )),
            _ => Err(GatewayError::UnknownRule(identifier)),
        }
    }

    /// The rules to distribute at `now`, per country and identifier: every version still in
    /// force or to come, without versions a later one has replaced by now.
    pub fn rule_list(&self, now: Timestamp) -> healthpass_network::rules::RuleList {
        use base64::Engine;
        let mut list = healthpass_network::rules::RuleList::new();
        for (identifier, versions) in &self.rules {
            // The latest version in force replaces the earlier ones.
            let current = versions.iter().rposition(|r| r.valid_from <= now);
            let entries: Vec<_> = versions
                .iter()
                .enumerate()
                .filter(|(i, r)| r.valid_to > now && current.is_none_or(|c| *i >= c))
                .map(|(_, r)| healthpass_network::rules::RuleEntry {
                    version: r.version.to_string(),
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                    cms: base64::engine::general_purpose::STANDARD.encode(&r.cms),
                })
                .collect();
            if let (false, Some(first)) = (entries.is_empty(), versions.first()) {
                list.entry(first.country.clone())
                    .or_default()
                    .insert(identifier.clone(), entries);
            }
        }
        list
    }

    /// A value-set release: k of n governance signatures, and a higher sequence than the
    /// current release.
    fn prepare_value_sets(
        &self,
        signed: healthpass_network::SignedValueSets,
        now: Timestamp,
    ) -> Result<Prepared, GatewayError> {
        signed
            .verify(&self.network)
            .map_err(GatewayError::ValueSets)?;
        if let Some(current) = &self.value_sets
            && current.release.sequence >= signed.release.sequence
        {
            return Err(GatewayError::ValueSetsNotNewer {
                sequence: signed.release.sequence,
                current: current.release.sequence,
            });
        }
        Ok(Prepared {
            // The network's own, no country's: stored under the placeholder code.
            country: NETWORK_COUNTRY.to_owned(),
            change: PreparedChange::ValueSets(Box::new(signed)),
            accepted_at: now,
            upload: None,
        })
    }

    /// The current value-set release, with its governance signatures.
    pub fn value_sets(&self) -> Option<&healthpass_network::SignedValueSets> {
        self.value_sets.as_ref()
    }

    /// The registry's gauges for `/metrics`.
    pub fn gauges(&self) -> observe::Gauges {
        let withdrawn = self
            .signers
            .values()
            .filter(|s| s.withdrawn_at.is_some())
            .count();
        observe::Gauges {
            version: self.version,
            countries: self.countries.len(),
            signers: self.signers.len() - withdrawn,
            withdrawn,
            batches: self.batches.values().filter(|b| !b.item.deleted).count(),
        }
    }

    /// The onboarded countries.
    pub fn countries(&self) -> Vec<&str> {
        self.countries.keys().map(String::as_str).collect()
    }
}

/// A change that passed every check, ready to [`commit`](Registry::commit).
#[derive(Debug)]
pub struct Prepared {
    country: String,
    change: PreparedChange,
    accepted_at: Timestamp,
    /// For a CMS upload: its signing time and digest.
    upload: Option<(Timestamp, [u8; 32])>,
}

#[derive(Debug)]
enum PreparedChange {
    Onboarding(Box<Country>),
    Signer(TrustListEntry),
    Withdrawal {
        thumbprint: String,
        cms: Vec<u8>,
    },
    Batch {
        id: String,
        cms: Vec<u8>,
        revoked: RevokedHashes,
    },
    BatchDeletion(String),
    Rule(Box<(String, StoredRule)>),
    RuleDeletion(String),
    ValueSets(Box<healthpass_network::SignedValueSets>),
    Filters(healthpass_network::revocation::LoggedFilters),
}

impl Prepared {
    fn upload(
        country: &str,
        change: PreparedChange,
        now: Timestamp,
        signed_at: Timestamp,
        signed_digest: [u8; 32],
    ) -> Self {
        Self {
            country: country.to_owned(),
            change,
            accepted_at: now,
            upload: Some((signed_at, signed_digest)),
        }
    }

    /// The country the change concerns (an onboarding record's own).
    pub fn country(&self) -> &str {
        &self.country
    }

    /// The id of a revocation batch upload.
    pub fn batch_id(&self) -> Option<&str> {
        match &self.change {
            PreparedChange::Batch { id, .. } => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthpass_issue::pki::{TestPki, TestPkiOptions, generate_test_pki};
    use healthpass_network::cms::UploadSigner;
    use healthpass_network::{GovernanceKey, OnboardingRecord};

    fn t() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    struct Country {
        code: &'static str,
        pki: TestPki,
    }

    impl Country {
        fn new(code: &'static str) -> Self {
            let make = || generate_test_pki(&TestPkiOptions::new(code, t())).unwrap();
            Self { code, pki: make() }
        }

        fn upload_signer(&self) -> UploadSigner {
            UploadSigner::new(&self.pki.upload_key_pem, &self.pki.upload_cert_der).unwrap()
        }

        fn record(&self, network: &Network, sequence: u64) -> SignedOnboarding {
            let csca =
                healthpass_trust::TrustStore::parse_certificates(self.pki.csca_cert_pem.as_bytes());
            let upload = std::slice::from_ref(&self.pki.upload_cert_der);
            SignedOnboarding::unsigned(
                OnboardingRecord::new(network, self.code, sequence, t(), &csca, upload, upload)
                    .unwrap(),
            )
        }
    }

    fn network() -> (Network, [GovernanceKey; 3]) {
        let keys = [(); 3].map(|()| GovernanceKey::generate().unwrap());
        let network = Network::new(
            "test-net",
            2,
            keys.iter().map(GovernanceKey::public).collect(),
        )
        .unwrap();
        (network, keys)
    }

    fn signed(
        mut record: SignedOnboarding,
        network: &Network,
        keys: &[GovernanceKey],
    ) -> SignedOnboarding {
        for key in keys {
            record.sign(key, network).unwrap();
        }
        record
    }

    #[test]
    fn onboarding_needs_k_of_n_and_only_moves_forward() {
        let (network, keys) = network();
        let at = Country::new("AT");
        let mut gateway = Registry::new(network.clone());
        let err = gateway
            .onboard(signed(at.record(&network, 1), &network, &keys[..1]))
            .unwrap_err();
        assert_eq!(err.code(), "onboarding_invalid");
        assert!(
            err.to_string()
                .contains("1 valid governance signature(s), 2 required"),
            "{err}"
        );
        assert_eq!(gateway.version(), 0);
        assert_eq!(
            gateway.onboard(signed(at.record(&network, 1), &network, &keys[1..])),
            Ok(1)
        );
        let again = gateway
            .onboard(signed(at.record(&network, 1), &network, &keys[..2]))
            .unwrap_err();
        assert_eq!(again.code(), "onboarding_not_newer");
        assert_eq!(
            gateway.onboard(signed(at.record(&network, 2), &network, &keys[..2])),
            Ok(2)
        );
        assert_eq!(gateway.countries(), ["AT"]);
    }

    /// `minutes` after the start of the test data.
    fn at(minutes: i64) -> Timestamp {
        t() + jiff::SignedDuration::from_mins(minutes)
    }

    #[test]
    fn uploads_follow_the_eu_gateway_checks_and_withdrawals_are_final() {
        let (network, keys) = network();
        let (at_c, de) = (Country::new("AT"), Country::new("DE"));
        let now = at(60);
        let mut gateway = Registry::new(network.clone());
        gateway
            .onboard(signed(at_c.record(&network, 1), &network, &keys[..2]))
            .unwrap();
        gateway
            .onboard(signed(de.record(&network, 1), &network, &keys[..2]))
            .unwrap();
        let dsc = &at_c.pki.dsc_cert_der;
        let upload = at_c.upload_signer().sign_at(dsc, false, at(1)).unwrap();

        assert_eq!(gateway.apply(ChangeKind::Upload, "AT", &upload, now), Ok(3));
        assert_eq!(gateway.country_signers("AT").len(), 1);
        // A verifier trusts exactly that signer, having checked every chain itself.
        let list = gateway
            .trust_list()
            .verify(&network, &BTreeMap::new())
            .unwrap();
        assert!(list.rejected.is_empty(), "{:?}", list.rejected);
        assert_eq!(list.signers.len(), 1);
        assert_eq!(list.signers[0].der(), dsc.as_slice());

        let code = |r: Result<u64, GatewayError>| r.unwrap_err().code();
        let at_upload = |content: &[u8], minute| {
            at_c.upload_signer()
                .sign_at(content, false, at(minute))
                .unwrap()
        };
        // Replaying the accepted upload: refused. Signed later: already there.
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &upload, now)),
            "replayed"
        );
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &at_upload(dsc, 2), now)),
            "signer_exists"
        );
        // DE's connection uploading AT's CMS: not DE's upload certificate.
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "DE", &at_upload(dsc, 3), now)),
            "upload_not_signed_by_country"
        );
        // DE signs AT's DSC with its own upload key: the DSC is not DE's.
        let as_de = de.upload_signer().sign_at(dsc, false, at(3)).unwrap();
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "DE", &as_de, now)),
            "wrong_country"
        );
        // A DSC that no CSCA of AT issued.
        let rogue = generate_test_pki(&TestPkiOptions::new("AT", t())).unwrap();
        assert_eq!(
            code(gateway.apply(
                ChangeKind::Upload,
                "AT",
                &at_upload(&rogue.dsc_cert_der, 4),
                now
            )),
            "not_issued_by_csca"
        );
        // Signed by a key that is not an upload key, or not signed at all, or without a time.
        let wrong_key = UploadSigner::new(&at_c.pki.dsc_key_pem, dsc).unwrap();
        let wrong = wrong_key.sign_at(dsc, false, at(5)).unwrap();
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &wrong, now)),
            "upload_not_signed_by_country"
        );
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", dsc, now)),
            "cms_invalid"
        );
        let untimed = at_c.upload_signer().sign(dsc, false).unwrap();
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &untimed, now)),
            "signing_time_missing"
        );
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &at_upload(dsc, 120), now)),
            "signing_time_in_future"
        );
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "FR", &upload, now)),
            "country_not_onboarded"
        );
        // Content that is not a certificate.
        assert_eq!(
            code(gateway.apply(
                ChangeKind::Upload,
                "AT",
                &at_upload(b"not a certificate", 6),
                now
            )),
            "not_a_certificate"
        );
        assert_eq!(gateway.version(), 3, "refusals change nothing");

        // Withdrawal: gone from the list, and the old upload cannot be replayed.
        let withdraw = at_upload(dsc, 10);
        assert_eq!(
            gateway
                .apply(ChangeKind::Withdrawal, "DE", &withdraw, now)
                .unwrap_err()
                .code(),
            "upload_not_signed_by_country"
        );
        // The original upload replayed as a withdrawal request.
        assert_eq!(
            gateway
                .apply(ChangeKind::Withdrawal, "AT", &upload, now)
                .unwrap_err()
                .code(),
            "replayed"
        );
        // A new message signed before the last accepted one: out of order.
        let early = at_c.upload_signer().sign_at(dsc, false, at(0)).unwrap();
        assert_eq!(
            gateway
                .apply(ChangeKind::Withdrawal, "AT", &early, now)
                .unwrap_err()
                .code(),
            "out_of_order"
        );
        assert_eq!(
            gateway.apply(ChangeKind::Withdrawal, "AT", &withdraw, now),
            Ok(4)
        );
        assert!(gateway.trust_list().signers.is_empty());
        assert_eq!(
            code(gateway.apply(ChangeKind::Upload, "AT", &at_upload(dsc, 11), now)),
            "signer_withdrawn"
        );
        assert_eq!(
            gateway
                .apply(ChangeKind::Withdrawal, "AT", &at_upload(dsc, 12), now)
                .unwrap_err()
                .code(),
            "signer_unknown"
        );
        let report =
            serde_json::to_value(GatewayError::Withdrawn("ab".into()).problem_report()).unwrap();
        assert_eq!(
            report,
            serde_json::json!({"code": "signer_withdrawn", "problem": "signer ab was withdrawn and cannot be uploaded again"})
        );
    }

    #[test]
    fn a_second_signer_with_the_same_kid_is_refused() {
        // Two DSCs with the same kid need a SHA-256 prefix collision; the check is exercised
        // through the trust list entries instead: the kid index sees only active signers.
        let (network, keys) = network();
        let at = Country::new("AT");
        let mut gateway = Registry::new(network.clone());
        gateway
            .onboard(signed(at.record(&network, 1), &network, &keys[..2]))
            .unwrap();
        let sign = |minute| {
            at.upload_signer()
                .sign_at(&at.pki.dsc_cert_der, false, self::at(minute))
                .unwrap()
        };
        gateway
            .apply(ChangeKind::Upload, "AT", &sign(1), self::at(2))
            .unwrap();
        let entry = gateway.country_signers("AT").remove(0);
        // Plant a different signer under the same kid, as a colliding certificate would be.
        let mut planted = gateway.signers.values().next().unwrap().clone();
        planted.entry.thumbprint = "ff".repeat(32);
        gateway
            .signers
            .insert(planted.entry.thumbprint.clone(), planted);
        gateway.signers.remove(&entry.thumbprint);
        assert_eq!(
            gateway
                .apply(ChangeKind::Upload, "AT", &sign(3), self::at(4))
                .unwrap_err(),
            GatewayError::KidInUse(entry.kid)
        );
    }

    /// A 2-of-3 network with AT and DE onboarded.
    fn at_and_de() -> (Network, [GovernanceKey; 3], Country, Country, Registry) {
        let (network, keys) = network();
        let (at_c, de) = (Country::new("AT"), Country::new("DE"));
        let mut gateway = Registry::new(network.clone());
        for c in [&at_c, &de] {
            gateway
                .onboard(signed(c.record(&network, 1), &network, &keys[..2]))
                .unwrap();
        }
        (network, keys, at_c, de, gateway)
    }

    #[test]
    fn revocation_batches_are_the_countrys_own_and_deletions_final() {
        use healthpass_network::revocation::verify_batch;
        use healthpass_trust::revocation::HashType;
        let (network, keys) = network();
        let (at_c, de) = (Country::new("AT"), Country::new("DE"));
        let now = at(60);
        let mut gateway = Registry::new(network.clone());
        for c in [&at_c, &de] {
            gateway
                .onboard(signed(c.record(&network, 1), &network, &keys[..2]))
                .unwrap();
        }
        let dsc = SignerCertificate::from_der(&at_c.pki.dsc_cert_der).unwrap();
        let sign = |c: &Country, content: &[u8], minute| {
            c.upload_signer()
                .sign_at(content, false, at(minute))
                .unwrap()
        };
        gateway
            .apply(
                ChangeKind::Upload,
                "AT",
                &sign(&at_c, &at_c.pki.dsc_cert_der, 1),
                now,
            )
            .unwrap();
        let expires = at(60 * 24 * 365);
        let batch = |country: &str, kid, expires| {
            RevocationBatch::new(country, expires, kid, HashType::Uci, &[[9; 16]]).to_json()
        };
        let code = |r: Result<u64, GatewayError>| r.unwrap_err().code();

        // Uploads and onboardings leave the revocations (and so the filters) as they are.
        assert_eq!(gateway.revocations_version(), 0);
        let cms = sign(&at_c, &batch("AT", Some(dsc.kid()), expires), 2);
        let accepted = gateway
            .apply(ChangeKind::RevocationBatch, "AT", &cms, now)
            .unwrap();
        assert_eq!(gateway.revocations_version(), accepted);
        let revoked = gateway.revoked_hashes(now);
        assert_eq!(
            revoked.get(&base64::Engine::encode(&B64, dsc.kid())),
            Some(&vec![(HashType::Uci, [9; 16])])
        );
        assert!(
            gateway.revoked_hashes(expires).is_empty(),
            "expired batches drop out"
        );
        let id = gateway.batch_list(0)[0].batch_id.clone();
        // The replay is refused; so are a batch naming another country, another country's
        // signer or an unknown one, an expired batch, and a malformed one.
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "AT", &cms, now)),
            "replayed"
        );
        // The same signed batch in another envelope (SignedData version 1 → 3, which the
        // signature does not cover; found by the gateway_prepare fuzz target's author) is the
        // same statement: still a replay, and the same batch id.
        let enveloped = reenvelope(&cms);
        assert_ne!(enveloped, cms);
        let a = cms::verify(&cms, None).unwrap();
        let b = cms::verify(&enveloped, None).unwrap();
        assert_eq!(a.signed_digest, b.signed_digest);
        assert_eq!(batch_id(&b.signed_digest), id);
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "AT", &enveloped, now)),
            "replayed"
        );
        let de_batch = sign(&de, &batch("AT", None, expires), 3);
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "DE", &de_batch, now)),
            "wrong_country"
        );
        let foreign_kid = sign(&de, &batch("DE", Some(dsc.kid()), expires), 4);
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "DE", &foreign_kid, now)),
            "signer_unknown"
        );
        let expired = sign(&at_c, &batch("AT", None, at(30)), 5);
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "AT", &expired, now)),
            "batch_expired"
        );
        let junk = sign(&at_c, b"{}", 6);
        assert_eq!(
            code(gateway.apply(ChangeKind::RevocationBatch, "AT", &junk, now)),
            "batch_invalid"
        );

        // A verifier checks the served CMS against AT's upload certificates.
        let list = gateway
            .trust_list()
            .verify(&network, &BTreeMap::new())
            .unwrap();
        let items = gateway.batch_list(0);
        assert_eq!(items.len(), 1);
        let (served, deleted) = gateway.batch(&id).unwrap();
        assert!(!deleted);
        let checked = verify_batch(&items[0], served, &list.countries).unwrap();
        assert_eq!(checked.hashes().unwrap(), [[9; 16]]);
        // Listed under another country, or with another id, it is refused.
        let mut moved = items[0].clone();
        moved.country = "DE".into();
        assert!(verify_batch(&moved, served, &list.countries).is_err());
        let mut renamed = items[0].clone();
        renamed.batch_id = batch_id(&[0; 32]);
        assert!(verify_batch(&renamed, served, &list.countries).is_err());

        // Deletion: only by its country, once.
        let deletion =
            |c: &Country, minute| sign(c, format!(r#"{{"batchId":"{id}"}}"#).as_bytes(), minute);
        assert_eq!(
            gateway
                .apply(ChangeKind::RevocationDeletion, "DE", &deletion(&de, 7), now)
                .unwrap_err()
                .code(),
            "batch_unknown"
        );
        let version = gateway
            .apply(
                ChangeKind::RevocationDeletion,
                "AT",
                &deletion(&at_c, 8),
                now,
            )
            .unwrap();
        assert_eq!(gateway.batch(&id).map(|(_, d)| d), Some(true));
        assert_eq!(gateway.revocations_version(), version);
        assert!(
            gateway.revoked_hashes(now).is_empty(),
            "deleted batches drop out"
        );
        assert!(gateway.batch_list(version - 1)[0].deleted);
        assert!(gateway.batch_list(version).is_empty());
        assert_eq!(
            gateway
                .apply(
                    ChangeKind::RevocationDeletion,
                    "AT",
                    &deletion(&at_c, 9),
                    now
                )
                .unwrap_err()
                .code(),
            "batch_unknown"
        );
    }

    #[test]
    fn a_delta_holds_what_changed_after_a_version() {
        let (network, keys, at_c, de, mut gateway) = at_and_de();
        let sign = |c: &Country, minute| {
            c.upload_signer()
                .sign_at(&c.pki.dsc_cert_der, false, at(minute))
                .unwrap()
        };
        gateway
            .apply(ChangeKind::Upload, "AT", &sign(&at_c, 1), at(60))
            .unwrap();
        gateway
            .apply(ChangeKind::Upload, "DE", &sign(&de, 1), at(60))
            .unwrap();
        assert_eq!(gateway.version(), 4);
        let delta = gateway.trust_list_since(3);
        assert_eq!(delta.since, Some(3));
        assert!(delta.onboardings.is_empty());
        assert_eq!(delta.signers.len(), 1);
        assert_eq!(delta.signers[0].country, "DE");
        assert_eq!(gateway.trust_list_since(4).signers.len(), 0);

        gateway
            .apply(ChangeKind::Withdrawal, "AT", &sign(&at_c, 2), at(60))
            .unwrap();
        let delta = gateway.trust_list_since(4);
        assert!(delta.signers.is_empty());
        assert_eq!(delta.withdrawn.len(), 1);
        assert_eq!(delta.withdrawn[0].country, "AT");
        // A newer onboarding record of DE appears in the delta after it.
        gateway
            .onboard(signed(de.record(&network, 2), &network, &keys[1..]))
            .unwrap();
        let delta = gateway.trust_list_since(5);
        assert_eq!(delta.onboardings.len(), 1);
        assert_eq!(delta.onboardings[0].record.country, "DE");
        assert_eq!(gateway.country_signers("DE").len(), 1);
        assert!(gateway.country_signers("AT").is_empty());
        // The whole list is the delta since 0.
        assert_eq!(gateway.trust_list_since(0), gateway.trust_list());
        assert_eq!(gateway.trust_list().since, None);
    }

    fn rule_json(id: &str, version: &str, valid_from: Timestamp, days: i64) -> Vec<u8> {
        let valid_to = valid_from + jiff::SignedDuration::from_hours(24 * days);
        let rule_type = if id.starts_with("IR") {
            "Invalidation"
        } else {
            "Acceptance"
        };
        let certificate_type = if id.starts_with("IR") {
            "General"
        } else {
            "Vaccination"
        };
        let country = &id[3..5];
        serde_json::json!({
            "Identifier": id, "Type": rule_type, "Country": country, "Version": version,
            "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.0.0",
            "CertificateType": certificate_type,
            "Description": [{"lang": "en", "desc": "At least two doses must have been given."}],
            "ValidFrom": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "ValidTo": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "AffectedFields": ["v.0.dn"],
            "Logic": {">=": [{"var": "payload.v.0.dn"}, 2]}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn rules_follow_the_eu_gateway_constraints() {
        use healthpass_network::rules::verify_rule;
        let (network, _, at_c, de, mut gateway) = at_and_de();
        let now = at(60);
        let mut minute = 0;
        let mut sign = |c: &Country, content: &[u8]| {
            minute += 1;
            c.upload_signer()
                .sign_at(content, false, at(minute))
                .unwrap()
        };
        let hours = |h: i64| now + jiff::SignedDuration::from_hours(h);
        let code = |r: Result<u64, GatewayError>| r.unwrap_err().code();

        let v1 = sign(&at_c, &rule_json("VR-AT-0001", "1.0.0", hours(72), 30));
        assert_eq!(gateway.apply(ChangeKind::Rule, "AT", &v1, now), Ok(3));
        // Another country's rule; too soon; too short; too far ahead; not newer; malformed.
        let de_sends_at = sign(&de, &rule_json("VR-AT-0002", "1.0.0", hours(72), 30));
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "DE", &de_sends_at, now)),
            "wrong_country"
        );
        let soon = sign(&at_c, &rule_json("VR-AT-0003", "1.0.0", hours(24), 30));
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "AT", &soon, now)),
            "rule_timing"
        );
        let short = sign(&at_c, &rule_json("VR-AT-0003", "1.0.0", hours(72), 2));
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "AT", &short, now)),
            "rule_timing"
        );
        let far = sign(&at_c, &rule_json("VR-AT-0003", "1.0.0", hours(24 * 15), 30));
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "AT", &far, now)),
            "rule_timing"
        );
        let same = sign(&at_c, &rule_json("VR-AT-0001", "1.0.0", hours(80), 30));
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "AT", &same, now)),
            "rule_version_not_newer"
        );
        let junk = sign(&at_c, b"{\"Identifier\": 1}");
        assert_eq!(
            code(gateway.apply(ChangeKind::Rule, "AT", &junk, now)),
            "rule_invalid"
        );
        // An invalidation rule may start an hour from now.
        let ir = sign(&at_c, &rule_json("IR-AT-0001", "1.0.0", hours(1), 30));
        assert_eq!(gateway.apply(ChangeKind::Rule, "AT", &ir, now), Ok(4));
        let v2 = sign(&at_c, &rule_json("VR-AT-0001", "1.1.0", hours(96), 30));
        assert_eq!(gateway.apply(ChangeKind::Rule, "AT", &v2, now), Ok(5));

        // Listed with both versions until v2 applies; then v2 only. A verifier checks each.
        let verified = gateway
            .trust_list()
            .verify(&network, &BTreeMap::new())
            .unwrap();
        let listed = gateway.rule_list(now);
        assert_eq!(listed["AT"]["VR-AT-0001"].len(), 2);
        for (id, versions) in &listed["AT"] {
            for entry in versions {
                let (rule, _) = verify_rule("AT", id, entry, &verified.countries).unwrap();
                assert_eq!(&rule.identifier, id);
            }
        }
        let entry = &listed["AT"]["VR-AT-0001"][0];
        assert!(verify_rule("DE", "VR-AT-0001", entry, &verified.countries).is_err());
        assert!(verify_rule("AT", "VR-AT-0009", entry, &verified.countries).is_err());
        let later = gateway.rule_list(hours(100));
        assert_eq!(later["AT"]["VR-AT-0001"].len(), 1);
        assert_eq!(later["AT"]["VR-AT-0001"][0].version, "1.1.0");

        // Deletion by the country only.
        assert_eq!(
            code(gateway.apply(
                ChangeKind::RuleDeletion,
                "DE",
                &sign(&de, b"VR-AT-0001"),
                now
            )),
            "rule_unknown"
        );
        assert_eq!(
            gateway.apply(
                ChangeKind::RuleDeletion,
                "AT",
                &sign(&at_c, b"VR-AT-0001"),
                now
            ),
            Ok(6)
        );
        assert!(!gateway.rule_list(now)["AT"].contains_key("VR-AT-0001"));
    }

    /// Only the gateway states its revocation filters (no country can), in the statement's one
    /// form; it changes nothing the list shows but the version, and the registry remembers the
    /// last one (a replay restores it, so a restart does not log the same filters again).
    #[test]
    fn filter_statements_are_the_gateways_own() {
        use healthpass_network::revocation::{FilterInfo, LoggedFilters};
        let (network, _) = network();
        let mut gateway = Registry::new(network);
        let statement = LoggedFilters {
            filters: vec![FilterInfo {
                kid: "AAAAAAAAAAA=".into(),
                count: 1,
                universe_bits: 28,
                digest: "00".repeat(32),
            }],
        };
        let body = statement.to_json();
        let refused = gateway
            .apply(ChangeKind::RevocationFilters, "AT", &body, t())
            .unwrap_err();
        assert_eq!(refused.code(), "filters_invalid");
        let mut spaced = b" ".to_vec();
        spaced.extend_from_slice(&body);
        assert_eq!(
            gateway
                .apply(ChangeKind::RevocationFilters, "", &spaced, t())
                .unwrap_err()
                .code(),
            "filters_invalid"
        );
        assert_eq!(gateway.logged_filters(), None);
        assert_eq!(
            gateway.apply(ChangeKind::RevocationFilters, "", &body, t()),
            Ok(1)
        );
        // Replayed from the store, under the network's placeholder country.
        assert_eq!(
            gateway.apply(ChangeKind::RevocationFilters, NETWORK_COUNTRY, &body, t()),
            Ok(2)
        );
        assert_eq!(gateway.logged_filters(), Some((1, &statement)));
        assert_eq!(gateway.revocations_version(), 0);
        assert!(gateway.trust_list().signers.is_empty());
    }

    #[test]
    fn value_sets_need_k_of_n_and_only_move_forward() {
        use healthpass_network::{SignedValueSets, ValueSetRelease};
        let (network, keys) = network();
        let mut gateway = Registry::new(network.clone());
        let release = |sequence, signers: &[GovernanceKey]| {
            let mut signed = SignedValueSets::unsigned(ValueSetRelease {
                network: network.name.clone(),
                sequence,
                issued_at: t(),
                value_sets: [("x".to_owned(), serde_json::json!({"valueSetId": "x"}))].into(),
            });
            for key in signers {
                signed.sign(key, &network).unwrap();
            }
            signed
        };
        let code = |r: Result<u64, GatewayError>| r.unwrap_err().code();
        assert_eq!(
            code(gateway.apply(
                ChangeKind::ValueSets,
                "",
                release(1, &keys[..1]).to_json().as_bytes(),
                t()
            )),
            "value_sets_invalid"
        );
        assert_eq!(
            gateway.apply(
                ChangeKind::ValueSets,
                "",
                release(1, &keys[1..]).to_json().as_bytes(),
                t()
            ),
            Ok(1)
        );
        assert_eq!(
            code(gateway.apply(
                ChangeKind::ValueSets,
                "",
                release(1, &keys[..2]).to_json().as_bytes(),
                t()
            )),
            "value_sets_not_newer"
        );
        assert_eq!(
            gateway.apply(
                ChangeKind::ValueSets,
                "",
                release(2, &keys[..2]).to_json().as_bytes(),
                t()
            ),
            Ok(2)
        );
        assert_eq!(gateway.value_sets().unwrap().release.sequence, 2);
        // The network's own change, under the placeholder country.
        let prepared = gateway
            .prepare(
                ChangeKind::ValueSets,
                "",
                release(3, &keys[..2]).to_json().as_bytes(),
                t(),
            )
            .unwrap();
        assert_eq!(prepared.country(), NETWORK_COUNTRY);
    }

    /// The message with its SignedData version changed from 1 to 3: outside what the
    /// signature covers.
    fn reenvelope(cms_der: &[u8]) -> Vec<u8> {
        const SIGNED_DATA_OID: [u8; 11] = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
        ];
        let oid = cms_der
            .windows(SIGNED_DATA_OID.len())
            .position(|w| w == SIGNED_DATA_OID)
            .unwrap();
        let version = oid
            + cms_der[oid..]
                .windows(3)
                .position(|w| w == [0x02, 0x01, 0x01])
                .unwrap();
        let mut out = cms_der.to_vec();
        out[version + 2] = 3;
        out
    }
}
