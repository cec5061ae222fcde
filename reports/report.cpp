#include "reports/report.hpp"

#include "base/text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"

namespace dbautopsy::reports {

namespace {

constexpr const char* k_subject_keys[] = {"schema",          "table",     "column", "index",
                                          "constraint",      "migration", "row_id", "value",
                                          "suggested_value", "database"};
constexpr int k_subject_count = 10;

std::vector<Evidence> parse_evidence(const std::optional<std::string>& text) {
  std::vector<Evidence> out;
  if (!text) {
    return out;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_array()) {
    return out;
  }
  for (const auto& e : doc) {
    if (!e.is_object()) {
      continue;
    }
    Evidence ev;
    ev.artifact = e.value("artifact", "");
    if (e.contains("line") && e["line"].is_number_integer()) {
      ev.line = e["line"].get<int64_t>();
    }
    ev.text = e.value("text", "");
    out.push_back(ev);
  }
  return out;
}

int severity_rank(const std::string& s) {
  return s == "error" ? 0 : s == "warning" ? 1 : 2;
}

// Sorts numbers as numbers ("9" < "10") and everything else as text.
bool subject_less(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) {
    return !a && b;
  }
  bool na = !a->empty() && std::all_of(a->begin(), a->end(), ::isdigit);
  bool nb = !b->empty() && std::all_of(b->begin(), b->end(), ::isdigit);
  if (na && nb && a->size() != b->size()) {
    return a->size() < b->size();
  }
  return *a < *b;
}

nlohmann::ordered_json evidence_json(const std::vector<Evidence>& evidence) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& e : evidence) {
    arr.push_back({{"artifact", e.artifact},
                   {"line", e.line ? nlohmann::ordered_json(*e.line) : nlohmann::ordered_json()},
                   {"text", e.text}});
  }
  return arr;
}

}  // namespace

Report load_report(store::Store& store, const std::string& version, const std::string& title) {
  store.set_cache_mib(store::Store::k_read_cache_mib);
  {
    // Without an analysis there are no findings to report, and "No findings." would read as
    // a clean bill of health.
    store::Statement st = store.prepare("SELECT count(*) FROM analysis");
    if (st.step() && st.get_int(0) == 0) {
      throw InputError(Location{store.path().string()},
                       "this fact store was never analysed, so it holds no findings to report: "
                       "run `dbautopsy analyze --store FILE` first (or `dbautopsy investigate "
                       "DIR`, which ingests, analyses and reports)");
    }
  }
  Report report;
  report.version = version;
  report.title = title;
  {
    store::Statement st = store.prepare(
        "SELECT a.path, a.kind, a.sha256, a.codec, a.status, a.status_detail, "
        "(SELECT count(*) FROM problem p WHERE p.artifact_id = a.id AND p.severity <> 'notice') "
        "FROM artifact a ORDER BY a.path");
    while (st.step()) {
      report.inputs.push_back(Input{st.get_text(0), st.get_text(1), st.get_text(2), st.get_text(3),
                                    st.get_text(4), st.get_optional_text(5), st.get_int(6)});
    }
  }
  std::map<int64_t, int> database_index;
  {
    store::Statement st =
        store.prepare("SELECT id, database, label, dumps, grouped_by FROM subject ORDER BY id");
    while (st.step()) {
      Database d;
      d.name = st.get_optional_text(1);
      d.label = st.get_text(2);
      auto dumps = nlohmann::json::parse(st.get_text(3), nullptr, false);
      if (dumps.is_array()) {
        for (const auto& p : dumps) {
          d.dumps.push_back(p.is_string() ? p.get<std::string>() : p.dump());
        }
      }
      d.grouped_by = st.get_text(4);
      database_index[st.get_int(0)] = static_cast<int>(report.databases.size());
      report.databases.push_back(std::move(d));
    }
  }
  std::map<int64_t, std::string> cause_ids;
  {
    store::Statement st = store.prepare(
        "SELECT id, kind, summary, narrative, evidence, repair, subject_id FROM cause ORDER BY id");
    while (st.step()) {
      Cause c;
      c.id = fmt::format("C{}", st.get_int(0));
      c.kind = st.get_text(1);
      c.summary = st.get_text(2);
      c.narrative = st.get_text(3);
      c.evidence = parse_evidence(st.get_optional_text(4));
      c.repair = st.get_optional_text(5);
      if (auto subject = st.get_optional_int(6); subject && database_index.count(*subject)) {
        c.database = database_index[*subject];
      }
      c.severity = "info";
      cause_ids[st.get_int(0)] = c.id;
      report.causes.push_back(c);
    }
  }
  struct Row {
    Finding f;
    int64_t cause = 0;
  };
  std::vector<Row> rows;
  {
    std::string cols;
    for (const char* k : k_subject_keys) {
      cols += fmt::format(", subject_{}", k);
    }
    store::Statement st = store.prepare(
        "SELECT rule, severity, message, evidence, metrics, repair, coalesce(cause_id, 0)" + cols +
        " FROM finding");
    while (st.step()) {
      Row r;
      r.f.rule = st.get_text(0);
      r.f.severity = st.get_text(1);
      r.f.message = st.get_text(2);
      r.f.evidence = parse_evidence(st.get_optional_text(3));
      if (auto m = st.get_optional_text(4)) {
        auto doc = nlohmann::ordered_json::parse(*m, nullptr, false);
        if (doc.is_object()) {
          r.f.metrics = doc;
        }
      }
      r.f.repair = st.get_optional_text(5);
      r.cause = st.get_int(6);
      for (int i = 0; i < k_subject_count; ++i) {
        r.f.subject.emplace_back(k_subject_keys[i], st.get_optional_text(7 + i));
      }
      rows.push_back(std::move(r));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.cause != b.cause) {
      return a.cause < b.cause;
    }
    if (severity_rank(a.f.severity) != severity_rank(b.f.severity)) {
      return severity_rank(a.f.severity) < severity_rank(b.f.severity);
    }
    if (a.f.rule != b.f.rule) {
      return a.f.rule < b.f.rule;
    }
    for (size_t i = 0; i < a.f.subject.size(); ++i) {
      if (a.f.subject[i].second != b.f.subject[i].second) {
        return subject_less(a.f.subject[i].second, b.f.subject[i].second);
      }
    }
    return false;
  });
  for (size_t i = 0; i < rows.size(); ++i) {
    Finding f = std::move(rows[i].f);
    f.id = fmt::format("F{}", i + 1);
    f.cause = cause_ids.count(rows[i].cause) ? cause_ids[rows[i].cause] : "";
    for (auto& c : report.causes) {
      if (c.id == f.cause) {
        c.findings.push_back(f.id);
        if (severity_rank(f.severity) < severity_rank(c.severity)) {
          c.severity = f.severity;
        }
      }
    }
    report.findings.push_back(std::move(f));
  }
  load_report_context(store, report);
  return report;
}

