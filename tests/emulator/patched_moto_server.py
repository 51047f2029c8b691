"""moto's standalone server, with fixes for three emulator bugs that trailctl's
tests run into, and two of its per-request costs that no AWS endpoint has.
Started by scripts/moto-server. All five are in moto 5.1.22.

1. iam/access_control.py: to check a SigV4 signature,
moto rebuilds the request with `data=self._body or self._data`. A request
without a body (a REST GET or DELETE, such as Lambda's GetFunction) has an
empty body, so moto hashes its parsed parameters instead of the empty
payload, and the signature never matches: every such call fails with
SignatureDoesNotMatch once IAM is enforced, whoever signs it (boto3 too).
The fix hashes the empty body the client signed.

2. sns/models.py: an SNS subscription with raw message delivery to SQS
iterates over the published message's attributes, which are None when S3
publishes its event notification, so the delivery raises and moto drops it
silently: S3 → SNS → SQS with raw delivery never delivers. The fix passes
no attributes as an empty map.

3. organizations/models.py: the services that may have a delegated
administrator omit CloudTrail (AWS added it in 2022), so
ListDelegatedAdministrators for cloudtrail.amazonaws.com fails with "an
unrecognized service principal" instead of listing none. The fix adds it.

Costs (measured with py-spy over six `trailctl setup` runs: 45 % of the
server's busy time, against 8 % in the service backends). The server handles
one request at a time (the GIL), so the benchmark's round trips (scripts/
bench) paid them once per concurrent request:

4. moto_server/werkzeug_app.py: every request lists moto's package directory
(`backends.list_of_moto_modules`, an `isdir` per service) to match its
host. The list is the same for the life of the process: it is read once.

5. werkzeug logs a line per request to the server's output, under a lock.
The start-up lines ("Running on …", which the harnesses read) are kept;
the per-request lines are not written.
"""

import sys

from werkzeug.serving import WSGIRequestHandler

from moto import backends
from moto.iam import access_control
from moto.organizations import models as organizations_models
from moto.server import main
from moto.sns import models as sns_models

_original = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    if self._body or self._method not in ("GET", "HEAD", "DELETE"):
        return _original(self)
    data, self._data = self._data, b""
    try:
        return _original(self)
    finally:
        self._data = data


access_control.IAMRequestBase._create_aws_request = _create_aws_request

_original_publish = sns_models.Subscription.publish


def _publish(self, *args, **kwargs):
    if kwargs.get("message_attributes") is None:
        kwargs["message_attributes"] = {}
    return _original_publish(self, *args, **kwargs)


sns_models.Subscription.publish = _publish

organizations_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(
    "cloudtrail.amazonaws.com"
)

_moto_modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _moto_modules

WSGIRequestHandler.log_request = lambda self, code="-", size="-": None

if __name__ == "__main__":
    sys.exit(main())
