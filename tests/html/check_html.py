#!/usr/bin/env python3
"""`--format html` in a real browser (Debian's headless Chromium, over the DevTools protocol).

For every fixture case (each folder of fixtures/cases with an expected.json, as the case tests
take them), `dbautopsy investigate CASE --out DIR` writes report.html beside report.json; the
page is loaded from its file in headless Chromium, and the test fails when:
  - the page asks for any URL other than its own file (Network.requestWillBeSent), logs
    anything to the console (Log.entryAdded, Runtime.consoleAPICalled), throws
    (Runtime.exceptionThrown) or opens a dialog (Page.javascriptDialogOpening);
  - the number of finding elements ([data-finding]) or the count the page states
    (#finding-count) is not the number of findings of report.json, or their ids differ;
  - the search box does not filter: typing a rule id leaves visible exactly the findings
    whose text holds it (computed from report.json), clearing it shows them all again;
  - at a phone's width (390 px) the page is wider than the screen (tables must scroll in
    their own box); for print the search box still shows or a <details> stays folded (on
    screen every one must be folded);
  - a case whose inputs have a hostile name (quotes, <script>, a newline, ESC and other C0
    controls, a bidirectional override) -- a file of the case and a user rule's finding --
    shows it otherwise than visibly escaped (the page keeps exactly one <script>, and the
    text reads the escapes).
A screenshot of each page is taken (Page.captureScreenshot); --screenshot CASE=FILE keeps one.
"""
import argparse
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# A file name can hold anything but `/` and NUL.
HOSTILE = "odd\"name'<script>alert(1)<script>\n\x1b[31mred\x07\u202e.txt"

