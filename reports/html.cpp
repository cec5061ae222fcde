// The HTML report: one self-contained page an investigator forwards to a customer or attaches
// to a ticket. No network: the styles, the little script (the findings filter) and the charts
// (inline SVG, drawn here) are all in the file, and a Content-Security-Policy forbids loading
// anything else. Order: summary, one section per cause (narrative, timeline, findings,
// evidence, repair), duplicate rows, inputs, what could not be read.
//
// Every string that comes from the inputs (paths, names, messages, evidence) goes through
// h() or attr(): markup characters become entities, and control characters (newlines, ESC and
// the other C0 and C1 controls, bidirectional overrides) are shown as visible escapes such as
// \x1b, never passed on.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "base/text.hpp"
#include "base/time.hpp"
#include "reports/report.hpp"

namespace dbautopsy::reports {

namespace {

// Text for an element's content. Control characters are shown as escapes in a span (so that
// they stand out); with `block`, newlines and tabs stay as they are (for <pre>).
std::string h(std::string_view s, bool block = false, bool span = true) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  auto shown = [&](const std::string& esc) {
    out += span ? "<span class=\"ctl\">" + esc + "</span>" : esc;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&#39;";
        continue;
      default:
        break;
    }
    if (c == '\n' || c == '\t') {
      if (block) {
        out += static_cast<char>(c);
      } else {
        shown(c == '\n' ? "\\n" : "\\t");
      }
    } else if (c < 0x20 || c == 0x7f) {
      shown(c == '\r' ? std::string("\\r") : fmt::format("\\x{:02x}", c));
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      // C1 controls (U+0080..U+009F; U+009B is a terminal's CSI).
      shown(fmt::format("\\u{:04x}", static_cast<unsigned char>(s[i + 1])));
      ++i;
    } else if (c == 0xe2 && i + 2 < s.size() &&
               ((static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                 static_cast<unsigned char>(s[i + 2]) >= 0xaa &&
                 static_cast<unsigned char>(s[i + 2]) <= 0xae) ||
                (static_cast<unsigned char>(s[i + 1]) == 0x81 &&
                 static_cast<unsigned char>(s[i + 2]) >= 0xa6 &&
                 static_cast<unsigned char>(s[i + 2]) <= 0xa9))) {
      // Bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069),
      // which would reorder what the reader sees.
      unsigned cp = static_cast<unsigned char>(s[i + 1]) == 0x80
                        ? 0x2000 + (static_cast<unsigned char>(s[i + 2]) - 0x80)
                        : 0x2040 + (static_cast<unsigned char>(s[i + 2]) - 0x80);
      shown(fmt::format("\\u{:04x}", cp));
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Text for an attribute value (in double quotes): the same escapes, without markup.
std::string attr(std::string_view s) {
  return h(s, false, false);
}

std::string count_of(size_t n, const std::string& noun) {
  return fmt::format("{} {}{}", text::thousands(static_cast<long long>(n)), noun,
                     n == 1 ? "" : "s");
}

std::string where(const Evidence& e) {
  return e.line ? fmt::format("{}:{}", e.artifact, *e.line) : e.artifact;
}

std::optional<std::string> subject_of(const Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.subject) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

// The object a finding is about, as the text report names it (schema.table.column, index,
// constraint, row; a migration; the family of skipped checks).
std::string subject_text(const Finding& f) {
  std::map<std::string, std::string> s;
  for (const auto& [k, v] : f.subject) {
    if (v) {
      s[k] = *v;
    }
  }
  if (f.rule == "input.checks-skipped" && s.count("value")) {
    return s["value"] + " checks skipped";
  }
  std::string out;
  if (s.count("database")) {
    out = "[" + s["database"] + "] ";
  }
  out += table_object_text(f);
  if (s.count("value")) {
    out += (out.empty() ? "" : ": ") + s["value"];
    if (s.count("suggested_value")) {
      out += " → " + s["suggested_value"];
    }
  }
  if (s.count("migration")) {
    out += out.empty() ? s["migration"] : " (" + s["migration"] + ")";
  }
  return out;
}

std::optional<int64_t> metric(const Finding& f, const char* name) {
  if (f.metrics && f.metrics->contains(name) && (*f.metrics)[name].is_number()) {
    return (*f.metrics)[name].get<int64_t>();
  }
  return std::nullopt;
}

std::optional<std::string> metric_text(const Finding& f, const char* name) {
  if (f.metrics && f.metrics->contains(name) && (*f.metrics)[name].is_string()) {
    return (*f.metrics)[name].get<std::string>();
  }
  return std::nullopt;
}

std::string severity_badge(const std::string& severity) {
  return fmt::format("<span class=\"sev sev-{}\">{}</span>", attr(severity), h(severity));
}

bool analysed(const Input& in) {
  return in.status == "ok" || in.status == "partial" || in.status == "unchanged";
}

// "2025-12-29 10:04" from an ISO 8601 UTC time (as written when it does not parse).
std::string readable_time(const std::string& iso) {
  auto ms = timeutil::parse_ms(iso, true);
  if (!ms) {
    return iso;
  }
  std::string t = timeutil::iso_utc(*ms);  // 2024-01-14T19:50:01.123Z
  return t.substr(0, 10) + " " + t.substr(11, 8) + " UTC";
}

constexpr const char* k_style = R"css(
:root{--fg:#1d2330;--muted:#5b6475;--line:#d8dde6;--bg:#fff;--alt:#f5f7fa;--err:#b3261e;--warn:#9a6700;--info:#1f6feb;--accent:#3b5bdb}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:16px 20px 40px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin:1.6em 0 .4em;border-bottom:2px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em}
pre{background:var(--alt);border:1px solid var(--line);padding:8px 10px;overflow-x:auto;white-space:pre}
p,li,h1,h2,h3,figcaption,summary{overflow-wrap:anywhere}
.muted{color:var(--muted)}.case{font-size:1.05em;word-break:break-all}
.ctl{color:#fff;background:#8b1a1a;border-radius:3px;padding:0 2px;font-family:ui-monospace,monospace;font-size:.85em}
.sev{display:inline-block;white-space:nowrap;overflow-wrap:normal;border-radius:4px;padding:0 6px;font-size:.8em;font-weight:600;color:#fff;text-transform:uppercase;letter-spacing:.03em}
.sev-error{background:var(--err)}.sev-warning{background:var(--warn)}.sev-info{background:var(--info)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.4em 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--alt);font-weight:600}
table.compact{width:auto}th.w-subject{width:22%}th.w-evidence{width:18%}td{overflow-wrap:anywhere}td.rule code{white-space:nowrap}
header h1{margin-bottom:0}header p{margin:.2em 0}nav{margin:.6em 0;font-size:.95em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.finding td:first-child{white-space:nowrap;font-weight:600}
.headline{font-size:1.15em;font-weight:600}
nav ul{margin:.2em 0;padding-left:1.2em}
details{margin:.1em 0}summary{cursor:pointer;color:var(--accent)}
details ul{margin:.2em 0;padding-left:1.2em}
figure{margin:.6em 0}figcaption{color:var(--muted);font-size:.9em}
svg{max-width:100%;height:auto;display:block;background:#fbfcfe;border:1px solid var(--line)}
svg text{font:11px system-ui,sans-serif;fill:#333}
#searchbar{position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:1}
#search{font:inherit;padding:4px 8px;width:min(420px,100%)}
.cause{border-left:4px solid var(--line);padding-left:14px}
.cause.sev-border-error{border-left-color:var(--err)}.cause.sev-border-warning{border-left-color:var(--warn)}.cause.sev-border-info{border-left-color:var(--info)}
.sha{word-break:break-all}
@media (max-width:640px){body{padding:10px;font-size:14px}th,td{padding:3px 5px}.cause{padding-left:8px}}
@media print{
 #searchbar,nav{display:none}
 body{max-width:none;font-size:11pt}
 details>summary{list-style:none;color:var(--fg)}
 details::details-content{content-visibility:visible;display:block}
 .cause,figure,tr{break-inside:avoid}
 pre{white-space:pre-wrap;word-break:break-all}
 .scroll{overflow:visible}
 tr.finding[hidden]{display:table-row}
}
)css";

// The findings filter: each whitespace-separated term must occur in a finding's row text.
// Without script the page shows everything and the box stays hidden. Before printing, every
// <details> is opened (and closed again after).
constexpr const char* k_script = R"js(
(function(){
  var bar=document.getElementById('searchbar'),box=document.getElementById('search'),
      shown=document.getElementById('visible-count');
  var rows=Array.prototype.slice.call(document.querySelectorAll('tr[data-finding]'));
  function apply(){
    var terms=box.value.toLowerCase().split(/\s+/).filter(function(t){return t.length>0;});
    var n=0;
    rows.forEach(function(r){
      var text=r.textContent.toLowerCase();
      var ok=terms.every(function(t){return text.indexOf(t)>=0;});
      r.hidden=!ok; if(ok){n++;}
    });
    shown.textContent=terms.length?(n+' of '+rows.length+' findings shown'):'';
  }
  bar.hidden=false;
  box.addEventListener('input',apply);
  var opened=[];
  window.addEventListener('beforeprint',function(){
    opened=Array.prototype.slice.call(document.querySelectorAll('details:not([open])'));
    opened.forEach(function(d){d.open=true;});
  });
  window.addEventListener('afterprint',function(){opened.forEach(function(d){d.open=false;});opened=[];});
})();
)js";

// A log timeline row's severity ("ERROR: ..."), upper case, or empty.
std::string log_severity(const std::string& what) {
  size_t colon = what.find(": ");
  if (colon == std::string::npos || colon > 12) {
    return "";
  }
  std::string sev = what.substr(0, colon);
  for (auto& ch : sev) {
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return sev;
}

bool error_severity(const std::string& sev) {
  static const std::set<std::string> k = {"ERROR", "FATAL", "PANIC", "CRITICAL", "EXCEPTION"};
  return k.count(sev) > 0;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The timeline of a cause, drawn as inline SVG: migrations recorded (dots), log entries per
// hour (bars), dumps taken (dashed lines).
struct Chart {
  std::vector<const TimelineEvent*> migrations, logs, dumps;
  std::string scope;  // what the chart is restricted to, said under it
};

std::string draw_timeline(const Chart& c, const std::string& label) {
  struct Point {
    int64_t ms;
    const TimelineEvent* e;
  };
  auto points = [](const std::vector<const TimelineEvent*>& events) {
    std::vector<Point> out;
    for (const auto* e : events) {
      if (auto ms = timeutil::parse_ms(e->ts, true)) {
        out.push_back({*ms, e});
      }
    }
    return out;
  };
  auto mig = points(c.migrations);
  auto logs = points(c.logs);
  auto dumps = points(c.dumps);
  if (mig.empty() && logs.empty() && dumps.empty()) {
    return "<p class=\"muted\">No dated event (migration record, log entry, dump) concerns this "
           "cause.</p>\n";
  }
  constexpr int64_t k_hour = 3600 * 1000;
  std::map<int64_t, int64_t> per_hour;
  for (const auto& p : logs) {
    per_hour[p.ms / k_hour * k_hour] += p.e->count;
  }
  // Events come in bursts (migrations one week, errors months later, the dump on another
  // day): each burst gets a panel of its own on a broken axis, so that none is a sliver.
  struct Segment {
    int64_t t0, t1;
  };
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (const auto* v : {&mig, &dumps}) {
    for (const auto& p : *v) {
      spans.emplace_back(p.ms, p.ms);
    }
  }
  for (const auto& [hour, n] : per_hour) {
    spans.emplace_back(hour, hour + k_hour);
  }
  std::sort(spans.begin(), spans.end());
  constexpr int64_t k_break = 2 * 24 * k_hour;
  std::vector<Segment> segs;
  for (const auto& [a, b] : spans) {
    if (segs.empty() || a - segs.back().t1 > k_break) {
      segs.push_back({a, b});
    } else {
      segs.back().t1 = std::max(segs.back().t1, b);
    }
  }
  while (segs.size() > 4) {  // join the two closest
    size_t best = 1;
    for (size_t i = 2; i < segs.size(); ++i) {
      if (segs[i].t0 - segs[i - 1].t1 < segs[best].t0 - segs[best - 1].t1) {
        best = i;
      }
    }
    segs[best - 1].t1 = segs[best].t1;
    segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(best));
  }
  for (auto& sg : segs) {
    if (sg.t1 - sg.t0 < 2 * k_hour) {  // one moment: an hour either side
      sg.t0 -= k_hour;
      sg.t1 += k_hour;
    } else {
      int64_t pad = (sg.t1 - sg.t0) / 30;
      sg.t0 -= pad;
      sg.t1 += pad;
    }
  }
  const double W = 960, L = 130, R = 20, H = 215, gap = 22;
  const double lane_mig = 34, log_top = 62, log_bottom = 162, axis = 172;
  const double seg_w =
      (W - L - R - gap * static_cast<double>(segs.size() - 1)) / static_cast<double>(segs.size());
  auto seg_of = [&](int64_t ms) {
    size_t i = 0;
    while (i + 1 < segs.size() && ms > segs[i].t1) {
      ++i;
    }
    return i;
  };
  auto left_of = [&](size_t i) { return L + static_cast<double>(i) * (seg_w + gap); };
  auto x = [&](int64_t ms) {
    size_t i = seg_of(ms);
    return left_of(i) + seg_w * static_cast<double>(ms - segs[i].t0) /
                            static_cast<double>(segs[i].t1 - segs[i].t0);
  };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
      "height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
      W, H, W, H, attr(label));
  svg += fmt::format(
      "<text x=\"6\" y=\"{}\">migrations ({})</text>"
      "<text x=\"6\" y=\"{}\">log entries/hour</text>"
      "<text x=\"6\" y=\"{}\">dumps ({})</text>\n",
      lane_mig + 4, mig.size(), (log_top + log_bottom) / 2, axis - 2, dumps.size());
  int ticks = segs.size() == 1 ? 5 : segs.size() == 2 ? 3 : 2;
  for (size_t i = 0; i < segs.size(); ++i) {
    double x0 = left_of(i), x1 = x0 + seg_w;
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{2:.1f}\" y2=\"{1}\" stroke=\"#ccd\"/>"
        "<line x1=\"{0:.1f}\" y1=\"{3}\" x2=\"{2:.1f}\" y2=\"{3}\" stroke=\"#889\"/>\n",
        x0, lane_mig, x1, axis);
    if (i > 0) {  // the break: nothing happened in between
      double bx = x0 - gap / 2;
      svg += fmt::format(
          "<path d=\"M{0:.1f} {1} l-4 8 M{2:.1f} {1} l-4 8\" stroke=\"#889\" fill=\"none\"/>"
          "<rect x=\"{3:.1f}\" y=\"14\" width=\"{4}\" height=\"{5}\" fill=\"#eef0f4\">"
          "<title>nothing for {6} days</title></rect>\n",
          bx - 1, axis - 4, bx + 5, x0 - gap + 3, gap - 6, axis - 18,
          (segs[i].t0 - segs[i - 1].t1) / (24 * k_hour));
    }
    // Ticks: dates, and hours when the panel spans under four days.
    bool hours = segs[i].t1 - segs[i].t0 < 4 * 24 * k_hour;
    for (int k = 0; k < ticks; ++k) {
      int64_t t = segs[i].t0 + (segs[i].t1 - segs[i].t0) * k / (ticks - 1);
      std::string iso = timeutil::iso_utc(t);
      std::string text = hours ? iso.substr(0, 10) + " " + iso.substr(11, 5) : iso.substr(0, 10);
      double xx = x0 + seg_w * k / (ticks - 1);
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#889\"/>"
          "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"{4}\">{5}</text>\n",
          xx, axis, axis + 4, axis + 18 + (ticks == 2 && k == 1 ? 13 : 0),
          k == 0           ? "start"
          : k == ticks - 1 ? "end"
                           : "middle",
          attr(text));
    }
  }
  svg += fmt::format("<text x=\"6\" y=\"{}\">UTC</text>\n", axis + 18);
  for (const auto& p : dumps) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"14\" x2=\"{0:.1f}\" y2=\"{1}\" stroke=\"#7048e8\" "
        "stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>{2}, {3}</title></line>\n",
        x(p.ms), axis, attr(p.e->what), attr(readable_time(p.e->ts)));
  }
  int64_t peak = 1;
  for (const auto& [hour, n] : per_hour) {
    peak = std::max(peak, n);
  }
  for (const auto& [hour, n] : per_hour) {
    const Segment& sg = segs[seg_of(hour)];
    double hour_px = seg_w * static_cast<double>(k_hour) / static_cast<double>(sg.t1 - sg.t0);
    double bh = std::max(2.0, (log_bottom - log_top) * static_cast<double>(n) / peak);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#c92a2a\">"
        "<title>{}: {} log {}</title></rect>\n",
        x(hour), log_bottom - bh, std::max(2.0, hour_px - 1), bh,
        attr(readable_time(timeutil::iso_utc(hour)).substr(0, 13) + ":00 UTC"), text::thousands(n),
        n == 1 ? "entry" : "entries");
  }
  if (!per_hour.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">peak {}/h</text>\n", W - R,
                       log_top - 4, peak);
  }
  for (const auto& p : mig) {
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{}\" r=\"4\" fill=\"#1f6feb\" fill-opacity=\"0.7\">"
        "<title>{} recorded {}</title></circle>\n",
        x(p.ms), lane_mig, attr(p.e->what), attr(readable_time(p.e->ts)));
  }
  svg += "</svg>\n";
  return fmt::format("<figure>\n{}<figcaption>{}{}</figcaption>\n</figure>\n", svg, attr(c.scope),
                     segs.size() > 1 ? " The time axis is broken where nothing happened for more "
                                       "than two days."
                                     : "");
}

