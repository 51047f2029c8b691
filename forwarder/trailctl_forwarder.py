"""trailctl's Lambda forwarder: sends CloudTrail records to the collector's
HTTPS endpoint.

Invoked by SNS with the S3 event of a new log file (or a replayed one from
`trailctl resume`), or by a CloudWatch Logs subscription (`--cloudwatch-logs`).
For a log file it downloads the object, decompresses it and POSTs its
`Records` as JSON in batches of bounded size; digest files are skipped.
Transient HTTP errors are retried with backoff; when a batch cannot be
delivered the invocation fails, so that Lambda and SNS retry it.

Configuration comes from the environment, set by trailctl:
  TRAILCTL_FORWARD_URL       the https:// endpoint
  TRAILCTL_TOKEN_PARAMETER   the SSM SecureString parameter holding the token

Only the standard library and boto3 (in every Lambda Python runtime).
"""

import base64
import gzip
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3

# A batch's JSON body stays under this size (bytes) and record count.
MAX_BATCH_BYTES = 1_000_000
MAX_BATCH_RECORDS = 1_000
# Attempts per batch, and the first delay between them (doubling).
ATTEMPTS = 4
BACKOFF_SECONDS = 1.0
HTTP_TIMEOUT_SECONDS = 20

_token_cache = {}


class DeliveryError(Exception):
    """A batch could not be delivered: the invocation fails and is retried."""


def handler(event, context=None, sleep=time.sleep):
    """The Lambda entry point. Returns how many records were delivered."""
    if "awslogs" in event:
        return _post_records(_cloudwatch_records(event), sleep)
    delivered = 0
    for record in event.get("Records", []):
        message = json.loads(record.get("Sns", {}).get("Message", "{}"))
        for s3_record in message.get("Records", []):
            bucket = s3_record["s3"]["bucket"]["name"]
            key = urllib.parse.unquote_plus(s3_record["s3"]["object"]["key"])
            if not is_log_file(key):
                continue
            delivered += _post_records(_log_file_records(bucket, key), sleep)
    return delivered


def is_log_file(key):
    """CloudTrail log files, not digests (which S3 may also announce)."""
    return key.endswith(".json.gz") and "/CloudTrail-Digest/" not in key


def _log_file_records(bucket, key):
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return json.loads(gzip.decompress(body)).get("Records", [])


def _cloudwatch_records(event):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") != "DATA_MESSAGE":
        return []
    return [json.loads(e["message"]) for e in payload.get("logEvents", [])]


def batches(records, max_bytes=MAX_BATCH_BYTES, max_records=MAX_BATCH_RECORDS):
    """Split records into JSON bodies `{"Records": [...]}` within the bounds.
    A single record larger than `max_bytes` is sent alone."""
    batch, size = [], 0
    for record in records:
        encoded = json.dumps(record, separators=(",", ":"))
        if batch and (size + len(encoded) + 1 > max_bytes or len(batch) >= max_records):
            yield _body(batch)
            batch, size = [], 0
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield _body(batch)


def _body(encoded_records):
    return ('{"Records":[' + ",".join(encoded_records) + "]}").encode()


def _post_records(records, sleep):
    for body in batches(records):
        _post(body, sleep)
    return len(records)


def _token():
    name = os.environ.get("TRAILCTL_TOKEN_PARAMETER")
    if not name:
        return None
    if name not in _token_cache:
        parameter = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
        _token_cache[name] = parameter["Parameter"]["Value"]
    return _token_cache[name]


def _transient(status):
    return status == 429 or status >= 500


def _post(body, sleep):
    url = os.environ["TRAILCTL_FORWARD_URL"]
    headers = {"Content-Type": "application/json", "User-Agent": "trailctl-forwarder"}
    token = _token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    delay = BACKOFF_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                response.read()
                return
        except urllib.error.HTTPError as e:
            if not _transient(e.code):
                raise DeliveryError(f"the endpoint refused the batch: HTTP {e.code}") from e
            failure = f"HTTP {e.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            failure = str(e)
        if attempt < ATTEMPTS:
            sleep(delay)
            delay *= 2
    raise DeliveryError(f"the endpoint failed {ATTEMPTS} times, last with {failure}")
