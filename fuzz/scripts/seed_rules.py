#!/usr/bin/env python3
"""Seeds fuzz/corpus/certlogic/ and fuzz/corpus/rule/ from the CertLogic suites and the EU
business rules.

Usage: python3 fuzz/scripts/seed_rules.py [CORPUS_DIR]   (default: /work/shared/corpus)
  certlogic <- [expression, data] of every testSuite assertion, every validation-testSuite
               expression, and every rule's Logic
  rule      <- every rule.json, and the value-set files (the target also reads value sets)
Files are named by SHA-1 of their content, as libFuzzer does, so re-running is idempotent.
"""
import hashlib
import json
import pathlib
import sys

FUZZ_DIR = pathlib.Path(__file__).resolve().parent.parent
CORPUS = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpus")


def put(target: str, data: bytes, counts: dict) -> None:
    out = FUZZ_DIR / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    counts[target] = counts.get(target, 0) + 1


def main() -> None:
    counts: dict[str, int] = {}
    for path in sorted((CORPUS / "certlogic" / "testSuite").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            for assertion in case["assertions"]:
                expr = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                put("certlogic", json.dumps([expr, assertion["data"]]).encode(), counts)
    for path in sorted((CORPUS / "certlogic" / "validation-testSuite").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            put("certlogic", json.dumps(case["certLogicExpression"]).encode(), counts)
    for path in sorted((CORPUS / "eu-dcc-business-rules").rglob("rule.json")):
        text = path.read_bytes()
        put("rule", text, counts)
        put("certlogic", json.dumps(json.loads(text)["Logic"]).encode(), counts)
    for path in sorted((CORPUS / "eu-dcc-valuesets").glob("*.json")):
        put("rule", path.read_bytes(), counts)
    for target, n in sorted(counts.items()):
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main()
