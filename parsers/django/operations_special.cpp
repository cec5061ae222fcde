// The operations of django/db/migrations/operations/special.py: RunSQL, RunPython,
// SeparateDatabaseAndState.

#include "django/derivation.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

namespace {

// textwrap.dedent(): lines holding only blanks and tabs become empty, then the longest
// common leading whitespace of the other lines is removed from each.
std::string dedent(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  std::optional<std::string> margin;
  for (auto& line : lines) {
    size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string::npos) {
      line.clear();
      continue;
    }
    std::string ws = line.substr(0, indent);
    if (!margin) {
      margin = ws;
    } else if (starts_with(ws, *margin)) {
      // the margin stays
    } else if (starts_with(*margin, ws)) {
      margin = ws;
    } else {
      size_t i = 0;
      while (i < margin->size() && i < ws.size() && (*margin)[i] == ws[i]) {
        ++i;
      }
      margin = margin->substr(0, i);
    }
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (margin && starts_with(line, *margin)) {
      line.remove_prefix(margin->size());
    }
    out += line;
    if (i + 1 < lines.size()) {
      out += '\n';
    }
  }
  return out;
}

bool is_noop(const Node& n) {
  return n.kind == NodeKind::name && (n.text == "RunSQL.noop" || ends_with(n.text, ".RunSQL.noop"));
}

// "IF NOT EXISTS" in a statement, whatever the case and spacing.
bool has_if_not_exists(std::string_view sql) {
  std::string squashed;
  for (char c : sql) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!squashed.empty() && squashed.back() != ' ') {
        squashed += ' ';
      }
    } else {
      squashed += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return squashed.find("IF NOT EXISTS") != std::string::npos;
}

}  // namespace

// A string argument of RunSQL as Python evaluates it: literals (adjacent ones joined by the
// parser), module-level names (substituted by migration_py), '+', gettext, and
// textwrap.dedent(). nullopt for anything else (a call, str.format(), '%', an f-string).
std::optional<std::string> Derivation::sql_string(const Node& n) {
  if (auto s = string_of(&n)) {
    return s;
  }
  if (n.kind == NodeKind::binary && n.text == "+" && n.children.size() == 2) {
    auto a = sql_string(n.children[0]);
    auto b = sql_string(n.children[1]);
    if (a && b) {
      return *a + *b;
    }
    return std::nullopt;
  }
  if (n.kind == NodeKind::call && callee_path(n) == "textwrap.dedent" && n.argument(0) &&
      !n.argument(1)) {
    if (auto s = sql_string(*n.argument(0))) {
      return dedent(*s);
    }
  }
  return std::nullopt;
}

// psycopg2's adaptation of a RunSQL parameter, through the PostgreSQL schema editor's
// quote_value() when sqlmigrate collects it ('%' of a str doubled there, not when migrate
// executes it).
std::optional<std::string> Derivation::param_sql(const Node& n) {
  PyValue v = python_value(n);
  switch (v.t) {
    case PyValue::T::none:
      return std::string("NULL");
    case PyValue::T::boolean:
      return std::string(v.text == "True" ? "true" : "false");
    case PyValue::T::integer:
    case PyValue::T::decimal:
      return number_sql(v.text);
    case PyValue::T::floating:
      return number_sql(float_repr(std::strtod(v.text.c_str(), nullptr)));
    case PyValue::T::string:
      if (v.text.find('\\') != std::string::npos) {
        return std::nullopt;  // psycopg2 writes E'...' depending on the connection
      }
      return quote_string(v.text, m_settings.sqlmigrate_semantics);
    default:
      return std::nullopt;
  }
}