// The chart of one cause: its migrations, the log entries of the templates its log findings
// cite, the dumps of its database; each the case's own when the cause names none of it.
Chart chart_of(const Report& report, const Cause& cause,
               const std::map<std::string, const Finding*>& by_id) {
  std::set<std::string> migrations;
  for (const auto& id : cause.findings) {
    if (auto m = subject_of(*by_id.at(id), "migration"); m) {
      migrations.insert(*m);
    }
  }
  std::set<std::string> dumps;
  if (cause.database >= 0 && cause.database < static_cast<int>(report.databases.size())) {
    const auto& d = report.databases[cause.database].dumps;
    dumps.insert(d.begin(), d.end());
  }
  Chart c;
  std::vector<std::string> scope;
  for (const auto& e : report.timeline) {
    if (e.kind == "migration" && (migrations.empty() || migrations.count(e.what))) {
      c.migrations.push_back(&e);
    } else if (e.kind == "log") {
      bool ours = false;
      if (cause.log_templates.empty()) {
        ours = error_severity(log_severity(e.what));
      } else {
        for (const auto& t : cause.log_templates) {
          ours = ours || (t.artifact == e.artifact &&
                          (e.what == t.what || ends_with(e.what, ": " + t.what)));
        }
      }
      if (ours) {
        c.logs.push_back(&e);
      }
    } else if (e.kind == "dump" && (dumps.empty() || dumps.count(e.artifact))) {
      c.dumps.push_back(&e);
    }
  }
  scope.push_back(migrations.empty() ? "every migration recorded in the case"
                                     : "the migrations this cause's findings name");
  scope.push_back(cause.log_templates.empty()
                      ? "log errors of the case, per hour"
                      : "per hour, the log entries of the messages this cause's log findings cite");
  scope.push_back(dumps.empty() ? "every dated dump" : "the dumps of this cause's database");
  c.scope = "Timeline: " + text::join(scope, "; ") + ". Hover a mark for its details.";
  return c;
}

