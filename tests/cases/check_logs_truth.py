#!/usr/bin/env python3
"""Checks a case's logs_expected.json against the logs it describes.

logs_expected.json is written by the fixture generators (fixtures/generate/django/tools/
logs_truth.py, fixtures/generate/league/logs_truth.py) when the logs are made. This test
reads the committed logs again with fixtures/generate/lib/logtruth.py and fails if the
numbers no longer agree (a log edited or regenerated without its truth, or the reverse):
the entries of each log, and per missing relation / column (Django cases) or per ETL
template (league case) the count, first and last time and lines.
"""
import argparse
import collections
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fixtures" / "generate" / "lib"))
from logtruth import iso, parse_pg_stderr, parse_python_log  # noqa: E402
from logtemplate import template  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    args = ap.parse_args()
    case = Path(args.case)
    truth = json.loads((case / "logs_expected.json").read_text())
    failures = []

    def same(what, got, want):
        if got != want:
            failures.append("%s: the log gives %r, logs_expected.json says %r" % (what, got, want))

    logs = {}
    for spec in truth["logs"]:
        name = spec["file"]
        if name == "postgresql.log":
            zone = re.search(r"log_timezone (\S+?),? ", spec["format"] + " ")[1]
            entries = parse_pg_stderr(case / name, zone)
        else:
            entries = parse_python_log(case / name)
        logs[name] = entries
        same(name + " entries", len(entries), spec["entries"])
        same(name + " lines", entries[-1]["end_line"], spec["lines"])

    if "missing_objects" in truth:
        pg, app = logs["postgresql.log"], logs["app.log"]
        errors = [e for e in pg if e["severity"] == "ERROR"]
        same("ERROR entries", len(errors), sum(o["count"] for o in truth["missing_objects"]))
        for o in truth["missing_objects"]:
            name = o["relation"] if o["kind"] == "relation" else "%s.%s" % (o["table"], o["column"])
            needle = ('relation "%s" does not exist' % name if o["kind"] == "relation"
                      else "column %s does not exist" % name)
            es = [e for e in errors if re.sub(r" at character \d+$", "", e["message"]) == needle]
            same(name + " count", len(es), o["count"])
            if es:
                same(name + " first", iso(es[0]["ts"]), o["first"])
                same(name + " last", iso(es[-1]["ts"]), o["last"])
                same(name + " lines", (es[0]["line"], es[-1]["line"]), (o["first_line"], o["last_line"]))
                same(name + " example statement in the log",
                     o["example_statement"] in {" ".join(e["statement"].split()) for e in es}, True)
            tb = [e for e in app if e["message"].startswith("Internal Server Error: ")
                  and any(line.endswith(": " + needle) for line in e["more"])]
            same(name + " app.log 500s", len(tb), o["app_log"]["count"])
            if tb:
                same(name + " app.log first", iso(tb[0]["ts"]), o["app_log"]["first"])
                same(name + " app.log last", iso(tb[-1]["ts"]), o["app_log"]["last"])
    else:
        etl = logs["etl.log"]
        groups = collections.defaultdict(list)
        for e in etl:
            groups[template(e["message"])].append(e)
        for g in truth["etl_failures"] + [truth["repeated_batch"]]:
            es = groups.get(g["template"], [])
            same(g["template"] + " count", len(es), g["count"])
            if es:
                same(g["template"] + " first", iso(es[0]["ts"]), g["first"])
                same(g["template"] + " last", iso(es[-1]["ts"]), g["last"])
                same(g["template"] + " lines", (es[0]["line"], es[-1]["line"]), (g["first_line"], g["last_line"]))
        end = truth["repeated_batch"]["ended"]
        same("the last line of etl.log", (etl[-1]["line"], etl[-1]["message"]), (end["line"], end["message"]))
        pg_errors = [e for e in logs["postgresql.log"] if e["severity"] == "ERROR"]
        same("postgresql.log errors", [(e["line"], e["message"], e["detail"]) for e in pg_errors],
             [(e["line"], e["message"], e["detail"]) for e in truth["server_errors"]])

    print("%s: logs_expected.json checked against %s" % (case.name, ", ".join(sorted(logs))))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
