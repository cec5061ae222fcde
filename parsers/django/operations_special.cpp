// The operations of django/db/migrations/operations/special.py: RunSQL, RunPython,
// SeparateDatabaseAndState.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

void Derivation::op_run_sql(const Operation& op, bool database) {
  if (database) {
    const Node* sql = op.arg("sql");
    Node value = resolved(sql);
    auto run = [&](const std::string& text, uint64_t line) {
      if (!text::trim(text).empty()) {
        execute(text, line);
      }
    };
    if (auto s = string_of(&value)) {
      run(*s, value.line);
    } else if (value.kind == NodeKind::list || value.kind == NodeKind::tuple) {
      for (const auto& e : value.children) {
        if (auto s2 = string_of(&e)) {
          run(*s2, e.line);
        } else if ((e.kind == NodeKind::tuple || e.kind == NodeKind::list) &&
                   e.children.size() == 2 && string_of(&e.children[0])) {
          // (sql, params): the parameters are interpolated as psycopg2 would.
          std::string text = *string_of(&e.children[0]);
          std::string out;
          auto params = elements_of(&e.children[1]);
          size_t k = 0;
          bool ok = true;
          for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == 's') {
              if (k >= params.size()) {
                ok = false;
                break;
              }
              Field untyped;
              auto v = value_sql(untyped, python_value(params[k++]));
              if (!v) {
                ok = false;
                break;
              }
              out += *v;
              ++i;
            } else if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '%') {
              out += '%';
              ++i;
            } else {
              out += text[i];
            }
          }
          if (ok) {
            run(out, e.line);
          } else {
            problem("warning", "django-sql-unknown",
                    "RunSQL: the parameters of a statement cannot be read; it is not replayed",
                    e.line);
          }
        } else {
          problem("warning", "django-sql-unknown",
                  "RunSQL: an element of the statement list is not a literal: " + py::to_source(e),
                  e.line);
        }
      }
    } else if (!(value.kind == NodeKind::name && ends_with(value.text, "RunSQL.noop"))) {
      problem("warning", "django-sql-unknown",
              "RunSQL: its SQL is not a literal (" + py::to_source(value) +
                  "); what it does cannot be known without running Python");
    }
  }
  for (const auto& so : op.state_operations) {
    m_line = so.line;
    apply(so, false);
  }
}

void Derivation::op_run_python(const Operation& op) {
  for (const auto& so : op.state_operations) {
    apply(so, false);
  }
}

// database_forwards() applies each database operation on a state of its own; only the state
// operations change the project state.
void Derivation::op_separate_database_and_state(const Operation& op, bool database) {
  auto saved = m_models;
  auto saved_order = m_model_order;
  for (const auto& d : op.database_operations) {
    m_line = d.line;
    apply(d, database);
  }
  m_models = std::move(saved);
  m_model_order = saved_order;
  for (const auto& s : op.state_operations) {
    m_line = s.line;
    apply(s, false);
  }
}

}  // namespace dbautopsy::django::detail
