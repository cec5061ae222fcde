// SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format): one run, the rules with
// their documentation as tool.driver.rules, each finding a result pointing at the artifact
// and line of its evidence, with fingerprints stable across runs (rule and subject, never
// the finding's number or message, which change when other findings come and go).

#include <xxhash.h>

#include <fmt/format.h>

#include <map>

#include "base/text.hpp"
#include "reports/report.hpp"

namespace dbautopsy::reports {

namespace {

using json = nlohmann::ordered_json;

std::string level_of(const std::string& severity) {
  return severity == "error" ? "error" : severity == "warning" ? "warning" : "note";
}

// A relative path as a URI reference: RFC 3986 unreserved characters and `/` stay, every
// other byte is percent-encoded (a space, `#`, `%`, non-ASCII names).
std::string uri_of(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string fingerprint(const Finding& f) {
  std::string key = f.rule;
  for (const auto& [k, v] : f.subject) {
    key += '\x1f';
    key += k;
    key += '=';
    key += v ? *v : std::string("\x1e");
  }
  return fmt::format("{:016x}", XXH3_64bits(key.data(), key.size()));
}

}  // namespace

void write_sarif(std::ostream& out, const Report& report, const std::vector<RuleDoc>& rule_docs) {
  // Messages are shown by viewers: the names in them are escaped (text::printable). URIs
  // (percent-encoded) and the subject (data, as in the JSON report) are as read.
  json rules = json::array();
  std::map<std::string, size_t> rule_index;
  auto add_rule = [&](const RuleDoc& r) {
    if (rule_index.count(r.id)) {
      return;
    }
    rule_index[r.id] = rules.size();
    json rule{{"id", r.id}, {"name", r.id}};
    rule["shortDescription"] = {{"text", text::printable(r.title.empty() ? r.id : r.title)}};
    if (!r.rationale.empty()) {
      rule["fullDescription"] = {{"text", text::printable(r.rationale)}};
    }
    if (!r.doc.empty() || !r.remedy.empty()) {
      std::string text = r.doc.empty() ? r.remedy : r.doc;
      rule["help"] = {{"text", text}, {"markdown", text}};
    }
    rule["defaultConfiguration"] = {{"level", level_of(r.severity)}};
    rules.push_back(rule);
  };
  for (const auto& r : rule_docs) {
    add_rule(r);
  }
  for (const auto& f : report.findings) {  // a rule of --rules-dir the caller did not list
    add_rule(RuleDoc{f.rule, f.severity, f.rule, "", "", ""});
  }

  json artifacts = json::array();
  std::map<std::string, size_t> artifact_index;
  for (const auto& in : report.inputs) {
    artifact_index[in.path] = artifacts.size();
    json a{{"location", {{"uri", uri_of(in.path)}}}};
    if (in.sha256.size() == 64) {
      a["hashes"] = {{"sha-256", in.sha256}};
    }
    artifacts.push_back(a);
  }
  auto location = [&](const Evidence& e) {
    json physical{{"artifactLocation", {{"uri", uri_of(e.artifact)}}}};
    if (auto it = artifact_index.find(e.artifact); it != artifact_index.end()) {
      physical["artifactLocation"]["index"] = it->second;
    }
    if (e.line && *e.line >= 1) {
      physical["region"] = {{"startLine", *e.line}};
    }
    json loc{{"physicalLocation", physical}};
    if (!e.text.empty()) {
      loc["message"] = {{"text", text::printable(e.text)}};
    }
    return loc;
  };

  json results = json::array();
  for (const auto& f : report.findings) {
    json r{{"ruleId", f.rule}, {"ruleIndex", rule_index[f.rule]}, {"level", level_of(f.severity)}};
    r["message"] = {{"text", text::printable(f.message)}};
    json locations = json::array();
    json related = json::array();
    for (const auto& e : f.evidence) {
      if (e.artifact.empty()) {
        continue;
      }
      // The first piece of evidence is where the finding is; the rest are related places.
      if (locations.empty()) {
        locations.push_back(location(e));
      } else {
        json l = location(e);
        l["id"] = related.size() + 1;
        related.push_back(l);
      }
    }
    if (!locations.empty()) {
      r["locations"] = locations;
    }
    if (!related.empty()) {
      r["relatedLocations"] = related;
    }
    r["partialFingerprints"] = {{"dbautopsySubject/v1", fingerprint(f)}};
    json subject = json::object();
    for (const auto& [k, v] : f.subject) {
      subject[k] = v ? json(*v) : json();
    }
    json properties{{"id", f.id}, {"subject", subject}};
    if (!f.cause.empty()) {
      properties["cause"] = f.cause;
    }
    if (f.metrics) {
      properties["metrics"] = *f.metrics;
    }
    if (f.repair) {
      properties["repair"] = *f.repair;
    }
    r["properties"] = properties;
    results.push_back(r);
  }

  json causes = json::array();
  for (const auto& c : report.causes) {
    causes.push_back({{"id", c.id},
                      {"kind", c.kind},
                      {"summary", text::printable(c.summary)},
                      {"narrative", text::printable(c.narrative)},
                      {"findings", c.findings}});
  }
  json driver{{"name", "dbautopsy"},
              {"version", report.version},
              {"semanticVersion", report.version},
              {"rules", rules}};
  json run{{"tool", {{"driver", driver}}},
           {"artifacts", artifacts},
           {"results", results},
           {"columnKind", "unicodeCodePoints"},
           {"properties", {{"title", text::printable(report.title)}, {"causes", causes}}}};
  json doc{{"$schema",
            "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
            "sarif-schema-2.1.0.json"},
           {"version", "2.1.0"},
           {"runs", json::array({run})}};
  out << doc.dump(2) << "\n";
}

}  // namespace dbautopsy::reports