void write_finding_row(std::ostream& out, const Finding& f) {
  out << fmt::format(
      "<tr class=\"finding\" id=\"{0}\" data-finding=\"{0}\" data-rule=\"{1}\" "
      "data-severity=\"{2}\">",
      attr(f.id), attr(f.rule), attr(f.severity));
  out << fmt::format("<td>{}<br>{}</td><td class=\"rule\"><code>{}</code></td><td>{}</td><td>{}",
                     h(f.id), severity_badge(f.severity), h(f.rule), h(subject_text(f)),
                     h(f.message));
  if (f.repair) {
    out << "<details><summary>repair</summary><pre>" << h(*f.repair, true) << "</pre></details>";
  }
  out << "</td><td>";
  if (f.evidence.empty()) {
    out << "<span class=\"muted\">none</span>";
  } else {
    out << fmt::format(
        "<details><summary><code>{}</code>{}</summary><ul>", h(where(f.evidence.front())),
        f.evidence.size() > 1 ? fmt::format(" and {} more", f.evidence.size() - 1) : std::string());
    for (const auto& e : f.evidence) {
      out << fmt::format("<li><code>{}</code> {}</li>", h(where(e)), h(e.text));
    }
    out << "</ul></details>";
  }
  out << "</td></tr>\n";
}

