"""Tests of the Lambda forwarder against the emulator's S3 and SSM and a
local HTTP endpoint on loopback (run by scripts/test)."""

import base64
import gzip
import http.server
import json
import os
import re
import subprocess
import sys
import threading

import boto3
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import trailctl_forwarder as forwarder  # noqa: E402

BUCKET = "logs"
PREFIX = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/"


@pytest.fixture(scope="module")
def emulator():
    """A fresh moto server on a free loopback port for this module."""
    server = os.path.join(os.path.dirname(__file__), "../../scripts/moto-server")
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        match = re.search(r"Running on http://127.0.0.1:(\d+)", line)
        if match:
            break
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    yield f"http://127.0.0.1:{match.group(1)}"
    proc.kill()


@pytest.fixture
def aws(emulator, monkeypatch):
    for key, value in {"AWS_ENDPOINT_URL": emulator, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("ssm").put_parameter(Name="/trailctl/test/forward-token", Value="s3cret",
                                      Type="SecureString", Overwrite=True)
    monkeypatch.setenv("TRAILCTL_TOKEN_PARAMETER", "/trailctl/test/forward-token")
    forwarder._token_cache.clear()
    return s3


class Endpoint:
    """A loopback HTTP endpoint that records each POST and answers with the
    next status in `statuses` (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests.append((dict(self.headers), json.loads(body)))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ingest"

    def records(self):
        return [r for _, body in self.requests for r in body["Records"]]


@pytest.fixture
def endpoint(monkeypatch):
    def make(statuses=()):
        e = Endpoint(statuses)
        monkeypatch.setenv("TRAILCTL_FORWARD_URL", e.url)
        return e
    return make


def put_log_file(s3, key, count):
    records = [{"eventVersion": "1.09", "eventID": f"id-{i}", "eventName": "GetObject"}
               for i in range(count)]
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return records


def sns_event(*keys):
    """The event Lambda receives from SNS for S3 notifications of `keys`."""
    message = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}} for key in keys]}
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message)}}]}


def no_sleep(_seconds):
    pass


def test_a_log_file_with_n_records_arrives_as_n_records(aws, endpoint):
    e = endpoint()
    key = PREFIX + "123456789012_CloudTrail_us-east-1_20261124T0000Z_abc.json.gz"
    records = put_log_file(aws, key, 25)
    assert forwarder.handler(sns_event(key), sleep=no_sleep) == 25
    assert e.records() == records
    headers = e.requests[0][0]
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"


def test_a_url_encoded_key_is_decoded(aws, endpoint):
    e = endpoint()
    key = PREFIX + "file with space.json.gz"
    put_log_file(aws, key, 2)
    assert forwarder.handler(sns_event(key.replace(" ", "+")), sleep=no_sleep) == 2
    assert len(e.records()) == 2


def test_digest_files_are_skipped(aws, endpoint):
    e = endpoint()
    digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/24/x_CloudTrail-Digest_x.json.gz"
    put_log_file(aws, digest, 3)
    assert forwarder.handler(sns_event(digest), sleep=no_sleep) == 0
    assert e.requests == []


def test_records_are_posted_in_bounded_batches(aws, endpoint):
    e = endpoint()
    key = PREFIX + "big.json.gz"
    records = put_log_file(aws, key, 2500)
    assert forwarder.handler(sns_event(key), sleep=no_sleep) == 2500
    assert [len(body["Records"]) for _, body in e.requests] == [1000, 1000, 500]
    assert e.records() == records


def test_batches_respect_the_byte_limit():
    records = [{"eventVersion": "1.09", "pad": "x" * 100} for _ in range(10)]
    bodies = list(forwarder.batches(records, max_bytes=400))
    assert all(len(b) <= 400 + len('{"Records":[]}') for b in bodies)
    assert sum(len(json.loads(b)["Records"]) for b in bodies) == 10
    assert len(bodies) > 1


def test_a_transient_error_is_retried_then_delivered(aws, endpoint):
    e = endpoint(statuses=[503, 502])
    key = PREFIX + "retry.json.gz"
    put_log_file(aws, key, 4)
    slept = []
    assert forwarder.handler(sns_event(key), sleep=slept.append) == 4
    assert len(e.requests) == 3
    assert slept == [1.0, 2.0]


def test_a_5xx_that_persists_fails_the_invocation(aws, endpoint):
    e = endpoint(statuses=[500] * forwarder.ATTEMPTS)
    key = PREFIX + "down.json.gz"
    put_log_file(aws, key, 1)
    with pytest.raises(forwarder.DeliveryError, match="failed 4 times"):
        forwarder.handler(sns_event(key), sleep=no_sleep)
    assert len(e.requests) == forwarder.ATTEMPTS


def test_a_4xx_is_not_retried_and_fails_the_invocation(aws, endpoint):
    e = endpoint(statuses=[401])
    key = PREFIX + "denied.json.gz"
    put_log_file(aws, key, 1)
    with pytest.raises(forwarder.DeliveryError, match="HTTP 401"):
        forwarder.handler(sns_event(key), sleep=no_sleep)
    assert len(e.requests) == 1


def test_a_cloudwatch_logs_payload_is_decoded(aws, endpoint):
    e = endpoint()
    events = [{"eventVersion": "1.09", "eventID": f"cw-{i}"} for i in range(3)]
    payload = {"messageType": "DATA_MESSAGE", "logGroup": "/trailctl/test/cloudtrail",
               "logEvents": [{"id": str(i), "timestamp": 0, "message": json.dumps(ev)}
                             for i, ev in enumerate(events)]}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}
    assert forwarder.handler(event, sleep=no_sleep) == 3
    assert e.records() == events


def test_a_cloudwatch_logs_control_message_sends_nothing(aws, endpoint):
    e = endpoint()
    payload = {"messageType": "CONTROL_MESSAGE", "logEvents": [{"message": "CWL CONTROL MESSAGE"}]}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}
    assert forwarder.handler(event, sleep=no_sleep) == 0
    assert e.requests == []
