"""The round-trip benchmark (run by scripts/bench).

Runs trailctl's setup, a no-change re-run, status and delete against the
emulator behind a proxy that delays every request (default 50 ms), and the
same core pipeline built by AWS CLI calls in sequence, as vendor scripts do.
Runs it all TRAILCTL_BENCH_RUNS times (default 3), each against a fresh
emulator, and reports the medians. Then measures the binary itself: its
size and the time `trailctl --help` takes (median of 30). Prints a table and
each of the issue's targets, met or not, writes target/bench.json, and exits
1 when a target is not met.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DELAY_MS = float(os.environ.get("TRAILCTL_BENCH_DELAY_MS", "50"))
RUNS = int(os.environ.get("TRAILCTL_BENCH_RUNS", "3"))
TRAILCTL = os.environ.get("TRAILCTL_BENCH_BINARY", os.path.join(ROOT, "target/release/trailctl"))
AWS_CLI = os.environ["TRAILCTL_BENCH_AWS_CLI"]
REGION = "us-east-1"
PROXY_LOG = os.path.join(ROOT, "target/bench-requests.log")
READ_PREFIXES = ("Get", "List", "Head", "Describe", "Lookup", "Simulate")


def start(cmd, pattern):
    """Start a server and read its port from the line matching `pattern`."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        match = re.search(pattern, line)
        if match:
            # Keep reading: a server whose log pipe fills up stops answering.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, int(match.group(1))
    raise SystemExit(f"{cmd[0]} did not start")


def admin_keys(url):
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION,
                       aws_access_key_id="x", aws_secret_access_key="x")
    iam.create_user(UserName="bench")
    iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def role_session_keys(url, admin):
    """A session of a role under a path, as an IAM Identity Center sign-in in
    CloudShell is: the preflight first reads the role to learn its path."""
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=admin[0], aws_secret_access_key=admin[1])
    iam = boto3.client("iam", **kw)
    account = boto3.client("sts", **kw).get_caller_identity()["Account"]
    role = iam.create_role(RoleName="AWSReservedSSO_Bench_0123456789abcdef", Path="/aws-reserved/sso.amazonaws.com/",
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                               "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                               "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    creds = boto3.client("sts", **kw).assume_role(RoleArn=role["Arn"], RoleSessionName="bench")["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def warm_up(url):
    """One read per service before measuring: moto imports a service's backend on
    its first request (hundreds of ms), a cost real AWS does not have."""
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    boto3.client("sts", **kw).get_caller_identity()
    boto3.client("s3", **kw).list_buckets()
    boto3.client("sns", **kw).list_topics()
    boto3.client("sqs", **kw).list_queues()
    boto3.client("cloudtrail", **kw).describe_trails()
    boto3.client("iam", **kw).list_roles()
    boto3.client("lambda", **kw).list_functions()
    boto3.client("logs", **kw).describe_log_groups()
    boto3.client("ssm", **kw).describe_parameters()


def environment(keys, state_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRAILCTL_"))}
    env.update(AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1], AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_EC2_METADATA_DISABLED="true", TRAILCTL_STATE_DIR=state_dir, NO_COLOR="1")
    return env


def in_round_trips(wall):
    """Wall time in units of the delay; none without a delay (a run at 0 ms
    measures the emulator's and trailctl's own time)."""
    return round(wall * 1000 / DELAY_MS, 1) if DELAY_MS else None


def sequential_round_trips(log):
    """The longest chain of requests in which each one was sent only after the
    previous one was answered: round trips as the client waited for them,
    whatever time the emulator itself spent on each request."""
    with open(log) as f:
        requests = sorted(tuple(map(float, line.split())) for line in f if line.strip())
    open(log, "w").close()
    depth = []
    for i, (start, _) in enumerate(requests):
        before = [depth[j] for j in range(i) if requests[j][1] <= start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def trailctl(url, env, *args):
    open(PROXY_LOG, "w").close()
    started = time.perf_counter()
    out = subprocess.run([TRAILCTL, "-v", "--endpoint-url", url, *args], env=env,
                         capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode not in (0, 10, 11, 12):
        raise SystemExit(f"trailctl {' '.join(args)} failed:\n{out.stderr}")
    calls = [l.split()[-1] for l in out.stderr.splitlines() if l.startswith("aws: ")]
    depth = re.search(r"critical path: (\d+) round trips", out.stderr)
    return {
        "wall_s": round(wall, 3),
        "round_trips": in_round_trips(wall),
        "sequential_requests": sequential_round_trips(PROXY_LOG),
        "api_calls": len(calls),
        "mutating_calls": sum(1 for c in calls if not c.startswith(READ_PREFIXES)),
        "lower_bound_round_trips": int(depth.group(1)) if depth else None,
    }


def aws_cli_pipeline(url, env):
    """The core pipeline the way vendor scripts build it: one CLI process per call."""
    bucket, topic, role, trail = "vendor-logs-123456789012", "vendor-topic", "vendor-role", "vendor-trail"
    account = "123456789012"
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*"}]}
    topic_arn = f"arn:aws:sns:{REGION}:{account}:{topic}"
    topic_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish",
         "Resource": topic_arn}]}
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]}
    read = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    notification = {"TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]}]}
    steps = [
        ["sts", "get-caller-identity"],
        ["s3api", "create-bucket", "--bucket", bucket],
        ["s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration",
         "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"],
        ["s3api", "put-bucket-ownership-controls", "--bucket", bucket, "--ownership-controls",
         "Rules=[{ObjectOwnership=BucketOwnerEnforced}]"],
        ["s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration",
         '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'],
        ["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"],
        ["s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration",
         '{"Rules":[{"ID":"expire","Status":"Enabled","Filter":{},"Expiration":{"Days":365}}]}'],
        ["s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(bucket_policy)],
        ["sns", "create-topic", "--name", topic],
        ["sns", "set-topic-attributes", "--topic-arn", topic_arn, "--attribute-name", "Policy",
         "--attribute-value", json.dumps(topic_policy)],
        ["iam", "create-role", "--role-name", role, "--assume-role-policy-document", json.dumps(trust)],
        ["iam", "put-role-policy", "--role-name", role, "--policy-name", "read", "--policy-document",
         json.dumps(read)],
        ["cloudtrail", "create-trail", "--name", trail, "--s3-bucket-name", bucket,
         "--is-multi-region-trail", "--enable-log-file-validation"],
        ["cloudtrail", "put-event-selectors", "--trail-name", trail, "--event-selectors",
         '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'],
        ["cloudtrail", "start-logging", "--name", trail],
        ["s3api", "put-bucket-notification-configuration", "--bucket", bucket,
         "--notification-configuration", json.dumps(notification)],
    ]
    open(PROXY_LOG, "w").close()
    started = time.perf_counter()
    for step in steps:
        out = subprocess.run([AWS_CLI, "--endpoint-url", url, "--output", "json", *step], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"aws {' '.join(step[:2])} failed:\n{out.stderr}")
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 3), "round_trips": in_round_trips(wall),
            "sequential_requests": sequential_round_trips(PROXY_LOG), "api_calls": len(steps), "mutating_calls": len(steps) - 1, "lower_bound_round_trips": None}