void write_findings_table(std::ostream& out, const std::vector<const Finding*>& findings) {
  out << "<div class=\"scroll\"><table class=\"findings\">\n<thead><tr><th>id</th>"
         "<th>rule</th><th class=\"w-subject\">subject</th><th>message</th><th "
         "class=\"w-evidence\">evidence</th>"
         "</tr></thead>\n<tbody>\n";
  for (const Finding* f : findings) {
    write_finding_row(out, *f);
  }
  out << "</tbody></table></div>\n";
}

// The repair of a cause: its own (bulk) repair, else its findings' repairs in order.
std::optional<std::string> cause_repair(const Cause& c,
                                        const std::map<std::string, const Finding*>& by_id) {
  if (c.repair) {
    return c.repair;
  }
  std::string out;
  for (const auto& id : c.findings) {
    const Finding& f = *by_id.at(id);
    if (f.repair) {
      out += fmt::format("-- {} {} {}\n{}\n", f.id, f.rule, subject_text(f), *f.repair);
    }
  }
  return out.empty() ? std::nullopt : std::optional<std::string>(out);
}

void write_summary(std::ostream& out, const Report& report,
                   const std::map<std::string, const Finding*>& by_id) {
  std::map<std::string, int> by_severity;
  std::set<std::string> objects, tables;
  std::map<std::string, int> by_rule;
  for (const auto& f : report.findings) {
    ++by_severity[f.severity];
    ++by_rule[f.rule];
    if (f.rule.rfind("log.", 0) == 0 || f.rule.rfind("input.", 0) == 0) {
      continue;
    }
    auto get = [&](const char* k) { return subject_of(f, k).value_or(""); };
    if (!get("table").empty()) {
      std::string table = get("database") + "\x1f" + get("schema") + "\x1f" + get("table");
      tables.insert(table);
      objects.insert(table + "\x1f" + get("column") + "\x1f" + get("index") + "\x1f" +
                     get("constraint"));
    } else if (!get("migration").empty()) {
      objects.insert("migration\x1f" + get("migration"));
    }
  }
  out << "<section id=\"summary\">\n<h2>Summary</h2>\n";
  std::string counts;
  for (const char* s : {"error", "warning", "info"}) {
    if (by_severity[s]) {
      counts += fmt::format("{}{} {}{}", counts.empty() ? "" : ", ", by_severity[s], s,
                            by_severity[s] == 1 ? "" : "s");
    }
  }
  out << fmt::format("<p class=\"headline\"><span id=\"finding-count\">{}</span> {}{} in {}.</p>\n",
                     report.findings.size(), report.findings.size() == 1 ? "finding" : "findings",
                     counts.empty() ? "" : " (" + counts + ")",
                     count_of(report.causes.size(), "cause"));
  if (report.findings.empty()) {
    out << "<p>Nothing found to be wrong in what could be read: see the inputs below for what "
           "was analysed.</p>\n";
  } else {
    auto named_migrations = std::count_if(objects.begin(), objects.end(), [](const auto& o) {
      return o.rfind("migration\x1f", 0) == 0;
    });
    std::string what = count_of(objects.size() - named_migrations, "object") + " in " +
                       count_of(tables.size(), "table");
    if (named_migrations > 0) {
      what += ", and " + count_of(named_migrations, "migration") + " by name alone";
    }
    out << "<p>What broke: " << what << ".</p>\n";
    out << "<div class=\"scroll\"><table class=\"compact\"><thead><tr><th>rule</th>"
           "<th class=\"num\">findings</th>"
           "</tr></thead><tbody>\n";
    for (const auto& [rule, n] : by_rule) {
      out << fmt::format("<tr><td><code>{}</code></td><td class=\"num\">{}</td></tr>\n", h(rule),
                         n);
    }
    out << "</tbody></table></div>\n";
  }
  if (!report.causes.empty()) {
    out << "<h3 id=\"causes\">Causes</h3>\n<div class=\"scroll\"><table><thead><tr><th>cause</th>"
           "<th>severity</th><th>summary</th><th class=\"num\">findings</th></tr></thead>"
           "<tbody>\n";
    for (const auto& c : report.causes) {
      out << fmt::format(
          "<tr><td><a href=\"#{0}\">{1}</a></td><td>{2}</td><td>{3}</td>"
          "<td class=\"num\">{4}</td></tr>\n",
          attr(c.id), h(c.id), severity_badge(c.severity), h(c.summary), c.findings.size());
    }
    out << "</tbody></table></div>\n";
  }
  // What users saw: the log findings, how often and when.
  out << "<h3>What users saw (logs)</h3>\n";
  std::vector<const Finding*> logs;
  for (const auto& f : report.findings) {
    if (f.rule.rfind("log.", 0) == 0) {
      logs.push_back(&f);
    }
  }
  bool any_log = std::any_of(report.inputs.begin(), report.inputs.end(), [](const Input& in) {
    return in.kind.find("log") != std::string::npos;
  });
  if (logs.empty()) {
    out << (any_log ? "<p>The logs given show no error or loop that a finding explains.</p>\n"
                    : "<p>No log was given, so what users saw is not known from the inputs.</p>\n");
  } else {
    out << "<div class=\"scroll\"><table><thead><tr><th>finding</th><th>rule</th><th>what</th>"
           "<th class=\"num\">count</th><th>first seen</th><th>last seen</th><th>cause</th>"
           "</tr></thead><tbody>\n";
    for (const Finding* f : logs) {
      std::string count;
      for (const char* k : {"errors", "repeats", "entries"}) {
        if (auto n = metric(*f, k); n && count.empty()) {
          count = fmt::format("{} {}", text::thousands(*n), k);
        }
      }
      auto first = metric_text(*f, "first_seen");
      auto last = metric_text(*f, "last_seen");
      out << fmt::format(
          "<tr><td><a href=\"#{0}\">{1}</a></td><td "
          "class=\"rule\"><code>{2}</code></td><td>{3}</td>"
          "<td class=\"num\">{4}</td><td>{5}</td><td>{6}</td><td>{7}</td></tr>\n",
          attr(f->id), h(f->id), h(f->rule), h(subject_text(*f)), h(count),
          h(first ? readable_time(*first) : "—"), h(last ? readable_time(*last) : "—"),
          f->cause.empty() ? ""
                           : fmt::format("<a href=\"#{}\">{}</a>", attr(f->cause), h(f->cause)));
    }
    out << "</tbody></table></div>\n";
  }
  if (report.databases.size() > 1) {
    out << fmt::format("<h3>Databases</h3>\n<p>{} databases, each analysed on its own.</p>\n",
                       report.databases.size());
    out << "<div class=\"scroll\"><table><thead><tr><th>database</th><th>dumps</th>"
           "<th>grouped by</th></tr></thead><tbody>\n";
    for (const auto& d : report.databases) {
      std::vector<std::string> dumps;
      for (const auto& p : d.dumps) {
        dumps.push_back("<code>" + h(p) + "</code>");
      }
      out << fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         d.name ? "<code>" + h(*d.name) + "</code>" : "(not named)",
                         text::join(dumps, ", "), h(d.grouped_by));
    }
    out << "</tbody></table></div>\n";
  }
  (void)by_id;
  out << "</section>\n";
}

