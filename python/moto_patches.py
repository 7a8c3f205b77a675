"""Fixes for bugs in moto, applied by moto_server.py before the server starts.

The local stack runs moto (DynamoDB, DynamoDB Streams, S3) in place of AWS. Where moto behaves
differently from AWS in a way our pipeline can see, the fix goes here, as a patch applied inside
``apply()``; each patch names the moto version and the behaviour it corrects, and has a test that
fails without it. Known to need one: moto's corruption of binary (B / BS) values in stream records.
Keep patches narrow and idempotent (``apply()`` may be called more than once).
"""


def apply() -> None:
    """Apply every moto fix. None yet."""