def suite():
    """One run of every case against a fresh emulator and proxy."""
    moto, moto_port = start([os.path.join(ROOT, "scripts/moto-server"), "-H", "127.0.0.1", "-p", "0"],
                            r"Running on http://127.0.0.1:(\d+)")
    moto_url = f"http://127.0.0.1:{moto_port}"
    proxy, proxy_port = start([sys.executable, os.path.join(ROOT, "benches/delay_proxy.py"), moto_url,
                               str(DELAY_MS), PROXY_LOG], r"port (\d+)")
    url = f"http://127.0.0.1:{proxy_port}"
    try:
        warm_up(moto_url)
        admin = admin_keys(moto_url)
        env = environment(admin, os.path.join(ROOT, "target/bench-state"))
        session = role_session_keys(moto_url, admin)
        env_role = dict(environment(session[:2], env["TRAILCTL_STATE_DIR"]), AWS_SESSION_TOKEN=session[2])
        subprocess.run(["rm", "-rf", env["TRAILCTL_STATE_DIR"]], check=True)
        results = {}
        core = ["setup", "--collector-account", "111122223333", "--yes"]
        https = ["--delivery", "https", "--forward-url", "https://collector.example.com/ingest"]
        env_token = dict(env, TRAILCTL_FORWARD_TOKEN="bench-token")
        results["setup (core)"] = trailctl(url, env, *core)
        results["setup, no change"] = trailctl(url, env, *core)
        results["status"] = trailctl(url, env, "status")
        results["setup (sqs)"] = trailctl(url, env, "--name", "sqs", *core, "--delivery", "sqs")
        results["setup (https)"] = trailctl(url, env_token, "--name", "https", *core, *https)
        results["setup (https+cwl)"] = trailctl(url, env_token, "--name", "cwl", *core, *https,
                                                "--cloudwatch-logs")
        results["setup (https), no change"] = trailctl(url, env, "--name", "https", *core, *https)
        results["setup (core), role session"] = trailctl(url, env_role, "--name", "role", *core)
        results["delete"] = trailctl(url, env, "delete", "--delete-logs", "--yes")
        results["delete (https)"] = trailctl(url, env, "--name", "https", "delete", "--delete-logs",
                                             "--yes")
        results["AWS CLI sequence (core)"] = aws_cli_pipeline(url, env)
        return results
    finally:
        proxy.kill()
        moto.kill()