void write_duplicates(std::ostream& out, const Report& report) {
  struct Bar {
    const Finding* f;
    int64_t rows, distinct;
  };
  std::vector<Bar> bars;
  for (const auto& f : report.findings) {
    if (f.rule != "data.duplicate-rows") {
      continue;
    }
    auto rows = metric(f, "rows");
    auto distinct = metric(f, "distinct_rows");
    if (rows && distinct) {
      bars.push_back({&f, *rows, *distinct});
    }
  }
  out << "<section id=\"duplicates\">\n<h2>Duplicate rows</h2>\n";
  if (bars.empty()) {
    out << "<p>No table repeats the same rows (no <code>data.duplicate-rows</code> finding).</p>\n"
           "</section>\n";
    return;
  }
  int64_t peak = 1;
  for (const auto& b : bars) {
    peak = std::max(peak, b.rows);
  }
  const double W = 960, L = 260, R = 20, row_h = 26;
  const double H = 30 + row_h * static_cast<double>(bars.size());
  double scale = std::log10(static_cast<double>(peak) + 1);
  auto len = [&](int64_t n) {
    return (W - L - R) * std::log10(static_cast<double>(n) + 1) / (scale > 0 ? scale : 1);
  };
  out << fmt::format(
      "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-label=\"Rows and distinct rows of the tables that repeat "
      "rows\">\n",
      W, H);
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    double y = 10 + row_h * static_cast<double>(i);
    std::string name = subject_text(*b.f);
    size_t colon = name.find(": ");
    std::string table = b.f->id + " " + (colon == std::string::npos ? name : name.substr(0, colon));
    std::string shown = table;
    if (shown.size() > 40) {  // cut at a character's start, never inside one
      size_t cut = 39;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xc0) == 0x80) {
        --cut;
      }
      shown = shown.substr(0, cut) + "…";
    }
    std::string label =
        fmt::format("{} rows, {} distinct", text::thousands(b.rows), text::thousands(b.distinct));
    // The figures after the bar, or inside its end when the bar leaves no room.
    bool inside = L + len(b.rows) + 200 > W - R;
    out << fmt::format(
        "<g><title>{0}: {1}</title><text x=\"{2}\" y=\"{3:.1f}\" text-anchor=\"end\">{4}</text>"
        "<rect x=\"{5}\" y=\"{6:.1f}\" width=\"{7:.1f}\" height=\"16\" fill=\"#e8590c\"/>"
        "<rect x=\"{5}\" y=\"{6:.1f}\" width=\"{8:.1f}\" height=\"16\" fill=\"#2b8a3e\"/>"
        "<text x=\"{9:.1f}\" y=\"{3:.1f}\"{10}>{1}</text></g>\n",
        attr(table), attr(label), L - 6, y + 12, attr(shown), L, y, std::max(1.0, len(b.rows)),
        std::max(1.0, len(b.distinct)), inside ? L + len(b.rows) - 6 : L + len(b.rows) + 6,
        inside ? " text-anchor=\"end\" style=\"fill:#fff\"" : "");
  }
  out << "</svg>\n<figcaption>Rows (orange) and distinct rows (green) of each table that "
         "repeats rows, on a logarithmic scale.</figcaption>\n</figure>\n</section>\n";
}

