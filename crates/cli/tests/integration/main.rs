//! The one integration-test binary, with topical modules.

mod common;
mod eu_dcc_testdata;
