//! `install.sh` against a loopback HTTP server serving what `scripts/dist`
//! builds (packaging the test build of the binary, or the one
//! `TRAILCTL_TEST_BINARY` names): it installs and runs,
//! and it fails closed — a tampered archive or checksum list, an unknown
//! platform or an unreachable server installs nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scripts/dist` output in a temporary folder.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(repo().join("scripts/dist"))
        .env(
            "TRAILCTL_DIST_BINARY",
            std::env::var_os("TRAILCTL_TEST_BINARY")
                .unwrap_or_else(|| env!("CARGO_BIN_EXE_trailctl").into()),
        )
        .env("TRAILCTL_DIST_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/dist: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn archive(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an archive")
}

/// `python3 -m http.server` on a free loopback port, serving `dir`.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: String = line
            .split(" port ")
            .nth(1)
            .expect("http.server banner")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run install.sh from `url` into a fresh folder: (output, install folder).
fn install(
    url: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> (std::process::Output, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("bin");
    let mut cmd = Command::new("sh");
    cmd.arg(repo().join("install.sh"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", home.path())
        .env("TRAILCTL_DOWNLOAD_URL", url)
        .env("TRAILCTL_INSTALL_DIR", &target);
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.output().unwrap(), home)
}

fn installed(home: &tempfile::TempDir) -> bool {
    home.path().join("bin/trailctl").exists()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn installs_a_binary_that_runs_and_runs_it_after_a_double_dash() {
    let dist = dist();
    let server = Server::start(dist.path());

    let (out, home) = install(&server.url, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let binary = home.path().join("bin/trailctl");
    let version = Command::new(&binary).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("trailctl 0.1.0 (commit "));
    let err = stderr(&out);
    assert!(err.contains("is not on your PATH"), "{err}");
    assert!(err.contains("next: "), "{err}");

    let (out, home) = install(&server.url, &[], &["--", "--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("trailctl 0.1.0"));
    assert!(installed(&home));
}

#[test]
fn a_tampered_archive_or_checksum_list_installs_nothing() {
    // The archive changed after its checksum was published.
    let dist = dist();
    let path = archive(dist.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    std::fs::write(&path, bytes).unwrap();
    let server = Server::start(dist.path());
    let (out, home) = install(&server.url, &[], &["--", "--version"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the checksum did not match"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("nothing was installed"));
    assert!(!installed(&home));
    assert!(out.stdout.is_empty(), "trailctl must not have run");

    // The checksum list was changed.
    let dist = self::dist();
    let sums = dist.path().join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(&sums, format!("{}{}", "0".repeat(64), &text[64..])).unwrap();
    let server = Server::start(dist.path());
    let (out, home) = install(&server.url, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the checksum did not match"),
        "{}",
        stderr(&out)
    );
    assert!(!installed(&home));
}

#[test]
fn an_unknown_platform_or_an_unreachable_server_installs_nothing() {
    let dist = dist();
    let server = Server::start(dist.path());
    for (env, message) in [
        (
            ("TRAILCTL_OS", "Plan9"),
            "unsupported operating system 'Plan9'",
        ),
        (
            ("TRAILCTL_ARCH", "mips"),
            "unsupported CPU architecture 'mips'",
        ),
    ] {
        let (out, home) = install(&server.url, &[env], &[]);
        assert_eq!(out.status.code(), Some(1), "{env:?}");
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        assert!(!installed(&home));
    }

    // A port nothing listens on (the server's, once it is gone).
    let url = server.url.clone();
    drop(server);
    let (out, home) = install(&url, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not download"),
        "{}",
        stderr(&out)
    );
    assert!(!installed(&home));

    // A platform the release does not have an archive for.
    let server = Server::start(dist.path());
    let (out, home) = install(
        &server.url,
        &[("TRAILCTL_ARCH", "aarch64"), ("TRAILCTL_OS", "Darwin")],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not download"),
        "{}",
        stderr(&out)
    );
    assert!(!installed(&home));
}
