//! Records the commit the binary is built from, for `trailctl --version`
//! (a build outside a git checkout, a source archive, says `unknown`), and
//! packs the relocations of the static Linux build.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=TRAILCTL_COMMIT={commit}");
    pack_relative_relocations();
    // Rebuild when HEAD moves (a commit, a checkout).
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// The Linux release is a static, position-independent musl executable
/// (see `scripts/release-build`). Its start-up code relocates it, and a
/// position-independent Rust binary carries about 40,000 pointers to adjust
/// (vtables, string slices): written as one 24-byte entry each, they are
/// almost a tenth of the binary. Packed (RELR, GNU ld 2.38 or lld 15 and
/// later), they take about 11 KB. musl's start-up code reads the packed form;
/// glibc before 2.36 does not, which is why the glibc build is left alone.
fn pack_relative_relocations() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "musl" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
