//! IAM policy documents: parsing what AWS returns, comparing documents by
//! meaning rather than by bytes, and diffing them statement by statement.
//! (Permission evaluation for the preflight lives here too when it lands.)

pub mod policy;
