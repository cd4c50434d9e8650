//! The gateway's client.
//!
//! - [`http`]: a small HTTP/1.1 client over TCP or TLS (rustls; a client certificate for
//!   countries' mutual TLS), with a cap on every response body.
//! - [`sync`]: `trust sync` for verifiers: downloads the trust list and the revocation batches,
//!   checks every signature chain itself (governance k of n → onboarding → CSCA → DSC, and each
//!   country's CMS upload signature), and returns the [`TrustState`] a verifier uses offline.
//!   It reads no clock and touches no file: the caller passes `now` and stores the state.
//! - [`filters`]: compact revocation filters per signer key, moved forward by deltas, and the
//!   exact hashes of one partition to settle a hit.
//! - [`log`]: the gateway's transparency log: checkpoints believed only as the network's log
//!   policy says, consistency proofs from the held checkpoint, entries checked at once against
//!   a checkpoint's root (or one with its inclusion proof), and a witness's cosignature.
//! - [`upload`]: a country's CMS uploads (signer certificates, withdrawals, revocation batches).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod filters;
pub mod http;
pub mod log;
pub mod sync;
pub mod upload;

pub use http::{ClientError, ClientTls, GatewayClient};
pub use sync::{SyncError, SyncOutcome, TrustState};
