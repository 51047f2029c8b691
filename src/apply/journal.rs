//! The local journal of an apply in progress.
//!
//! Before each resource is created its kind and name are written here; the
//! file is removed when the run succeeds or its rollback completes. A file
//! left behind means a run was interrupted (Ctrl-C, a crash, lost network):
//! the next run of the same integration reads it and treats those resources
//! as its own even if the ownership tag never got on them, so it converges
//! instead of refusing to touch them.

use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::resources::Kind;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Entries {
    creating: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    kind: Kind,
    name: String,
}

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    entries: Entries,
}

/// `$TRAILCTL_STATE_DIR`, else `$XDG_STATE_HOME/trailctl`, else
/// `~/.local/state/trailctl`.
fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRAILCTL_STATE_DIR") {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("trailctl");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".local/state/trailctl")
}

impl Journal {
    /// The journal of one integration in one account and region.
    pub fn open(account: &str, region: &str, integration: &str) -> anyhow::Result<Self> {
        let path = state_dir().join(format!("{account}-{region}-{integration}.journal.json"));
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "the journal {} is unreadable; remove it after checking the account",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Entries::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Self { path, entries })
    }

    /// True when an earlier run was interrupted.
    pub fn is_pending(&self) -> bool {
        !self.entries.creating.is_empty()
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The kinds an interrupted run was creating under these names.
    pub fn adopted(&self, names_of: impl Fn(Kind) -> Vec<String>) -> Vec<Kind> {
        self.entries
            .creating
            .iter()
            .filter(|e| names_of(e.kind).contains(&e.name))
            .map(|e| e.kind)
            .collect()
    }

    /// Record, durably, that `name` is about to be created.
    pub fn record_create(&mut self, kind: Kind, name: &str) -> anyhow::Result<()> {
        let entry = Entry {
            kind,
            name: name.to_owned(),
        };
        if !self.entries.creating.contains(&entry) {
            self.entries.creating.push(entry);
        }
        self.save()
    }

    fn save(&self) -> anyhow::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.entries)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// The run finished (or was fully rolled back): nothing is pending.
    pub fn close(&mut self) -> anyhow::Result<()> {
        self.entries = Entries::default();
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", self.path.display()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An interrupted run may have been creating any kind (a forwarder, a
    /// queue); the next run must be able to read its journal back.
    #[test]
    fn every_kind_reads_back() {
        let entries = Entries {
            creating: Kind::ALL
                .into_iter()
                .map(|kind| Entry {
                    kind,
                    name: format!("trailctl-{}", kind.label()),
                })
                .collect(),
        };
        let text = serde_json::to_string(&entries).unwrap();
        let back: Entries = serde_json::from_str(&text).unwrap();
        assert_eq!(back.creating, entries.creating);
    }
}
