//! Wire formats of health certificates, and nothing else.
//!
//! This crate turns the text scanned from a QR code into a signed container and a typed
//! payload, and back. It does no I/O, reads no clock and holds no crypto backend: a signature
//! is bytes plus a key id, checked by `healthpass-trust`.
//!
//! The EU Digital COVID Certificate chain (HCERT, `HC1:`) is
//! `prefix → Base45 → zlib → COSE_Sign1 → CWT claims → DCC payload`, one module per step:
//! [`base45`], [`zlib`], [`cose`], [`cwt`], [`dcc`]. Every decoder is strict (trailing bytes,
//! duplicate map keys and wrong types are errors), bounded (inflate has an output cap, CBOR a
//! nesting cap) and returns a typed error instead of panicking.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod base45;
mod cbor;
pub mod cose;
pub mod cwt;
pub mod dcc;
pub mod divoc;
pub mod hc1;
pub mod json;
pub mod jws;
pub mod pem;
pub mod shc;
pub mod vds;
pub mod zlib;