void write_inputs(std::ostream& out, const Report& report) {
  out << "<section id=\"inputs\">\n<h2>Inputs</h2>\n";
  if (report.inputs.empty()) {
    out << "<p>No inputs.</p>\n</section>\n";
    return;
  }
  size_t used = std::count_if(report.inputs.begin(), report.inputs.end(), analysed);
  out << fmt::format("<p>{} given, {} analysed.</p>\n", count_of(report.inputs.size(), "input"),
                     used);
  out << "<div class=\"scroll\"><table><thead><tr><th>path</th><th>kind</th><th>status</th>"
         "<th>pg_dump</th><th>server</th><th>sha256</th></tr></thead><tbody>\n";
  for (const auto& in : report.inputs) {
    out << fmt::format(
        "<tr><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"mono sha\">{}</td></tr>\n",
        h(in.path), h(in.kind),
        in.codec == "none" || in.codec.empty() ? "" : " (" + h(in.codec) + ")", h(in.status),
        in.dumped_by ? h(*in.dumped_by) : "", in.dumped_from ? h(*in.dumped_from) : "",
        h(in.sha256));
  }
  out << "</tbody></table></div>\n</section>\n";
}

void write_unread(std::ostream& out, const Report& report) {
  out << "<section id=\"unread\">\n<h2>What could not be read</h2>\n";
  std::vector<const Input*> others;
  for (const auto& in : report.inputs) {
    if (in.status != "ok" && in.status != "unchanged") {
      others.push_back(&in);
    }
  }
  if (others.empty() && report.problem_count == 0 && report.notes.empty()) {
    out << "<p>Every input was read in full.</p>\n</section>\n";
    return;
  }
  if (!others.empty()) {
    out << fmt::format("<p>{} not analysed, or not in full:</p>\n",
                       count_of(others.size(), "input"));
    out << "<div class=\"scroll\"><table><thead><tr><th>path</th><th>kind</th><th>status</th>"
           "<th>why</th></tr></thead><tbody>\n";
    for (const Input* in : others) {
      out << fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         h(in->path), h(in->kind), h(in->status), h(in->detail.value_or("")));
    }
    out << "</tbody></table></div>\n";
  }
  if (report.problem_count > 0) {
    out << fmt::format("<h3>Problems in the inputs ({})</h3>\n",
                       text::thousands(report.problem_count));
    out << "<div class=\"scroll\"><table><thead><tr><th>where</th><th>severity</th><th>code</th>"
           "<th>message</th></tr></thead><tbody>\n";
    for (const auto& p : report.problems) {
      std::string at = p.line ? fmt::format("{}:{}", p.artifact, *p.line) : p.artifact;
      out << fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         h(at), h(p.severity), h(p.code), h(p.message));
    }
    out << "</tbody></table></div>\n";
    if (report.problem_count > static_cast<int64_t>(report.problems.size())) {
      out << fmt::format(
          "<p class=\"muted\">The first {} are listed; <code>dbautopsy query --store FILE "
          "\"SELECT * FROM problem\"</code> lists all {}.</p>\n",
          report.problems.size(), report.problem_count);
    }
  }
  if (!report.notes.empty()) {
    out << "<h3>Notes</h3>\n<ul>\n";
    for (const auto& n : report.notes) {
      out << "<li>" << h(n) << "</li>\n";
    }
    out << "</ul>\n";
  }
  out << "</section>\n";
}

}  // namespace

