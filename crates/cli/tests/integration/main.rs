//! The one integration-test binary, with topical modules.

mod business_rules;
mod certlogic;
mod cli;
mod common;
mod divoc;
mod eu_dcc_testdata;
mod fixtures;
mod formats;
mod gateway_crash;
mod revocation_filter;
mod roundtrip;
mod rules_verify;
mod scan;
mod transparency;
mod trust_network;
mod trust_store;
