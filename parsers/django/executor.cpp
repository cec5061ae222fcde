// The plan `manage.py migrate` follows, as django/db/migrations/loader.py (replacements of
// squashed migrations, __first__ / __latest__), graph.py (forwards_plan) and executor.py
// (migration_plan, apply_migration) build it; DEFAULT_AUTO_FIELD inferred when not given.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

// --- the plan -------------------------------------------------------------------------------

void Derivation::infer_default_auto_field(const std::vector<MigrationFile>& files) {
  if (m_settings.default_auto_field) {
    m_default_auto = last_component(*m_settings.default_auto_field);
    return;
  }
  std::map<std::string, int> counts;
  for (const auto& f : files) {
    if (std::find(k_contrib_apps.begin(), k_contrib_apps.end(), f.app) != k_contrib_apps.end()) {
      continue;
    }
    for (const auto& op : f.operations) {
      if (op.type != "CreateModel") {
        continue;
      }
      for (const auto& pair : elements_of(op.arg("fields"))) {
        if (pair.children.size() != 2 || pair.children[1].kind != NodeKind::call) {
          continue;
        }
        const Node& call = pair.children[1];
        if (bool_of(call.keyword_argument("auto_created")).value_or(false) &&
            bool_of(call.keyword_argument("primary_key")).value_or(false) && call.callee()) {
          std::string cls = last_component(call.callee()->dotted());
          if (ends_with(cls, "AutoField")) {
            ++counts[cls];
          }
        }
      }
    }
  }
  int best = 0;
  for (const auto& [cls, n] : counts) {
    if (n > best) {
      best = n;
      m_default_auto = cls;
    }
  }
}