void write_html(std::ostream& out, const Report& report) {
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report.findings) {
    by_id[f.id] = &f;
  }
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"dbautopsy "
      << attr(report.version) << "\">\n<title>dbautopsy report: " << attr(report.title)
      << "</title>\n<style>" << k_style << "</style>\n</head>\n<body>\n";
  out << "<header>\n<h1>dbautopsy report</h1>\n<p class=\"case\"><code>" << h(report.title)
      << "</code></p>\n<p class=\"muted\">Written by dbautopsy " << h(report.version)
      << " from the inputs listed at the end; nothing was run against any database.</p>\n"
         "</header>\n";
  out << "<nav><a href=\"#summary\">Summary</a> · "
      << (report.causes.empty() ? "" : "<a href=\"#causes\">Causes</a> · ")
      << "<a href=\"#duplicates\">Duplicate rows</a> · <a href=\"#inputs\">Inputs</a> · "
         "<a href=\"#unread\">What could not be read</a></nav>\n";
  write_summary(out, report, by_id);
  out << "<div id=\"searchbar\" hidden><label>Filter findings: <input type=\"search\" "
         "id=\"search\" placeholder=\"rule id, table, message…\" autocomplete=\"off\"></label> "
         "<span id=\"visible-count\" class=\"muted\"></span></div>\n";
  for (const auto& c : report.causes) {
    out << fmt::format("<section class=\"cause sev-border-{}\" id=\"{}\">\n", attr(c.severity),
                       attr(c.id));
    out << fmt::format("<h2>{} {} {}</h2>\n", h(c.id), severity_badge(c.severity), h(c.summary));
    if (c.database >= 0 && c.database < static_cast<int>(report.databases.size())) {
      out << fmt::format("<p class=\"muted\">Database: {}</p>\n",
                         h(report.databases[c.database].label));
    }
    out << "<p class=\"narrative\">" << h(c.narrative) << "</p>\n";
    out << draw_timeline(chart_of(report, c, by_id), "Timeline of " + c.id);
    std::vector<const Finding*> findings;
    for (const auto& id : c.findings) {
      findings.push_back(by_id.at(id));
    }
    out << fmt::format("<h3>Findings ({})</h3>\n", findings.size());
    write_findings_table(out, findings);
    if (!c.evidence.empty()) {
      out << fmt::format("<details><summary>Evidence of the cause ({})</summary><ul>",
                         c.evidence.size());
      for (const auto& e : c.evidence) {
        out << fmt::format("<li><code>{}</code> {}</li>", h(where(e)), h(e.text));
      }
      out << "</ul></details>\n";
    }
    out << "<h3>Repair</h3>\n";
    if (auto repair = cause_repair(c, by_id)) {
      out << "<p class=\"muted\">Also in <code>repair.sql</code> (<code>--format sql</code>), in "
             "a safe order and one transaction. Review it before you run it.</p>\n<pre>"
          << h(*repair, true) << "</pre>\n";
    } else {
      out << "<p>No SQL repairs this: see the narrative and the findings' messages.</p>\n";
    }
    out << "</section>\n";
  }
  std::vector<const Finding*> loose;
  for (const auto& f : report.findings) {
    if (f.cause.empty()) {
      loose.push_back(&f);
    }
  }
  if (!loose.empty()) {
    out << fmt::format("<section id=\"other-findings\">\n<h2>Findings of no cause ({})</h2>\n",
                       loose.size());
    write_findings_table(out, loose);
    out << "</section>\n";
  }
  write_duplicates(out, report);
  write_inputs(out, report);
  write_unread(out, report);
  out << "<footer class=\"muted\"><p>dbautopsy " << h(report.version)
      << ". <code>dbautopsy explain RULE</code> documents each rule.</p></footer>\n";
  out << "<script>" << k_script << "</script>\n</body>\n</html>\n";
}

}  // namespace dbautopsy::reports
