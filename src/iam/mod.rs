//! IAM policy documents: parsing what AWS returns, comparing documents by
//! meaning rather than by bytes, and diffing them statement by statement
//! ([`policy`]). [`bundled`] is the custom-role policy trailctl ships;
//! [`eval`] decides locally whether policies allow a call (the preflight's
//! fallback when `iam:SimulatePrincipalPolicy` is not allowed).

pub mod bundled;
pub mod eval;
pub mod policy;
