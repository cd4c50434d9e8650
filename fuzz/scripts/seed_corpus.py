#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the EU DCC test data.

Usage: python3 fuzz/scripts/seed_corpus.py [TESTDATA_DIR]
(default: /work/shared/corpus/eu-dcc-testdata). Every *.json file below it may have
PREFIX (HC1 text), BASE45, COMPRESSED (hex), COSE (hex) and CBOR (hex). Seeds:
  verify   <- PREFIX text, and COSE bytes (the target's second input shape wraps them as HC1)
  base45   <- BASE45 text
  inflate  <- COMPRESSED bytes
  cose_cwt <- COSE bytes, and CBOR bytes (the target also decodes its input as CWT claims)
  signer_certificate <- TESTCTX.CERTIFICATE (DER), and the same as Base64 text
  scan_image <- 2DCODE (the PNG of the QR code)
Files are named by SHA-1 of their content, as libFuzzer does, so re-running is idempotent.
"""
import hashlib
import json
import pathlib
import sys

FUZZ_DIR = pathlib.Path(__file__).resolve().parent.parent
SOURCE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpus/eu-dcc-testdata")

# field -> [(target, decode)]
TEXT = lambda v: v.encode("utf-8")
HEX = lambda v: bytes.fromhex("".join(v.split()))
PLAN = {
    "PREFIX": [("verify", TEXT)],
    "BASE45": [("base45", TEXT)],
    "COMPRESSED": [("inflate", HEX)],
    "COSE": [("cose_cwt", HEX), ("verify", HEX)],
    "CBOR": [("cose_cwt", HEX)],
    "2DCODE": [("scan_image", lambda v: __import__("base64").b64decode(v))],
    "TESTCTX.CERTIFICATE": [
        ("signer_certificate", lambda v: __import__("base64").b64decode(v)),
        ("signer_certificate", TEXT),
    ],
}


def main() -> None:
    counts: dict[str, int] = {}
    files = sorted(SOURCE.rglob("*.json"))
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            print(f"skip {path}: {err}", file=sys.stderr)
            continue
        if not isinstance(doc, dict):
            continue
        for field, targets in PLAN.items():
            value = doc
            for part in field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if not isinstance(value, str) or not value:
                continue
            for target, decode in targets:
                try:
                    seed = decode(value)
                except ValueError as err:
                    print(f"skip {path} {field}: {err}", file=sys.stderr)
                    continue
                out = FUZZ_DIR / "corpus" / target
                out.mkdir(parents=True, exist_ok=True)
                name = out / hashlib.sha1(seed).hexdigest()
                if not name.exists():
                    name.write_bytes(seed)
                    counts[target] = counts.get(target, 0) + 1
    print(f"{len(files)} test files read; new seeds: {counts}")


if __name__ == "__main__":
    main()
