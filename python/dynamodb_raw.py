"""DynamoDB for `verify`: a raw, signed Scan (botocore only signs; the body is parsed by json.loads,
which is several times faster than botocore's shape-by-shape parsing of a million items)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from lake_reader import LakeError

MAX_ATTEMPTS = 10


class DynamoDb:
    def __init__(self, aws: dict[str, Any]):
        import botocore.session
        import urllib3
        from botocore.credentials import Credentials

        self.region = (
            aws.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        self.endpoint = (aws.get("endpoint") or f"https://dynamodb.{self.region}.amazonaws.com").rstrip("/") + "/"
        if aws.get("accessKeyId"):
            self.credentials = Credentials(
                aws["accessKeyId"], aws.get("secretAccessKey") or "", aws.get("sessionToken")
            )
        else:
            self.credentials = botocore.session.Session().get_credentials()
            if self.credentials is None:
                raise LakeError("no AWS credentials found to scan the table (set AWS_PROFILE or the AWS_* variables)")
        self.http = urllib3.PoolManager(maxsize=64, retries=False, timeout=urllib3.Timeout(connect=10, read=120))

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        data = json.dumps(body).encode("utf-8")
        for attempt in range(MAX_ATTEMPTS):
            request = AWSRequest(
                method="POST",
                url=self.endpoint,
                data=data,
                headers={
                    "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                },
            )
            SigV4Auth(self.credentials.get_frozen_credentials(), "dynamodb", self.region).add_auth(request)
            try:
                response = self.http.request("POST", self.endpoint, body=data, headers=dict(request.headers.items()))
            except Exception as err:  # connection refused, reset, timeout
                if attempt + 1 >= MAX_ATTEMPTS:
                    raise LakeError(f"cannot reach DynamoDB at {self.endpoint} ({type(err).__name__}: {err})") from None
                time.sleep(min(5.0, 0.1 * 2**attempt))
                continue
            payload = json.loads(response.data) if response.data else {}
            if response.status == 200:
                return payload
            error_type = str(payload.get("__type", "")).rsplit("#", 1)[-1]
            message = payload.get("message") or payload.get("Message") or ""
            retryable = response.status >= 500 or error_type in (
                "ProvisionedThroughputExceededException",
                "ThrottlingException",
                "RequestLimitExceeded",
            )
            if retryable and attempt + 1 < MAX_ATTEMPTS:
                time.sleep(min(5.0, 0.1 * 2**attempt))
                continue
            if error_type == "ResourceNotFoundException":
                raise LakeError(f"table {body.get('TableName')} does not exist ({message})")
            raise LakeError(f"DynamoDB {operation} failed: {error_type or response.status}: {message}")
        raise LakeError(f"DynamoDB {operation} kept failing")
