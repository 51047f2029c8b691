//! Bad input exits 2 with a clear message and never contacts the endpoint.

mod common;

use std::net::TcpListener;

#[test]
fn every_kind_of_bad_input_exits_2_without_contacting_the_endpoint() {
    // A listener stands in for AWS: any connection to it would be a call.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let setup = |extra: &[&str]| {
        let mut args = vec!["setup", "--collector-account", "111122223333", "--yes"];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "setup".into(),
                "--collector-account".into(),
                "12345".into(),
                "--yes".into(),
            ],
            "12 digits",
        ),
        (
            vec![
                "setup".into(),
                "--collector-account".into(),
                "1111222233334".into(),
            ],
            "12 digits",
        ),
        (setup(&["--bucket-name", "Bad_Bucket"]), "bucket name"),
        (setup(&["--bucket-name", "ab"]), "bucket name"),
        (setup(&["--bucket-name", "192.168.1.1"]), "IP address"),
        (setup(&["--retention-days", "0"]), "--retention-days"),
        (setup(&["--retention-days", "ten"]), "--retention-days"),
        (setup(&["--retention-days", "99999"]), "--retention-days"),
        (setup(&["--region", "moon-1"]), "region"),
        (setup(&["--region", "us-east"]), "region"),
        (setup(&["--name", "Has Spaces"]), "--name"),
        (setup(&["--kms-key", "alias/mine"]), "--kms-key"),
        (setup(&["--external-id", "x"]), "--external-id"),
        (
            setup(&[
                "--delivery",
                "https",
                "--forward-url",
                "http://collector.example.com/in",
            ]),
            "http:// is refused",
        ),
        (setup(&["--delivery", "https"]), "needs --forward-url"),
        (
            setup(&["--forward-url", "https://collector.example.com/in"]),
            "only used with --delivery https",
        ),
        (
            setup(&["--delivery", "sqs", "--cloudwatch-logs"]),
            "--cloudwatch-logs",
        ),
        (setup(&["--delivery", "ftp"]), "invalid value"),
        (
            setup(&[
                "--delivery",
                "https",
                "--forward-url",
                "https://user:pw@collector.example.com/",
            ]),
            "credentials in the URL",
        ),
        (
            vec!["delete".into(), "--bucket-name".into(), "UPPER".into()],
            "bucket name",
        ),
    ];
    for (args, message) in cases {
        let out = common::trailctl_binary()
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{args:?}: expected {message:?} in {stderr}"
        );
        assert!(
            matches!(listener.accept(), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{args:?} contacted the endpoint"
        );
    }
}

#[test]
fn an_endpoint_that_is_not_a_url_exits_2() {
    let out = common::trailctl_binary()
        .args([
            "--endpoint-url",
            "ftp://example",
            "--region",
            "us-east-1",
            "delete",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--endpoint-url"));
}
