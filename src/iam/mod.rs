//! IAM policy documents: parsing what AWS returns, comparing documents by
//! meaning rather than by bytes, and diffing them statement by statement.
//! [`eval`] decides, locally, whether policies allow a call (the
//! preflight's fallback when `iam:SimulatePrincipalPolicy` is not allowed).

pub mod eval;
pub mod policy;
