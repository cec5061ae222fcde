// Replays parsed SQL statements against a Catalog, as the server would execute them.
//
// A Session holds what a psql session holds: the search_path (which decides where an
// unqualified CREATE lands and which schema an unqualified name refers to),
// standard_conforming_strings and client_encoding. DdlApplier applies one parsed statement
// at a time: CREATE / ALTER / DROP / RENAME / COMMENT of schemas, tables (ordinary,
// partitioned, unlogged, partitions, inheritance children, foreign), columns (serial,
// identity, generated), sequences, views, materialized views, indexes and constraints; SET
// and set_config(); setval(). It names unnamed constraints, indexes and serial sequences
// exactly as PostgreSQL 15 does.
//
// Statements that do not change the schema (GRANT, OWNER TO, data statements) are
// ignored here; the caller handles COPY and INSERT. What the applier cannot do (an ALTER
// of a table it never saw, a CREATE with no schema to create in) becomes a warning via
// the Problems callback, not an exception.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgsql/catalog.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::pgsql {

struct Session {
  // Entries as set; "$user" and schemas that do not exist are skipped at resolution.
  std::vector<std::string> search_path{"$user", "public"};
  bool standard_conforming_strings = true;
  std::string client_encoding = "UTF8";
};

// What a statement did to the schema, in the order it did it. The sqlmigrate reader
// records these as a migration's effects; the migration .py reader derives the same kind of
// record from Django's operations.
// The schema that unqualified names resolve to while a script is replayed without knowing
// its search_path (script_effects.hpp): effects that land in it were left to the search_path
// by the script.
constexpr const char* k_search_path_schema = "$search_path";

// The definition of a column's effect that puts it back to its type's default collation.
inline constexpr std::string_view k_default_collation = "COLLATE pg_catalog.\"default\"";

struct Effect {
  std::string action;            // create, drop, alter, rename, set_schema; fill (an UPDATE
                                 // that gives a column's NULLs a value, folded into the SET
                                 // NOT NULL after it by fold_fills())
  std::string object;            // schema, table, view, materialized_view, sequence, column,
                                 // index, constraint, extension
  std::string schema;            // the schema the object is in (after resolution)
  bool schema_explicit = false;  // the statement named the schema; else search_path chose
  std::string table;             // for columns, indexes, constraints: their table
  std::string name;              // the object's name (for a table: the table name)
  std::string detail;            // what changed, in words ("type bigint", "set not null", ...)
  std::string new_name;          // rename / set_schema target
  uint64_t line = 0;
  // Columns (create, and alter where it applies): type as format_type() writes it.
  std::string type;
  std::optional<bool> not_null;
  std::optional<std::string> default_expr;
  // Columns: the value an `UPDATE t SET c = v WHERE c IS NULL` gave the NULLs before this SET
  // NOT NULL (Django's AlterField to NOT NULL with a default; see fold_fills()).
  std::optional<std::string> fill_value;
  // Indexes and constraints: kind (p u f c x for constraints; "index" / "unique index"),
  // key columns as written, the referenced table of a foreign key, the definition.
  std::string kind;
  std::string columns;
  std::string ref_schema;
  std::string ref_table;
  // Columns: their COLLATE clause (create: "" for none; alter of the type:
  // k_default_collation when the column goes back to its type's default).
  std::string definition;
  std::string predicate;     // indexes: the WHERE of a partial index
  bool conditional = false;  // only under a condition (an IF in a DO block)
};

struct StatementText {
  std::string_view text;  // the statement as given to the parser
  uint64_t first_line = 0;
};

class DdlApplier {
 public:
  using Warn = std::function<void(uint64_t line, std::string code, std::string message)>;
  using Observe = std::function<void(const Effect&)>;

  DdlApplier(Catalog& catalog, Session& session, Warn warn);

  void set_observer(Observe observe) { m_observe = std::move(observe); }
  // For a script that is not a whole database (one migration's SQL): a table or column the
  // script alters without creating is assumed to exist (made earlier), so that what the
  // script does to it is still seen.
  void set_implicit_relations(bool on) { m_implicit = on; }

  // Applies one statement node (an element of the parse tree's "stmts", the "stmt" body
  // with its type key, e.g. {"CreateStmt": {...}}).
  void apply(const Json& stmt, const StatementText& text);

  // Resolution, as the server does it for the session's search_path. ----------------
  // The schema an unqualified CREATE lands in (nullopt: none of the path exists).
  std::optional<std::string> creation_schema() const;
  // The relation an (optionally qualified) name refers to, if the catalog has it.
  std::optional<QualifiedName> resolve_relation(const std::string& schema,
                                                const std::string& name) const;
  // Like resolve_relation, but when nothing matches, the name it would refer to once
  // created (explicit schema, else the creation schema).
  std::optional<QualifiedName> resolve_or_guess(const Json& range_var) const;

 private:
  struct Ctx;
  void create_schema(const Json& s, Ctx& ctx);
  void create_table(const Json& s, Ctx& ctx, const std::string& kind_override = {});
  void create_sequence(const Json& s, Ctx& ctx);
  void alter_sequence(const Json& s, Ctx& ctx);
  void create_view(const Json& s, Ctx& ctx);
  void create_table_as(const Json& s, Ctx& ctx);
  void create_index(const Json& s, Ctx& ctx);
  void alter_table(const Json& s, Ctx& ctx);
  void rename(const Json& s, Ctx& ctx);
  void set_schema(const Json& s, Ctx& ctx);
  void drop(const Json& s, Ctx& ctx);
  void comment(const Json& s, Ctx& ctx);
  void create_extension(const Json& s, Ctx& ctx);
  void set_variable(const Json& s, Ctx& ctx);
  void select(const Json& s, Ctx& ctx);
  void other_object(std::string_view type, const Json& s, Ctx& ctx);
  void update(const Json& s, Ctx& ctx);

  void add_column(RelationModel& rel, const Json& column_def, Ctx& ctx, bool if_not_exists);
  void add_table_constraint(RelationModel& rel, const Json& constraint, Ctx& ctx,
                            const std::vector<std::string>& column_names, bool recurse);
  void add_identity(RelationModel& rel, store::ColumnFact& col, const Json& constraint, Ctx& ctx);
  void attach_partition(RelationModel& parent, RelationModel& child, const std::string& bound,
                        Ctx& ctx);
  void inherit_from(RelationModel& child, const QualifiedName& parent_key, bool partition,
                    Ctx& ctx);
  void set_search_path(const std::vector<std::string>& path);
  std::vector<RelationModel*> partitions_of(const QualifiedName& table);
  void clone_index_to_partition(const store::IndexFact& parent, RelationModel& child, Ctx& ctx);
  void clone_indexes_to_new_partition(const QualifiedName& parent, RelationModel& child, Ctx& ctx);
  void emit(Effect effect, Ctx& ctx);
  void emit_constraint(const store::ConstraintFact& c, Ctx& ctx);
  void emit_index(const store::IndexFact& i, Ctx& ctx);
  std::string default_text(const Json& expr, Ctx& ctx, size_t stop = std::string::npos);
  TypeResolver type_resolver() const;
  std::optional<QualifiedName> implicit_relation(const Json& range_var, Ctx& ctx);
  store::ColumnFact* implicit_column(const QualifiedName& table, const std::string& name);

  Catalog& m_catalog;
  Session& m_session;
  Warn m_warn;
  Observe m_observe;
  bool m_implicit = false;
};

}  // namespace dbautopsy::pgsql
