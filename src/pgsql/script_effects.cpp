#include "pgsql/script_effects.hpp"

#include <fmt/format.h>

#include "base/text.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/script_lexer.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::pgsql {

namespace {

class Replayer final : public ScriptLexer::Handler {
 public:
  Replayer(Catalog& catalog, Session& session, ScriptEffects& out)
      : m_out(out),
        m_lexer(*this, 64u << 20),
        m_applier(catalog, session, [this](uint64_t line, std::string code, std::string message) {
          m_out.problems.push_back({line, "warning", std::move(code), std::move(message)});
        }) {
    m_applier.set_implicit_relations(true);
    m_applier.set_observer([this](const Effect& e) {
      Effect copy = e;
      copy.conditional = copy.conditional || m_conditional > 0;
      if (m_line_override) {
        copy.line = m_line_override;
      }
      m_out.effects.push_back(std::move(copy));
    });
  }

  void run(std::string_view script, uint64_t first_line) {
    uint64_t number = first_line;
    uint64_t offset = 0;
    for (auto line : text::split(script, '\n')) {
      m_lexer.feed(line, number++, offset);
      offset += line.size() + 1;
    }
    m_lexer.finish();
  }

  bool on_statement(ScriptStatement& st) override {
    ++m_out.statements;
    statement(st.text, st.first_line);
    return false;
  }

  void on_meta_command(std::string_view, uint64_t) override {}

 private:
  void statement(std::string_view text, uint64_t line) {
    ParseResult parsed = parse(text);
    if (!parsed.ok()) {
      m_out.problems.push_back({line, "warning", "sql-syntax",
                                fmt::format("PostgreSQL 15's parser rejects the statement at "
                                            "line {}: {}",
                                            line, parsed.error->message)});
      return;
    }
    for (const Json& item : field(parsed.tree, "stmts")) {
      const Json& node = field(item, "stmt");
      if (node_type(node) == "DoStmt") {
        do_block(node_body(node), line);
        continue;
      }
      m_applier.apply(node, StatementText{text, line});
    }
  }

  // DO [LANGUAGE plpgsql] $$ body $$: wrap the body as a function for the PL/pgSQL parser.
  void do_block(const Json& stmt, uint64_t line) {
    std::string body;
    std::string language = "plpgsql";
    for (const Json& a : field(stmt, "args")) {
      const Json& d = node_body(a);
      if (str(d, "defname") == "as") {
        body = const_text(field(d, "arg")).value_or("");
      } else if (str(d, "defname") == "language") {
        language = const_text(field(d, "arg")).value_or("plpgsql");
      }
    }
    if (!text::iequals(language, "plpgsql")) {
      m_out.problems.push_back({line, "warning", "opaque-code",
                                fmt::format("DO block at line {} in language {}: its effects "
                                            "cannot be known",
                                            line, language)});
      return;
    }
    std::string tag = "$dbautopsy_do$";
    ParseResult fn = parse_plpgsql("CREATE FUNCTION dbautopsy_do() RETURNS void AS " + tag + body +
                                   tag + " LANGUAGE plpgsql");
    if (!fn.ok()) {
      m_out.problems.push_back({line, "warning", "sql-syntax",
                                fmt::format("the PL/pgSQL of the DO block at line {} does not "
                                            "parse: {}",
                                            line, fn.error->message)});
      return;
    }
    walk_plpgsql(fn.tree, line, false);
  }

  // Visits PL/pgSQL statements; `nested` is true under a condition or loop.
  void walk_plpgsql(const Json& node, uint64_t line, bool nested) {
    if (node.is_array()) {
      for (const Json& item : node) {
        walk_plpgsql(item, line, nested);
      }
      return;
    }
    if (!node.is_object()) {
      return;
    }
    std::string_view type = node_type(node);
    const Json& body = node_body(node);
    if (type == "PLpgSQL_stmt_execsql") {
      std::string query = str(field(field(body, "sqlstmt"), "PLpgSQL_expr"), "query");
      uint64_t at = line + static_cast<uint64_t>(std::max<int64_t>(num(body, "lineno", 1), 1)) - 1;
      if (nested) {
        ++m_conditional;
      }
      m_line_override = at;
      statement(query, at);
      m_line_override = 0;
      if (nested) {
        --m_conditional;
      }
      return;
    }
    if (type == "PLpgSQL_stmt_dynexecute") {
      m_out.problems.push_back(
          {line, "warning", "dynamic-sql",
           "a DO block runs dynamic SQL (EXECUTE of a string): what it does cannot be known "
           "without running it"});
      return;
    }
    bool branch = type == "PLpgSQL_stmt_if" || type == "PLpgSQL_stmt_case" ||
                  type == "PLpgSQL_stmt_loop" || type == "PLpgSQL_stmt_while" ||
                  type == "PLpgSQL_stmt_fori" || type == "PLpgSQL_stmt_fors" ||
                  type == "PLpgSQL_stmt_foreach_a";
    for (const auto& item : body.items()) {
      if (item.value().is_structured()) {
        walk_plpgsql(item.value(), line, nested || branch);
      }
    }
  }

  ScriptEffects& m_out;
  ScriptLexer m_lexer;
  DdlApplier m_applier;
  int m_conditional = 0;
  uint64_t m_line_override = 0;
};

}  // namespace

void prepare_sentinel_session(Catalog& catalog, Session& session) {
  catalog.add_schema(store::SchemaFact{{}, {}, k_search_path_schema});
  session.search_path = {k_search_path_schema};
}

ScriptEffects replay_script(std::string_view script, uint64_t first_line, Catalog& catalog,
                            Session& session) {
  ScriptEffects out;
  Replayer replayer(catalog, session, out);
  replayer.run(script, first_line);
  return out;
}

void fold_fills(std::vector<Effect>& effects) {
  std::vector<Effect> out;
  out.reserve(effects.size());
  std::vector<Effect> pending;  // fills not yet followed by their SET NOT NULL
  for (Effect& e : effects) {
    if (e.action == "fill") {
      std::erase_if(pending, [&](const Effect& p) {
        return p.schema == e.schema && p.table == e.table && p.name == e.name;
      });
      pending.push_back(std::move(e));
      continue;
    }
    if (e.action == "alter" && e.object == "column" && e.not_null && *e.not_null) {
      for (auto it = pending.begin(); it != pending.end(); ++it) {
        if (it->schema == e.schema && it->table == e.table && it->name == e.name) {
          e.fill_value = it->fill_value;
          pending.erase(it);
          break;
        }
      }
    }
    out.push_back(std::move(e));
  }
  effects = std::move(out);
}

}  // namespace dbautopsy::pgsql