// MigrationLoader.build_graph() and MigrationExecutor.migration_plan() for `migrate` with
// no arguments: squashed migrations replace what they replace (unless partly applied),
// __first__ / __latest__ name an app's root / leaf, and the plan walks the sorted leaf
// nodes depth-first, parents in the order Django's iterative DFS visits them.
std::vector<const MigrationFile*> Derivation::plan(const std::vector<MigrationFile>& files) {
  std::map<MigrationKey, const MigrationFile*> nodes;
  for (const auto& f : files) {
    if (!nodes.emplace(f.key(), &f).second) {
      problem("warning", "django-migration-duplicate",
              "migration " + f.key().label() + " is given twice; the first one is used");
    }
  }
  std::map<MigrationKey, MigrationKey> redirect;  // replaced -> replacement, or the reverse
  std::set<MigrationKey> removed;
  for (const auto& [key, f] : nodes) {
    if (f->replaces.empty()) {
      continue;
    }
    size_t applied = 0;
    size_t on_disk = 0;
    for (const auto& r : f->replaces) {
      applied += m_settings.applied.count(r);
      on_disk += nodes.count(r);
    }
    // Every migration it replaces recorded, and its file at hand: Django counts the squash as
    // applied, but each of those rows says that migration ran, and what the database lacks is
    // that migration's (a removal recorded with --fake before the squash was written is the
    // replaced migration's, not the squash's). They are read in its place, as when the squash
    // is only partly applied.
    const bool replaced_recorded =
        applied > 0 && applied == f->replaces.size() && on_disk == f->replaces.size();
    if (!replaced_recorded && (applied == 0 || applied == f->replaces.size())) {
      for (const auto& r : f->replaces) {
        redirect[r] = key;
        if (nodes.count(r)) {
          removed.insert(r);
        }
      }
    } else {
      redirect[key] = f->replaces.back();
      removed.insert(key);
      if (!replaced_recorded) {
        problem("notice", "django-squash-partial",
                "squashed migration " + key.label() +
                    " is only partly applied: the migrations it replaces are used instead");
      }
    }
  }
  for (const auto& r : removed) {
    MigrationSchema ms;
    ms.key = r;
    auto it = redirect.find(r);
    if (it != redirect.end()) {
      ms.replaced_by = it->second;
    }
    m_out.migrations.push_back(std::move(ms));
  }
  auto active = [&](const MigrationKey& k) { return nodes.count(k) && !removed.count(k); };
  std::map<MigrationKey, std::set<MigrationKey>> parents, children;
  for (const auto& [key, f] : nodes) {
    if (!removed.count(key)) {
      parents[key];
      children[key];
    }
  }
  // Django's contrib apps ship their migrations with Django: a set without any of an
  // app's migrations (a project's own migrations folders) is expected, and the models of
  // those apps are assumed (k_builtin_models), so depending on one is no problem.
  std::set<std::string> apps_given;
  for (const auto& [key, f] : nodes) {
    apps_given.insert(key.app);
  }
  auto contrib_not_given = [&](const std::string& app) {
    return !apps_given.count(app) &&
           std::find(k_contrib_apps.begin(), k_contrib_apps.end(), app) != k_contrib_apps.end();
  };
  auto add_edge = [&](const MigrationKey& child, MigrationKey parent, uint64_t line) {
    for (int hops = 0; hops < 8 && redirect.count(parent) && !active(parent); ++hops) {
      parent = redirect[parent];
    }
    if (!active(parent) && contrib_not_given(parent.app)) {
      return;
    }
    if (!active(parent)) {
      Problem p{line, "warning", "django-dependency-missing",
                "migration " + child.label() + " depends on " + parent.label() +
                    ", which is not among the migrations given"};
      m_out.problems.push_back(p);
      return;
    }
    if (parent == child) {
      return;
    }
    parents[child].insert(parent);
    children[parent].insert(child);
  };
  auto dep_key = [&](const Dependency& d) {
    MigrationKey k{d.app, d.name};
    if (d.swappable) {
      std::string value = !d.swappable_value.empty() ? d.swappable_value : "";
      if (value.empty()) {
        auto it = m_swappable.find(d.setting);
        value = it != m_swappable.end() ? it->second : std::string();
      }
      if (!value.empty()) {
        k.app = value.substr(0, value.find('.'));
      }
      k.name = "__first__";
    }
    return k;
  };
  auto special = [](const MigrationKey& k) {
    return k.name == "__first__" || k.name == "__latest__";
  };
  // Same-app dependencies first: __first__ / __latest__ of other apps are resolved on the
  // graph they make.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, f] : nodes) {
      if (removed.count(key)) {
        continue;
      }
      for (const auto& d : f->dependencies) {
        MigrationKey k = dep_key(d);
        bool internal = k.app == key.app;
        if ((pass == 0) != internal) {
          continue;
        }
        if (special(k)) {
          if (internal) {
            continue;  // #22325: __first__ of the migration's own app is ignored
          }
          std::vector<MigrationKey> candidates;
          for (const auto& [n, ps] : parents) {
            if (n.app != k.app) {
              continue;
            }
            const auto& rel = k.name == "__first__" ? ps : children[n];
            bool edge = std::any_of(rel.begin(), rel.end(),
                                    [&](const MigrationKey& o) { return o.app == k.app; });
            if (!edge) {
              candidates.push_back(n);
            }
          }
          if (candidates.empty() && contrib_not_given(k.app)) {
            continue;
          }
          if (candidates.empty()) {
            m_out.problems.push_back(
                Problem{d.line, "warning", "django-dependency-missing",
                        "migration " + key.label() + " depends on app " + k.app +
                            ", which has no migration among those given (" + k.name + ")"});
            continue;
          }
          std::sort(candidates.begin(), candidates.end());
          k = candidates.front();
        }
        add_edge(key, k, d.line);
      }
      if (pass == 1) {
        for (const auto& d : f->run_before) {
          MigrationKey k{d.app, d.name};
          if (active(k)) {
            add_edge(k, key, d.line);
          }
        }
      }
    }
  }
  std::vector<MigrationKey> leaves;
  for (const auto& [n, cs] : children) {
    if (std::none_of(cs.begin(), cs.end(),
                     [&app = n.app](const MigrationKey& c) { return c.app == app; })) {
      leaves.push_back(n);
    }
  }
  std::sort(leaves.begin(), leaves.end());
  std::vector<const MigrationFile*> order;
  std::set<MigrationKey> done, in_progress;
  for (const auto& leaf : leaves) {
    // Iterative DFS: (node, expanded).
    std::vector<std::pair<MigrationKey, bool>> stack{{leaf, false}};
    while (!stack.empty()) {
      auto [node, expanded] = stack.back();
      stack.pop_back();
      if (done.count(node)) {
        continue;
      }
      if (expanded) {
        in_progress.erase(node);
        done.insert(node);
        order.push_back(nodes[node]);
        continue;
      }
      if (in_progress.count(node)) {
        m_out.problems.push_back(
            Problem{0, "error", "django-dependency-cycle",
                    "migration " + node.label() + " depends on itself through a cycle"});
        continue;
      }
      in_progress.insert(node);
      stack.emplace_back(node, true);
      for (const auto& p : parents[node]) {
        if (!done.count(p)) {
          if (in_progress.count(p)) {
            m_out.problems.push_back(Problem{0, "error", "django-dependency-cycle",
                                             "migrations " + node.label() + " and " + p.label() +
                                                 " depend on each other (a cycle)"});
            continue;
          }
          stack.emplace_back(p, false);
        }
      }
    }
  }
  return order;
}

