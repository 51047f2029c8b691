"""moto's standalone server, with a fix for an emulator bug that trailctl's
IAM-enforced tests run into. Started by scripts/moto-server.

The bug (moto 5.1.22, iam/access_control.py): to check a SigV4 signature,
moto rebuilds the request with `data=self._body or self._data`. A request
without a body (a REST GET or DELETE, such as Lambda's GetFunction) has an
empty body, so moto hashes its parsed parameters instead of the empty
payload, and the signature never matches: every such call fails with
SignatureDoesNotMatch once IAM is enforced, whoever signs it (boto3 too).
The fix hashes the empty body the client signed.
"""

import sys

from moto.iam import access_control
from moto.server import main

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

if __name__ == "__main__":
    sys.exit(main())