void write_json(std::ostream& out, const Report& report) {
  nlohmann::ordered_json doc;
  doc["tool"] = "dbautopsy";
  doc["version"] = report.version;
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const auto& in : report.inputs) {
    nlohmann::ordered_json i{{"path", in.path}, {"kind", in.kind}, {"sha256", in.sha256}};
    i["status"] = in.status;
    if (in.status != "ok" && in.detail) {
      i["detail"] = *in.detail;
    }
    inputs.push_back(i);
  }
  doc["inputs"] = inputs;
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const auto& f : report.findings) {
    nlohmann::ordered_json subject = nlohmann::ordered_json::object();
    for (const auto& [k, v] : f.subject) {
      subject[k] = v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
    }
    nlohmann::ordered_json j{
        {"id", f.id},         {"rule", f.rule},       {"severity", f.severity},
        {"subject", subject}, {"message", f.message}, {"evidence", evidence_json(f.evidence)}};
    // The contract: both keys on every finding, {} and null when there is none.
    j["metrics"] = f.metrics ? *f.metrics : nlohmann::ordered_json::object();
    j["repair"] = f.repair ? nlohmann::ordered_json(*f.repair) : nlohmann::ordered_json();
    j["cause"] = f.cause.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(f.cause);
    findings.push_back(j);
  }
  doc["findings"] = findings;
  nlohmann::ordered_json causes = nlohmann::ordered_json::array();
  for (const auto& c : report.causes) {
    causes.push_back({{"id", c.id},
                      {"kind", c.kind},
                      {"summary", c.summary},
                      {"narrative", c.narrative},
                      {"evidence", evidence_json(c.evidence)},
                      {"findings", c.findings}});
    if (c.repair) {
      causes.back()["repair"] = *c.repair;
    }
  }
  doc["causes"] = causes;
  // How the dumps were grouped into databases, each analysed on its own.
  nlohmann::ordered_json databases = nlohmann::ordered_json::array();
  for (const auto& d : report.databases) {
    databases.push_back(
        {{"database", d.name ? nlohmann::ordered_json(*d.name) : nlohmann::ordered_json()},
         {"dumps", d.dumps},
         {"grouped_by", d.grouped_by}});
  }
  doc["databases"] = databases;
  if (!report.notes.empty()) {
    doc["notes"] = report.notes;
  }
  out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

int count_at_least(const Report& report, const std::string& severity) {
  int limit = severity_rank(severity);
  int n = 0;
  for (const auto& f : report.findings) {
    n += severity_rank(f.severity) <= limit;
  }
  return n;
}

Report displayable(const Report& report) {
  Report r = report;
  auto esc = [](std::string& s) { s = text::printable(s); };
  auto esc_opt = [](std::optional<std::string>& s) {
    if (s) {
      *s = text::printable(*s);
    }
  };
  auto esc_evidence = [&](std::vector<Evidence>& evidence) {
    for (auto& e : evidence) {
      esc(e.artifact);
      esc(e.text);
    }
  };
  esc(r.title);
  for (auto& in : r.inputs) {
    esc(in.path);
    esc(in.kind);
    esc(in.codec);
    esc(in.status);
    esc_opt(in.detail);
  }
  for (auto& c : r.causes) {
    esc(c.kind);
    esc(c.summary);
    esc(c.narrative);
    esc_evidence(c.evidence);
  }
  for (auto& f : r.findings) {
    esc(f.rule);
    esc(f.severity);
    esc(f.message);
    for (auto& [k, v] : f.subject) {
      esc_opt(v);
    }
    esc_evidence(f.evidence);
  }
  for (auto& n : r.notes) {
    esc(n);
  }
  for (auto& d : r.databases) {
    esc(d.label);
    esc(d.grouped_by);
    for (auto& p : d.dumps) {
      esc(p);
    }
  }
  return r;
}

}  // namespace dbautopsy::reports