def binary_figures():
    """The binary's size and the median time of `trailctl --help` over 30
    runs (after one run that pages the binary in)."""
    subprocess.run([TRAILCTL, "--help"], capture_output=True, check=True)
    times = []
    for _ in range(30):
        started = time.perf_counter()
        subprocess.run([TRAILCTL, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return {"binary_bytes": os.path.getsize(TRAILCTL),
            "help_ms": round(statistics.median(times) * 1000, 1)}


def targets(results, ratio, binary):
    """The issue's targets: (what, measured, met)."""
    def chain_within(name):
        r = results[name]
        return (f"{name}: chain {r['sequential_requests']:g} <= 1.5 x bound {r['lower_bound_round_trips']}",
                r["sequential_requests"] <= 1.5 * r["lower_bound_round_trips"])
    checks = [chain_within("setup (core)"), chain_within("setup (core), role session"), chain_within("setup (https)"),
              chain_within("setup (https+cwl)")]
    if DELAY_MS == 50:  # the ratio's target is set at 50 ms
        checks.append((f"setup (core) >= 15x faster than the AWS CLI sequence: {ratio:.1f}x", ratio >= 15))
    for name in ("setup, no change", "setup (https), no change"):
        r = results[name]
        checks.append((f"{name}: chain {r['sequential_requests']:g} <= 3, {r['mutating_calls']:g} mutating",
                       r["sequential_requests"] <= 3 and r["mutating_calls"] == 0))
    r = results["status"]
    checks.append((f"status: chain {r['sequential_requests']:g} <= 3", r["sequential_requests"] <= 3))
    checks += [chain_within("delete"), chain_within("delete (https)")]
    mib = binary["binary_bytes"] / 2**20
    checks.append((f"--help: {binary['help_ms']:g} ms < 20 ms", binary["help_ms"] < 20))
    checks.append((f"binary: {binary['binary_bytes']:,} bytes = {mib:.2f} MiB < 10 MiB", mib < 10))
    return checks


def median_of(runs):
    """Each figure of each case: the median over the runs (the emulator and
    this 2-core machine are noisy; one run can be off by 10 %)."""
    medians = {}
    for name in runs[0]:
        medians[name] = {}
        for field, first in runs[0][name].items():
            values = [run[name][field] for run in runs]
            medians[name][field] = None if first is None else statistics.median(values)
    return medians


def main():
    runs = [suite() for _ in range(RUNS)]
    results = median_of(runs)
    ratio = results["AWS CLI sequence (core)"]["wall_s"] / results["setup (core)"]["wall_s"]
    ratios = [r["AWS CLI sequence (core)"]["wall_s"] / r["setup (core)"]["wall_s"] for r in runs]

    header = f"{'run':<30}{'wall s':>8}{'wall/RT':>9}{'chain':>7}{'bound':>7}{'calls':>7}{'mutating':>10}"
    print(f"delay per request: {DELAY_MS:g} ms; median of {RUNS} runs, each against a fresh emulator;"
          f" wall/RT = wall time in round trips; chain = the longest sequence of requests each sent after"
          f" the previous was answered; bound = the plan's dependency chain\n{header}")
    for name, r in results.items():
        bound = r["lower_bound_round_trips"] if r["lower_bound_round_trips"] is not None else "-"
        per_rt = f"{r['round_trips']:.1f}" if r["round_trips"] is not None else "-"
        print(f"{name:<30}{r['wall_s']:>8.2f}{per_rt:>9}{r['sequential_requests']:>7g}{bound:>7}"
              f"{r['api_calls']:>7g}{r['mutating_calls']:>10g}")
    print(f"AWS CLI sequence / trailctl setup: {ratio:.1f}x (medians; per run: "
          f"{', '.join(f'{x:.1f}x' for x in ratios)})")
    binary = binary_figures()
    checks = targets(results, ratio, binary)
    print(f"\ntargets ({TRAILCTL}):")
    for what, met in checks:
        print(f"  {'met    ' if met else 'NOT MET'}  {what}")
    report = {"delay_ms": DELAY_MS, "binary": TRAILCTL, "runs": results, "cli_over_trailctl": round(ratio, 2),
              "each_run": runs, "cli_over_trailctl_each_run": [round(x, 2) for x in ratios], **binary,
              "targets": [{"target": what, "met": met} for what, met in checks]}
    with open(os.path.join(ROOT, "target/bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    if not all(met for _, met in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