namespace {

// "(x)" -> "x" while one pair of parentheses encloses the whole expression (outside string
// literals and quoted identifiers).
void strip_enclosing_parentheses(std::string& s) {
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    int depth = 0;
    char quote = 0;
    bool encloses = true;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (quote) {
        if (c == quote) {
          quote = 0;  // a doubled quote closes and reopens: same result
        }
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0 && i + 1 < s.size()) {
        encloses = false;
        break;
      }
    }
    if (!encloses || depth != 0 || quote) {
      return;
    }
    s = s.substr(1, s.size() - 2);
  }
}

}  // namespace

void Derivation::finish_effects(MigrationSchema& m) {
  const std::string sentinel = pgsql::k_search_path_schema;
  const std::string sentinel_prefix = pgsql::quote_ident(sentinel) + ".";
  auto strip = [&](std::string& s) {
    for (size_t p; (p = s.find(sentinel_prefix)) != std::string::npos;) {
      s.erase(p, sentinel_prefix.size());
    }
  };
  for (auto& e : m.effects) {
    if (e.schema == sentinel) {
      e.schema.clear();
      e.schema_explicit = false;
    }
    if (e.ref_schema == sentinel) {
      e.ref_schema.clear();
    }
    if (e.type.find(k_unknown_type) != std::string::npos) {
      e.type.clear();
    }
    if (e.detail.find(k_unknown_type) != std::string::npos) {
      e.detail = "type unknown";
    }
    if (e.default_expr) {
      strip(*e.default_expr);
      // Django 5.0's db_default of an expression is put in parentheses (db_default_sql():
      // "(%s)"); PostgreSQL keeps the expression without them (pg_get_expr() of
      // "DEFAULT (STATEMENT_TIMESTAMP())" is "statement_timestamp()").
      strip_enclosing_parentheses(*e.default_expr);
    }
    strip(e.definition);
    strip(e.detail);
  }
}

void Derivation::apply_migration(const MigrationFile& f) {
  m_out.migrations.emplace_back();
  m_mig = &m_out.migrations.back();
  m_mig->key = f.key();
  m_file = &f;
  m_identity = f.generated_by && *f.generated_by >= std::make_pair(4, 1);
  m_collected.clear();
  m_deferred.clear();
  if (m_settings.sqlmigrate_semantics) {
    m_snapshot = m_catalog;
  }
  for (const auto& op : f.operations) {
    m_line = op.line;
    m_collected.push_back("--");
    bool reduces_to_sql = op.type != "RunPython" || !op.known;
    if (!reduces_to_sql) {
      m_collected.push_back("-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL:");
    }
    m_collected.push_back("-- " + op.summary);
    m_collected.push_back("--");
    apply(op, true);
  }
  flush_deferred();
  if (!m_collected.empty()) {
    bool atomic = f.atomic.value_or(true);
    std::string text = join(m_collected, "\n");
    m_mig->sqlmigrate = atomic ? "BEGIN;\n" + text + "\nCOMMIT;\n" : text + "\n";
  }
  finish_effects(*m_mig);
  m_mig = nullptr;
  m_file = nullptr;
}

void Derivation::run(const std::vector<MigrationFile>& files) {
  infer_default_auto_field(files);
  m_out.default_auto_field = m_default_auto;
  std::vector<const MigrationFile*> order = plan(files);
  std::vector<MigrationSchema> replaced = std::move(m_out.migrations);
  m_out.migrations.clear();
  m_out.migrations.reserve(order.size() + replaced.size());
  for (const MigrationFile* f : order) {
    apply_migration(*f);
  }
  for (auto& r : replaced) {
    m_out.migrations.push_back(std::move(r));
  }
  m_out.catalog = m_catalog;
  // The columns Django fills as it saves a new row, by the state the migrations end in.
  for (const ModelState& m : sorted_models()) {
    if (m.proxy) {
      continue;
    }
    for (const Field& f : local_fields(m)) {
      if (!f.has_column || f.is_m2m() || f.db_default) {
        continue;
      }
      std::string origin;
      if (f.auto_now_add) {
        origin = "auto_now_add";
      } else if (f.auto_now) {
        origin = "auto_now";
      } else if (f.has_default() && python_value(*f.default_value).t == PyValue::T::runtime) {
        origin = "default=" + py::to_source(*f.default_value);
      }
      if (!origin.empty()) {
        m_out.app_values.push_back(
            AppValueColumn{db_table(m), f.column(), origin, f.migration, f.line});
      }
    }
  }
}

}  // namespace dbautopsy::django::detail