// RunSQL._run_sql(schema_editor, self.sql) of Django 3.2 with the PostgreSQL schema
// editor: a list or tuple runs each element -- a string as written (params None: '%' is
// not interpreted), or a 2-element list / tuple (sql, params), params None as written,
// else `sql % tuple(map(quote_value, params))` ('%s' replaced, '%%' made '%'); any other
// length makes Django raise. A string other than RunSQL.noop ('') runs whole
// (prepare_sql_script() of the PostgreSQL backend does not split it). execute() appends
// ';' where the statement does not end with one, as sqlmigrate prints it.
std::vector<Derivation::SqlStatement> Derivation::run_sql_statements(const Operation& op) {
  std::vector<SqlStatement> out;
  const Node* arg = op.arg("sql");
  if (!arg) {
    problem("warning", "django-sql-unknown", "RunSQL: no sql argument; nothing is replayed");
    return out;
  }
  Node value = resolved(arg);
  auto add = [&](std::string sql, uint64_t line) {
    if (!ends_with(sql, ";")) {
      sql += ";";
    }
    out.push_back({std::move(sql), line});
  };
  auto unreadable = [&](const Node& n, const std::string& why) {
    problem("warning", "django-sql-unknown",
            "RunSQL: " + why + " (" + py::to_source(n) +
                "); what it runs cannot be known without running Python, it is not replayed",
            n.line ? n.line : value.line);
  };
  if (value.kind == NodeKind::list || value.kind == NodeKind::tuple) {
    for (const auto& e : value.children) {
      if (e.star) {
        unreadable(e, "an unpacked element of the statement list");
      } else if (auto s = sql_string(e)) {
        add(*s, e.line);
      } else if (is_noop(e)) {
        add("", e.line);
      } else if (e.kind == NodeKind::list || e.kind == NodeKind::tuple) {
        if (e.children.size() != 2) {
          unreadable(e,
                     "an element that is not a 2-tuple (Django raises ValueError: Expected a "
                     "2-tuple but got " +
                         std::to_string(e.children.size()) + ")");
          continue;
        }
        auto text = sql_string(e.children[0]);
        if (!text) {
          unreadable(e.children[0], "the SQL of a (sql, params) pair is not a string literal");
          continue;
        }
        const Node& params = e.children[1];
        if (params.kind == NodeKind::none) {
          add(*text, e.line);
          continue;
        }
        if (params.kind != NodeKind::list && params.kind != NodeKind::tuple) {
          unreadable(params, "the parameters of a (sql, params) pair are not a list or tuple");
          continue;
        }
        std::string sql;
        size_t k = 0;
        std::string error;
        for (size_t i = 0; i < text->size() && error.empty(); ++i) {
          char c = (*text)[i];
          if (c != '%') {
            sql += c;
            continue;
          }
          char next = i + 1 < text->size() ? (*text)[i + 1] : '\0';
          ++i;
          if (next == '%') {
            sql += '%';
          } else if (next == 's') {
            if (k >= params.children.size()) {
              error = "fewer parameters than %s placeholders (Python raises TypeError)";
            } else if (params.children[k].star) {
              error = "an unpacked parameter";
            } else if (auto v = param_sql(params.children[k++])) {
              sql += *v;
            } else {
              error = "a parameter that is not a literal None, bool, number or str";
            }
          } else {
            error = std::string("a placeholder other than %s or %% ('%") + next + "')";
          }
        }
        if (error.empty() && k != params.children.size()) {
          error = "more parameters than %s placeholders (Python raises TypeError)";
        }
        if (!error.empty()) {
          unreadable(e, error);
          continue;
        }
        add(sql, e.line);
      } else {
        unreadable(e, "an element of the statement list is not a string literal");
      }
    }
  } else if (auto s = sql_string(value)) {
    if (!s->empty()) {
      add(*s, value.line);
    }
  } else if (!is_noop(value)) {
    unreadable(value, "its SQL is not a string literal");
  }
  return out;
}

void Derivation::op_run_sql(const Operation& op, bool database) {
  if (database) {
    for (const auto& st : run_sql_statements(op)) {
      if (text::trim(st.sql.substr(0, st.sql.size() - 1)).empty()) {
        continue;  // an empty statement: nothing happens
      }
      size_t first = m_mig->effects.size();
      size_t problems = m_mig->problems.size();
      execute(st.sql, st.line);
      if (m_mig->problems.size() == problems && has_if_not_exists(st.sql)) {
        ensured_effects(st, first);
      }
    }
  }
  for (const auto& so : op.state_operations) {
    m_line = so.line;
    apply(so, false);
  }
}

// What a RunSQL statement with IF NOT EXISTS makes sure of. Replayed on the project state
// it does nothing when an earlier migration made the object; yet it is this migration's
// intent that the object exists (the repair migrations of faked ones are written so), and
// the sqlmigrate reader, which replays each migration on its own, records it. So the
// objects the statement creates when replayed on its own are effects of the migration too.
void Derivation::ensured_effects(const SqlStatement& st, size_t first) {
  pgsql::Catalog catalog;
  pgsql::Session session;
  pgsql::prepare_sentinel_session(catalog, session);
  pgsql::ScriptEffects alone = pgsql::replay_script(st.sql, st.line, catalog, session);
  if (!alone.problems.empty()) {
    return;
  }
  for (auto& e : alone.effects) {
    if (e.action != "create") {
      continue;
    }
    bool seen = false;
    for (size_t i = first; i < m_mig->effects.size() && !seen; ++i) {
      const pgsql::Effect& d = m_mig->effects[i];
      seen = d.action == e.action && d.object == e.object && d.table == e.table && d.name == e.name;
    }
    if (!seen) {
      m_mig->effects.push_back(std::move(e));
    }
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