HOSTILE_RULE = """-- id: test.hostile-names
-- severity: warning
-- title: names that are markup and terminal escapes
-- rationale: test
-- remedy: test
SELECT 'public' AS schema,
       'x"y''<script>alert(1)</script>' || char(10) || char(27) || '[31mred' || char(7) AS "table",
       'message <b>bold</b> & ' || char(27) || ']0;title' || char(7) AS message,
       json_array(json_object('artifact', '<img src=x onerror=alert(2)>', 'line', 3,
                              'text', '</td></tr><script>alert(3)</script>')) AS evidence
"""


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe (fd 3: commands, fd 4: replies)."""

    def __init__(self, chromium, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():  # via fds above 10, in case a pipe's end is itself 3 or 4
            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [chromium, "--headless", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--mute-audio",
                "--hide-scrollbars", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_for(self, method, session, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e["method"] == method and e.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read())
        raise RuntimeError(f"no {method} within {timeout} s")

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def evaluate(browser, session, expr):
    r = browser.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)
    if "exceptionDetails" in r:
        raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
    return r["result"].get("value")


def check_page(browser, html, report, name, shot, failures, hostile=False):
    url = html.resolve().as_uri()
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Network", "Log", "Runtime", "Page"):
        browser.send(f"{domain}.enable", {}, session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    browser.send("Page.navigate", {"url": url}, session)
    browser.wait_for("Page.loadEventFired", session)

    def fail(what):
        failures.append(f"{name}: {what}")

    findings = report["findings"]
    n = evaluate(browser, session, "document.querySelectorAll('[data-finding]').length")
    stated = evaluate(browser, session, "document.getElementById('finding-count').textContent")
    ids = evaluate(browser, session,
                   "Array.from(document.querySelectorAll('[data-finding]')).map(e => e.dataset.finding)")
    if n != len(findings) or stated != str(len(findings)):
        fail(f"{n} finding elements, the page says {stated!r}, report.json has {len(findings)}")
    if ids != [f["id"] for f in findings]:
        fail(f"finding ids {ids} differ from report.json's")
    if not evaluate(browser, session, "!document.getElementById('searchbar').hidden"):
        fail("the search box stays hidden although scripts run")
    # The filter: type a rule id, count the rows left visible.
    visible = ("Array.from(document.querySelectorAll('tr[data-finding]'))"
               ".filter(r => !r.hidden && r.offsetParent !== null).length")
    rules = sorted({f["rule"] for f in findings})
    for term in rules[:2]:
        expect = sum(1 for f in findings if term in json.dumps(f, ensure_ascii=False).lower())
        shown = evaluate(browser, session, f"""(() => {{
            const box = document.getElementById('search');
            box.value = {json.dumps(term)};
            box.dispatchEvent(new Event('input'));
            return {visible}; }})()""")
        by_rule = evaluate(browser, session, f"""Array.from(document.querySelectorAll(
            'tr[data-finding]')).filter(r => !r.hidden && r.dataset.rule === {json.dumps(term)}).length""")
        wanted = sum(1 for f in findings if f["rule"] == term)
        if shown != expect or by_rule != wanted:
            fail(f"search {term!r}: {shown} rows visible ({by_rule} of the rule), "
                 f"expected {expect} ({wanted} of the rule)")
    if findings:
        shown = evaluate(browser, session, f"""(() => {{
            const box = document.getElementById('search');
            box.value = 'no-such-text-anywhere-xyzzy'; box.dispatchEvent(new Event('input'));
            const none = {visible};
            box.value = ''; box.dispatchEvent(new Event('input'));
            return [none, {visible}]; }})()""")
        if shown != [0, len(findings)]:
            fail(f"search for nothing / cleared: {shown} rows visible, expected [0, {len(findings)}]")
    # The first screen at a desktop's width; the first screens for a screenshot to keep.
    params = {"format": "png"}
    if shot:
        height = min(2400, evaluate(browser, session, "document.documentElement.scrollHeight"))
        params.update({"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1}})
    data = base64.b64decode(browser.send("Page.captureScreenshot", params, session)["data"])
    if not data.startswith(b"\x89PNG"):
        fail("the screenshot is not a PNG")
    if shot:
        shot.write_bytes(data)
    # Phone width: the page itself must not scroll sideways.
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}, session)
    width = evaluate(browser, session, "document.documentElement.scrollWidth")
    if width > 390:
        fail(f"at 390 px wide the page is {width} px wide")
    browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session)
    if evaluate(browser, session, "getComputedStyle(document.getElementById('searchbar')).display") != "none":
        fail("printed, the search box still shows")
    folded_js = """Array.from(document.querySelectorAll('details:not([open])'))
        .filter(d => Array.from(d.children).some(c => c.tagName !== 'SUMMARY' &&
                                                 !c.checkVisibility())).length"""
    folded = evaluate(browser, session, folded_js)
    if folded:
        fail(f"printed, {folded} folded <details> still hide their content")
    browser.send("Emulation.setEmulatedMedia", {"media": ""}, session)
    shown = evaluate(browser, session, "document.querySelectorAll('details').length")
    if evaluate(browser, session, folded_js) != shown:
        fail("on screen, not every <details> is folded")
    if hostile:
        scripts = evaluate(browser, session, "document.scripts.length")
        imgs = evaluate(browser, session, "document.images.length")
        text = evaluate(browser, session, """(() => {
            document.querySelectorAll('details').forEach(d => { d.open = true; });
            return document.body.innerText; })()""")
        if scripts != 1 or imgs != 0:
            fail(f"hostile names became markup: {scripts} scripts, {imgs} images")
        for shown_as in ("<script>alert(1)</script>", "odd\"name'<script>alert(1)<script>\\n", "\\x1b[31mred\\x07", "\\n", "\\u202e",
                         "<img src=x onerror=alert(2)>", "</td></tr><script>alert(3)</script>",
                         "<b>bold</b> & \\x1b]0;title\\x07"):
            if shown_as not in text:
                fail(f"hostile names: {shown_as!r} is not shown as text")
        if any(c in text for c in "\x1b\x07\u202e"):
            fail("hostile names: a control character reached the page's text")
    # Everything the page did, honestly observed.
    evaluate(browser, session, "1")  # a round trip: what the page did before has arrived
    for e in [e for e in browser.events if e.get("sessionId") == session]:
        m, p = e["method"], e["params"]
        if m == "Network.requestWillBeSent" and p["request"]["url"] != url:
            fail(f"requested {p['request']['url']}")
        elif m == "Log.entryAdded":
            fail(f"console {p['entry']['level']}: {p['entry']['text']}")
        elif m == "Runtime.consoleAPICalled":
            fail(f"console.{p['type']}: {p['args']}")
        elif m == "Runtime.exceptionThrown":
            fail(f"exception: {p['exceptionDetails']}")
        elif m == "Page.javascriptDialogOpening":
            fail(f"dialog: {p['message']}")
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    browser.send("Target.closeTarget", {"targetId": target})


def investigate(exe, case, out, store, extra=()):
    r = subprocess.run([exe, "investigate", str(case), "--store", str(store), "--out", str(out),
                        "--format", "json", "--fail-on", "never", *extra],
                       capture_output=True, text=True)
    # 2: some input could not be read in full (the input_* cases); the reports are written.
    if r.returncode not in (0, 2) or not (out / "report.html").is_file():
        raise RuntimeError(f"{case.name}: investigate exited {r.returncode}: {r.stderr}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--screenshot", action="append", default=[], help="CASE=FILE.png")
    ap.add_argument("names", nargs="*", help="cases (default: every case with expected.json)")
    args = ap.parse_args()
    cases = Path(args.cases)
    names = args.names or sorted(p.name for p in cases.iterdir() if (p / "expected.json").is_file())
    shots = dict(s.split("=", 1) for s in args.screenshot)
    failures = []
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # The hostile case: a clean case with a file named with markup and escapes, and a user
        # rule whose finding's names and evidence are markup and escapes.
        hostile = tmp / "hostile-case"
        shutil.copytree(cases / "django_clean", hostile,
                        ignore=shutil.ignore_patterns(".dbautopsy", "expected.json"))
        (hostile / HOSTILE).write_text("not an input dbautopsy knows\n")
        rules = tmp / "rules"
        rules.mkdir()
        (rules / "hostile.sql").write_text(HOSTILE_RULE)

        def run(name):
            if name == "<hostile>":
                return investigate(args.dbautopsy, hostile, tmp / "out-hostile",
                                   tmp / "hostile.db", ["--rules-dir", str(rules)])
            return investigate(args.dbautopsy, cases / name, tmp / f"out-{name}", tmp / f"{name}.db")

        # Two at a time, each with a browser of its own (started here, before any thread):
        # investigate, then load.
        browsers = [Browser(args.chromium, tmp / f"profile-{i}") for i in range(2)]
        idle = queue.Queue()
        for b in browsers:
            idle.put(b)

        def work(name):
            run(name)
            browser = idle.get()
            try:
                return check(name, browser)
            finally:
                idle.put(browser)

        def check(name, browser):
            out = tmp / ("out-hostile" if name == "<hostile>" else f"out-{name}")
            report = json.loads((out / "report.json").read_text())
            shot = Path(shots[name]) if name in shots else None
            found = []
            check_page(browser, out / "report.html", report, name, shot, found,
                       hostile=name == "<hostile>")
            size = (out / "report.html").stat().st_size
            return found, (f"{name:<34} {len(report['findings']):3} findings  {size:>8} bytes  "
                           f"{'ok' if not found else 'FAIL'}")

        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for found, line in pool.map(work, names + ["<hostile>"]):
                    failures.extend(found)
                    print(line, flush=True)
        finally:
            for browser in browsers:
                browser.close()
        html_bytes = (tmp / "out-hostile" / "report.html").read_bytes()
        for raw in (b"<script>alert", b"\x1b", b"\x07", "\u202e".encode()):
            if raw in html_bytes:
                failures.append(f"hostile: the HTML holds {raw!r} as is")
    print(f"{len(names) + 1} pages in {time.time() - start:.1f} s")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
