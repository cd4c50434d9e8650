//! Issuing health certificates: signing keys, HC1, SMART Health Card and ICAO VDS-NC
//! issuance, QR images and test PKIs.
//!
//! An [`Hc1Issuer`] pairs a signing key with its document signer certificate and turns a DCC
//! payload into the `HC1:` text; [`qr`] draws that text as a QR code (PNG or SVG, alphanumeric
//! mode, error correction Q); [`pki`] makes throw-away CSCA and DSC certificates for tests and
//! demos, never for production.
//!
//! The caller passes the issuing time in: nothing here reads the clock.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod hc1;
mod key;
pub mod pki;
pub mod qr;
pub mod shc;
pub mod vds;

pub use hc1::{Hc1Issuer, IssueError};
pub use key::{KeyError, SigningKey};
pub use shc::{ShcIssueError, ShcIssuer};
pub use vds::{SealIssueError, SealIssuer};
