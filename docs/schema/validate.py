#!/usr/bin/python3
"""Validates JSON documents against one of tqs1's schemas (Debian's
python3-jsonschema).

    validate.py SCHEMA FILE [FILE ...]      # a document a file
    validate.py --lines SCHEMA FILE         # one document a line (--watch)

Exits 1 naming the file, the place in it and what is wrong.
"""
import json
import sys

import jsonschema


def main():
    args = sys.argv[1:]
    lines = args and args[0] == "--lines"
    if lines:
        args = args[1:]
    schema = json.load(open(args[0]))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker())
    failed = False
    for path in args[1:]:
        with open(path) as f:
            docs = [json.loads(l) for l in f if l.strip()] if lines else [json.load(f)]
        for n, doc in enumerate(docs):
            for error in validator.iter_errors(doc):
                where = "/".join(str(p) for p in error.absolute_path)
                print("%s%s: /%s: %s" % (path, " line %d" % (n + 1) if lines else "",
                                         where, error.message))
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
