//! Errors that decide the process exit code, matched on in `main`.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (or a plan printed with `--plan`) |
//! | 1 | an AWS call or the apply failed (what this run created was undone) |
//! | 2 | invalid input: nothing was sent to AWS |
//! | 3 | the plan was not applied: declined, or no terminal to ask and no `--yes` |
//! | 4 | a resource with trailctl's name exists but is not owned by this integration |
//! | 5 | the permission preflight found calls the caller may not make: nothing was changed |
//! | 6 | the caller's permissions could not be read (see `--skip-preflight`): nothing was changed |
//! | 10, 11, 12 | `status`: paused, disconnected, deleted (0 is active) |
//! | 130 | interrupted: a journal is kept, re-run the same command to converge |

use thiserror::Error;

/// Bad input, refused before any AWS call.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl InvalidInput {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Outcomes other than success that map to a distinct exit code.
#[derive(Debug, Error)]
pub enum Stopped {
    #[error("{0}")]
    NotConfirmed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("interrupted; a journal of this run is kept: run the same command again to converge")]
    Interrupted,
}

/// `status` reports its verdict through the exit code; it has already
/// printed everything, so this carries no message.
#[derive(Debug, Error)]
#[error("")]
pub struct VerdictCode(pub u8);

pub fn code_for(error: &anyhow::Error) -> u8 {
    if let Some(VerdictCode(code)) = error.downcast_ref::<VerdictCode>() {
        return *code;
    }
    if error.downcast_ref::<InvalidInput>().is_some() {
        return 2;
    }
    if error
        .downcast_ref::<crate::preflight::CannotRead>()
        .is_some()
    {
        return 6;
    }
    match error.downcast_ref::<Stopped>() {
        Some(Stopped::NotConfirmed(_)) => 3,
        Some(Stopped::Conflict(_)) => 4,
        Some(Stopped::PermissionDenied(_)) => 5,
        Some(Stopped::Interrupted) => 130,
        None => 1,
    }
}
