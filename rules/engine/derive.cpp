#include "rules/engine/derive.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "pgsql/names.hpp"

namespace dbautopsy::rules {

namespace {

// --- snapshots ------------------------------------------------------------------------------

struct Candidate {
  int64_t artifact = 0;
  std::optional<std::string> db;
  std::string path;
  std::string schema_fp;
  std::string data_fp;
  std::optional<std::string> taken_at;
  int64_t relations = 0;
  int64_t data_sections = 0;
};

std::vector<Candidate> candidates(store::Store& store) {
  std::vector<Candidate> out;
  store::Statement st = store.prepare(R"(
    SELECT a.id, u.db, a.path, coalesce(a.started_on, a.completed_on),
           (SELECT count(*) FROM db_relation r WHERE r.artifact_id = a.id AND r.db IS u.db),
           (SELECT count(*) FROM table_stats t WHERE t.artifact_id = a.id AND t.db IS u.db)
      FROM artifact a
      JOIN (SELECT DISTINCT artifact_id, db FROM db_relation
            UNION SELECT DISTINCT artifact_id, db FROM table_stats) u ON u.artifact_id = a.id
     WHERE a.kind IN ('pgdump-sql', 'pgdump-custom', 'pgdump-tar', 'pgdump-dir')
       AND a.status IN ('ok', 'partial')
     ORDER BY a.id, u.db)");
  while (st.step()) {
    Candidate c;
    c.artifact = st.get_int(0);
    c.db = st.get_optional_text(1);
    c.path = st.get_text(2);
    c.taken_at = st.get_optional_text(3);
    c.relations = st.get_int(4);
    c.data_sections = st.get_int(5);
    out.push_back(c);
  }
  // A fingerprint of the schema (every relation, column, index and constraint) and of the
  // data (rows per table), to tell which dumps show the same state.
  for (auto& c : out) {
    store::Statement fp = store.prepare(R"(
      SELECT coalesce(group_concat(x, '|'), '') FROM (
        SELECT 'r:' || schema_name || '.' || name || ':' || kind AS x FROM db_relation
         WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'c:' || schema_name || '.' || table_name || '.' || name || ':' || type ||
               ':' || not_null FROM db_column WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'i:' || schema_name || '.' || name FROM db_index
         WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'k:' || schema_name || '.' || table_name || '.' || name || ':' || kind
          FROM db_constraint WHERE artifact_id = ?1 AND db IS ?2
        ORDER BY 1))");
    fp.bind(1, c.artifact);
    fp.bind(2, c.db);
    c.schema_fp = fp.step() ? fp.get_text(0) : "";
    fp.reset();
    store::Statement data = store.prepare(R"(
      SELECT coalesce(group_concat(x, '|'), '') FROM (
        SELECT schema_name || '.' || table_name || ':' || sum(rows) AS x FROM table_stats
         WHERE artifact_id = ?1 AND db IS ?2 GROUP BY schema_name, table_name ORDER BY 1))");
    data.bind(1, c.artifact);
    data.bind(2, c.db);
    c.data_fp = data.step() ? data.get_text(0) : "";
    data.reset();
  }
  return out;
}

struct Group {
  std::vector<const Candidate*> members;
  std::optional<std::string> taken_at;
};

// -1 when the dump `a` looks earlier than `b` from its sequences' last values (more of them
// behind than ahead), 1 when later, 0 when it cannot tell.
int sequence_order(store::Store& store, int64_t a, int64_t b) {
  store::Statement st = store.prepare(R"(
    SELECT coalesce(sum(sa.last_value < sb.last_value), 0), coalesce(sum(sa.last_value > sb.last_value), 0)
      FROM db_sequence sa JOIN db_sequence sb
        ON sb.schema_name = sa.schema_name AND sb.name = sa.name AND sb.db IS sa.db
     WHERE sa.artifact_id = ?1 AND sb.artifact_id = ?2
       AND sa.last_value IS NOT NULL AND sb.last_value IS NOT NULL)");
  st.bind(1, a);
  st.bind(2, b);
  int result = 0;
  if (st.step()) {
    int64_t behind = st.get_int(0);
    int64_t ahead = st.get_int(1);
    result = behind > ahead ? -1 : ahead > behind ? 1 : 0;
  }
  st.reset();
  return result;
}

bool same_state(const Candidate& a, const Candidate& b) {
  if (a.db != b.db) {
    return false;
  }
  // A data-only dump (no relations) belongs with a schema dump of the same database.
  bool schema_agrees = a.schema_fp == b.schema_fp || a.relations == 0 || b.relations == 0;
  bool data_agrees = a.data_fp == b.data_fp || a.data_fp.empty() || b.data_fp.empty();
  // Two dumps with data taken at different times are different states, even if alike.
  // (To the second: a plain dump's "Started on" names its zone, an archive's creation time
  // -- which `pg_restore -v` prints as "Started on" -- does not.)
  bool times_agree = !a.taken_at || !b.taken_at || a.data_fp.empty() || b.data_fp.empty() ||
                     a.taken_at->substr(0, 19) == b.taken_at->substr(0, 19);
  return schema_agrees && data_agrees && times_agree;
}

void derive_snapshots(store::Store& store, const DeriveOptions& options, DeriveSummary& summary) {
  std::vector<Candidate> all = candidates(store);
  std::vector<Group> groups;
  for (const auto& c : all) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return std::all_of(g.members.begin(), g.members.end(),
                         [&](const Candidate* m) { return same_state(*m, c); });
    });
    if (it == groups.end()) {
      groups.push_back(Group{{&c}, c.taken_at});
    } else {
      it->members.push_back(&c);
      if (!it->taken_at || (c.taken_at && *c.taken_at > *it->taken_at)) {
        it->taken_at = c.taken_at;
      }
    }
  }
  if (groups.empty()) {
    return;
  }
  // Order in time: by the user's --before/--after, else by the dumps' "Started on" header,
  // else in the order the artifacts were read (which the notes say).
  std::string ordered_by = "header";
  auto has_path = [](const Group& g, const std::optional<std::string>& path) {
    return path && std::any_of(g.members.begin(), g.members.end(), [&](const Candidate* m) {
             return m->path == *path || m->path.ends_with("/" + *path);
           });
  };
  if (options.before || options.after) {
    ordered_by = "option";
    std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
      int ra = has_path(a, options.before) ? 0 : has_path(a, options.after) ? 2 : 1;
      int rb = has_path(b, options.before) ? 0 : has_path(b, options.after) ? 2 : 1;
      return ra < rb;
    });
  } else if (std::all_of(groups.begin(), groups.end(), [](const Group& g) { return g.taken_at; })) {
    // Dumps started within the same second (a before/after pair made by one script) are
    // told apart by their sequences, which only move forward: the dump whose setval()
    // values are ahead was taken later.
    std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
      if (*a.taken_at != *b.taken_at) {
        return *a.taken_at < *b.taken_at;
      }
      return sequence_order(store, a.members.front()->artifact, b.members.front()->artifact) < 0;
    });
    for (size_t i = 1; i < groups.size(); ++i) {
      if (*groups[i - 1].taken_at == *groups[i].taken_at) {
        int order = sequence_order(store, groups[i - 1].members.front()->artifact,
                                   groups[i].members.front()->artifact);
        summary.notes.push_back(
            order < 0 ? "two dumps were started in the same second; their sequences (setval) "
                        "tell which came first"
                      : "two dumps were started in the same second and their sequences do not "
                        "tell them apart; they are taken in the order read -- give "
                        "--before/--after to be sure");
      }
    }
  } else {
    ordered_by = "order";
    if (groups.size() > 1) {
      summary.notes.push_back(
          "the dumps do not all say when they were taken (no \"Started on\" header: pg_dump -v "
          "writes it); their order in time is taken from the order they were read -- give "
          "--before/--after to be sure");
    }
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    std::string role = i + 1 == groups.size()   ? "current"
                       : i + 2 == groups.size() ? "before"
                                                : "earlier";
    const Candidate* rep = g.members.front();
    const Candidate* data = nullptr;
    std::vector<std::string> ids;
    for (const Candidate* m : g.members) {
      if (m->relations > rep->relations) {
        rep = m;
      }
      if (m->data_sections > 0 && (!data || m->data_sections > data->data_sections)) {
        data = m;
      }
      ids.push_back(std::to_string(m->artifact));
    }
    std::string joined;
    for (const auto& id : ids) {
      joined += (joined.empty() ? "" : ",") + id;
    }
    store
        .prepare(
            "INSERT INTO snapshot(role, artifact_id, db, data_artifact_id, artifacts, taken_at, "
            "ordered_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .run(role, rep->artifact, rep->db,
             data ? std::optional<int64_t>(data->artifact) : std::nullopt, joined, g.taken_at,
             ordered_by);
  }
  summary.snapshots = static_cast<int>(groups.size());
}

// --- recorded migrations -----------------------------------------------------------------

struct Recorded {
  std::string app, name;
  std::optional<int64_t> record_id;
  std::optional<std::string> applied_at;
  int64_t first_seen = 0;
  int64_t artifact = 0;
  std::optional<int64_t> line;
};

std::vector<Recorded> recorded_migrations(store::Store& store) {
  std::vector<Recorded> out;
  // The evidence row: a real export (csv/json/psql/copy/insert) before showmigrations.
  store::Statement st = store.prepare(R"(
    SELECT app, name, min(record_id), min(applied_at), min(rowid),
           (SELECT artifact_id FROM migration_record r2 WHERE r2.app = r.app AND r2.name = r.name
             ORDER BY source = 'showmigrations', rowid LIMIT 1),
           (SELECT line FROM migration_record r2 WHERE r2.app = r.app AND r2.name = r.name
             ORDER BY source = 'showmigrations', rowid LIMIT 1)
      FROM migration_record r GROUP BY app, name)");
  while (st.step()) {
    Recorded r;
    r.app = st.get_text(0);
    r.name = st.get_text(1);
    r.record_id = st.get_optional_int(2);
    r.applied_at = st.get_optional_text(3);
    r.first_seen = st.get_int(4);
    r.artifact = st.get_int(5);
    r.line = st.get_optional_int(6);
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Recorded& a, const Recorded& b) {
    if (a.record_id && b.record_id) {
      return *a.record_id < *b.record_id;
    }
    if (a.applied_at && b.applied_at && *a.applied_at != *b.applied_at) {
      return *a.applied_at < *b.applied_at;
    }
    return a.first_seen < b.first_seen;
  });
  return out;
}

// --- expected schema -----------------------------------------------------------------------

struct Intent {
  std::string migration, action;
  bool conditional = false;
  int64_t artifact = 0;
  std::optional<int64_t> line;
};

struct Obj {
  std::string kind, schema, table, name;
  std::optional<std::string> type, default_expr, fill_value, constraint_kind, columns, definition;
  std::optional<int64_t> not_null;
  std::optional<std::string> ref_schema, ref_table;  // foreign keys: the referenced table
  bool implied = false;
  std::string migration;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  std::vector<Intent> intents;
  bool alive = true;
};

// What a recorded migration removes (DROP TABLE / COLUMN / INDEX / CONSTRAINT), named as it
// is named at the end of the history (later renames of its table followed), with what the
// fold knew of the object when it was removed.
struct Removal {
  std::string kind, schema;
  std::optional<std::string> table;  // NULL: an index whose table nothing recorded names
  std::string name;
  std::optional<std::string> constraint_kind, columns, definition, created_by;
  std::string migration;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  bool known = false;  // a recorded migration created it (the fold held it when it was removed)
};

struct Effect {
  int64_t artifact = 0;
  std::optional<int64_t> line;
  std::string action, object;
  std::optional<std::string> schema, table, new_name, type, default_expr, kind, columns, definition,
      ref_schema, ref_table;
  std::string name;
  std::optional<int64_t> not_null;
  bool conditional = false;
};

class Fold {
 public:
  explicit Fold(std::string default_schema) : m_default(std::move(default_schema)) {}

  void apply(const std::string& migration, const Effect& e) {
    std::string schema = e.schema.value_or(m_default);
    Intent intent{migration, "create", e.conditional, e.artifact, e.line};
    if (e.object == "table") {
      table(migration, e, schema, intent);
    } else if (e.object == "column") {
      column(migration, e, schema, intent);
    } else if (e.object == "index" || e.object == "constraint") {
      named(migration, e, schema, intent);
    }
  }

  const std::vector<Obj>& objects() const { return m_objects; }

  // The removals whose object is not expected again at the end of the history: the last
  // removal of each object, unless a later migration created it again.
  std::vector<Removal> removals() const {
    std::vector<Removal> out;
    std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
    for (auto it = m_removals.rbegin(); it != m_removals.rend(); ++it) {
      const Removal& r = *it;
      if (!seen.insert({r.kind, r.schema, r.table.value_or(""), r.name}).second) {
        continue;
      }
      bool again = false;
      for (const auto& o : m_objects) {
        again = again || (o.alive && o.kind == r.kind && o.schema == r.schema && o.name == r.name &&
                          (r.kind == "index" || o.table == r.table));
      }
      if (!again) {
        out.push_back(r);
      }
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  using TableKey = std::pair<std::string, std::string>;

  Obj* find_table(const std::string& schema, const std::string& table) {
    auto it = m_tables.find({schema, table});
    return it == m_tables.end() || !m_objects[it->second].alive ? nullptr : &m_objects[it->second];
  }

  Obj& add(Obj o) {
    m_objects.push_back(std::move(o));
    return m_objects.back();
  }

  // The table an effect on a column, index or constraint refers to; a table that no recorded
  // migration created is implied (made by an unrecorded migration, or by hand).
  void ensure_table(const std::string& migration, const Effect& e, const std::string& schema,
                    const std::string& table) {
    if (find_table(schema, table)) {
      return;
    }
    Obj t;
    t.kind = "table";
    t.schema = schema;
    t.table = table;
    t.name = table;
    t.implied = true;
    t.migration = migration;
    t.artifact = e.artifact;
    t.line = e.line;
    m_tables[{schema, table}] = m_objects.size();
    add(std::move(t));
  }

  void table(const std::string& migration, const Effect& e, const std::string& schema,
             Intent intent) {
    Obj* t = find_table(schema, e.name);
    if (e.action == "create") {
      if (t) {
        intent.action = "ensure";
        t->intents.push_back(intent);
        if (t->implied && !e.conditional) {
          t->implied = false;
          t->migration = migration;
        }
        return;
      }
      Obj o;
      o.kind = "table";
      o.schema = schema;
      o.table = e.name;
      o.name = e.name;
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      m_tables[{schema, e.name}] = m_objects.size();
      add(std::move(o));
    } else if (e.action == "drop") {
      // Earlier migrations' removals of its columns, indexes and constraints: gone with it
      // either way.
      std::erase_if(m_removals, [&](const Removal& r) {
        return r.migration != migration && r.kind != "table" && r.schema == schema &&
               r.table == e.name;
      });
      remove(migration, e, "table", schema, e.name, e.name, t);
      // DROP TABLE ... CASCADE: its columns, indexes and constraints, and the foreign keys of
      // other tables that reference it.
      for (auto& o : m_objects) {
        if (o.alive && ((o.schema == schema && o.table == e.name) ||
                        (o.kind == "constraint" && o.ref_table == e.name &&
                         o.ref_schema.value_or(m_default) == schema))) {
          o.alive = false;
        }
      }
    } else if ((e.action == "rename" || e.action == "set_schema") && e.new_name) {
      std::string new_schema = e.action == "set_schema" ? *e.new_name : schema;
      std::string new_table = e.action == "rename" ? *e.new_name : e.name;
      for (auto& o : m_objects) {
        if (o.alive && o.schema == schema && o.table == e.name) {
          o.schema = new_schema;
          o.table = new_table;
          if (o.kind == "table") {
            o.name = new_table;
          }
          intent.action = "alter";
          o.intents.push_back(intent);
        }
        if (o.alive && o.kind == "constraint" && o.ref_table == e.name &&
            o.ref_schema.value_or(m_default) == schema) {
          o.ref_table = new_table;
          o.ref_schema = new_schema;
          if (e.action == "rename") {
            // A foreign key follows its table's new name: so must the DDL that re-creates it.
            o.definition = rename_reference(o.definition, e.name, new_table);
          }
        }
      }
      // Earlier removals from the table are looked for under its final name.
      for (auto& r : m_removals) {
        if (r.schema == schema && r.table == e.name) {
          r.schema = new_schema;
          r.table = new_table;
          if (r.kind == "table") {
            r.name = new_table;
          }
        }
      }
      if (t) {
        size_t index = m_tables[{schema, e.name}];
        m_tables.erase({schema, e.name});
        m_tables[{new_schema, new_table}] = index;
      }
    }
  }

  void remove(const std::string& migration, const Effect& e, const std::string& kind,
              const std::string& schema, const std::optional<std::string>& table,
              const std::string& name, const Obj* known) {
    Removal r;
    r.kind = kind;
    r.schema = schema;
    r.table = known ? std::optional<std::string>(known->table) : table;
    r.name = name;
    r.migration = migration;
    r.artifact = e.artifact;
    r.line = e.line;
    if (known && !known->implied) {
      r.known = true;
      r.constraint_kind = known->constraint_kind;
      r.columns = known->columns;
      r.definition = known->definition;
      r.created_by = known->migration;
    }
    m_removals.push_back(std::move(r));
  }

  // A constraint definition with "REFERENCES [schema.]from" naming `to` instead.
  static std::optional<std::string> rename_reference(const std::optional<std::string>& definition,
                                                     const std::string& from,
                                                     const std::string& to) {
    if (!definition) {
      return definition;
    }
    std::string d = *definition;
    const std::string key = "REFERENCES ";
    for (size_t at = d.find(key); at != std::string::npos; at = d.find(key, at + 1)) {
      size_t start = at + key.size();
      // The last component of a possibly qualified, possibly quoted name.
      size_t pos = start;
      size_t last = start;
      while (pos < d.size()) {
        last = pos;
        if (d[pos] == '"') {
          size_t close = pos + 1;
          while (close < d.size() &&
                 !(d[close] == '"' && (close + 1 >= d.size() || d[close + 1] != '"'))) {
            close += d[close] == '"' ? 2 : 1;
          }
          pos = close + 1;
        } else {
          while (pos < d.size() && d[pos] != '.' && d[pos] != ' ' && d[pos] != '(') {
            ++pos;
          }
        }
        if (pos < d.size() && d[pos] == '.') {
          ++pos;
          continue;
        }
        break;
      }
      std::string name = d.substr(last, pos - last);
      bool quoted = name.size() >= 2 && name.front() == '"';
      if ((quoted && name == "\"" + from + "\"") || (!quoted && name == from)) {
        d.replace(last, pos - last, pgsql::quote_ident(to));
      }
    }
    return d;
  }

  // Whether a key column list ("a, b", quoted or not) names a column.
  static bool names_column(const std::optional<std::string>& columns, const std::string& column) {
    if (!columns) {
      return false;
    }
    std::string quoted = "\"" + column + "\"";
    size_t start = 0;
    while (start <= columns->size()) {
      size_t end = columns->find(',', start);
      if (end == std::string::npos) {
        end = columns->size();
      }
      std::string piece = columns->substr(start, end - start);
      piece.erase(0, piece.find_first_not_of(' '));
      piece.erase(piece.find_last_not_of(' ') + 1);
      if (piece == column || piece == quoted) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  static std::optional<std::string> rename_column_in(const std::optional<std::string>& columns,
                                                     const std::string& from,
                                                     const std::string& to) {
    if (!columns) {
      return columns;
    }
    std::string out;
    size_t start = 0;
    while (start <= columns->size()) {
      size_t end = columns->find(',', start);
      if (end == std::string::npos) {
        end = columns->size();
      }
      std::string piece = columns->substr(start, end - start);
      std::string trimmed = piece;
      trimmed.erase(0, trimmed.find_first_not_of(' '));
      trimmed.erase(trimmed.find_last_not_of(' ') + 1);
      if (trimmed == from) {
        piece = to;
      } else if (trimmed == "\"" + from + "\"") {
        piece = "\"" + to + "\"";
      } else {
        piece = trimmed;
      }
      out += (out.empty() && start == 0 ? "" : ", ") + piece;
      start = end + 1;
    }
    return out;
  }

  void column(const std::string& migration, const Effect& e, const std::string& schema,
              Intent intent) {
    if (!e.table) {
      return;
    }
    ensure_table(migration, e, schema, *e.table);
    Obj* c = nullptr;
    for (auto& o : m_objects) {
      if (o.alive && o.kind == "column" && o.schema == schema && o.table == *e.table &&
          o.name == e.name) {
        c = &o;
      }
    }
    if (e.action == "create") {
      if (c) {
        intent.action = "ensure";
        c->intents.push_back(intent);
        if (!e.conditional) {
          set_props(*c, e);
        }
        return;
      }
      Obj o;
      o.kind = "column";
      o.schema = schema;
      o.table = *e.table;
      o.name = e.name;
      set_props(o, e);
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      add(std::move(o));
    } else if (e.action == "alter" && c) {
      set_props(*c, e);
      intent.action = "alter";
      c->intents.push_back(intent);
    } else if (e.action == "drop") {
      remove(migration, e, "column", schema, *e.table, e.name, c);
      if (c) {
        c->alive = false;
      }
      // DROP COLUMN ... CASCADE: the indexes and constraints on the column go with it, and an
      // earlier migration's removal of one of them is no longer a sign of anything (gone
      // either way). This migration's own explicit removals stay (Django drops a foreign key
      // before its column: both are reported when both are still there).
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.table == *e.table && names_column(o.columns, e.name)) {
          o.alive = false;
        }
      }
      std::erase_if(m_removals, [&](const Removal& r) {
        return r.migration != migration && (r.kind == "index" || r.kind == "constraint") &&
               r.schema == schema && r.table == *e.table && names_column(r.columns, e.name);
      });
    } else if (e.action == "rename" && e.new_name) {
      if (c) {
        c->name = *e.new_name;
        intent.action = "alter";
        c->intents.push_back(intent);
      }
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.table == *e.table) {
          o.columns = rename_column_in(o.columns, e.name, *e.new_name);
        }
      }
      for (auto& r : m_removals) {
        if (r.schema == schema && r.table == *e.table) {
          r.columns = rename_column_in(r.columns, e.name, *e.new_name);
        }
      }
    }
  }

  static void set_props(Obj& o, const Effect& e) {
    if (e.type && *e.type != "unknown") {
      o.type = e.type;
    }
    if (e.not_null) {
      o.not_null = e.not_null;
    }
    if (e.default_expr) {
      o.default_expr = e.default_expr->empty() ? std::nullopt : e.default_expr;  // "" = dropped
      if (!e.default_expr->empty()) {
        o.fill_value = e.default_expr;
      }
    }
  }

  void named(const std::string& migration, const Effect& e, const std::string& schema,
             Intent intent) {
    Obj* existing = nullptr;
    for (auto& o : m_objects) {
      if (o.alive && o.kind == e.object && o.schema == schema && o.name == e.name &&
          (e.object == "index" || !e.table || o.table == *e.table)) {
        existing = &o;
      }
    }
    if (!existing && e.action == "rename") {
      // ALTER INDEX ... RENAME of a UNIQUE / PRIMARY KEY constraint's index renames the
      // constraint, and RENAME CONSTRAINT of one renames its index.
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.name == e.name && (!e.table || o.table == *e.table)) {
          existing = &o;
        }
      }
    }
    if (e.action == "create") {
      if (!e.table) {
        return;
      }
      ensure_table(migration, e, schema, *e.table);
      if (existing) {
        intent.action = "ensure";
        existing->intents.push_back(intent);
        return;
      }
      Obj o;
      o.kind = e.object;
      o.schema = schema;
      o.table = *e.table;
      o.name = e.name;
      o.constraint_kind = e.kind;
      o.columns = e.columns;
      o.definition = e.definition;
      o.ref_schema = e.ref_schema;
      o.ref_table = e.ref_table;
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      add(std::move(o));
    } else if (e.action == "drop") {
      remove(migration, e, e.object, schema, e.table, e.name, existing);
      if (existing) {
        existing->alive = false;
      }
    } else if (e.action == "rename" && existing && e.new_name) {
      existing->name = *e.new_name;
      intent.action = "alter";
      existing->intents.push_back(intent);
    }
  }

  std::string m_default;
  std::vector<Obj> m_objects;
  std::vector<Removal> m_removals;
  std::map<TableKey, size_t> m_tables;
};

std::vector<Effect> effects_of(store::Store& store, const std::string& app, const std::string& name,
                               std::string* source) {
  std::vector<Effect> out;
  for (const char* src : {"sqlmigrate", "py"}) {
    store::Statement st = store.prepare(R"(
      SELECT artifact_id, line, action, object, schema_name, table_name, name, new_name, type,
             not_null, default_expr, kind, columns, conditional, definition, ref_schema,
             ref_table
        FROM migration_effect
       WHERE app = ?1 AND migration = ?2 AND source = ?3
         AND artifact_id = (SELECT min(artifact_id) FROM migration_effect
                             WHERE app = ?1 AND migration = ?2 AND source = ?3)
       ORDER BY seq)");
    st.bind(1, app);
    st.bind(2, name);
    st.bind(3, src);
    while (st.step()) {
      Effect e;
      e.artifact = st.get_int(0);
      e.line = st.get_optional_int(1);
      e.action = st.get_text(2);
      e.object = st.get_text(3);
      e.schema = st.get_optional_text(4);
      e.table = st.get_optional_text(5);
      e.name = st.get_text(6);
      e.new_name = st.get_optional_text(7);
      e.type = st.get_optional_text(8);
      e.not_null = st.get_optional_int(9);
      e.default_expr = st.get_optional_text(10);
      e.kind = st.get_optional_text(11);
      e.columns = st.get_optional_text(12);
      e.conditional = st.get_int(13) != 0;
      e.definition = st.get_optional_text(14);
      e.ref_schema = st.get_optional_text(15);
      e.ref_table = st.get_optional_text(16);
      out.push_back(e);
    }
    st.reset();
    // A migration is known to have been read when its file was, even without effects.
    store::Statement known = store.prepare(
        "SELECT count(*) FROM migration WHERE app = ?1 AND name = ?2 AND source = ?3");
    known.bind(1, app);
    known.bind(2, name);
    known.bind(3, src);
    bool read = known.step() && known.get_int(0) > 0;
    known.reset();
    if (!out.empty() || read) {
      *source = src;
      return out;
    }
  }
  source->clear();
  return out;
}

}  // namespace

DeriveSummary derive(store::Store& store, const DeriveOptions& options) {
  DeriveSummary summary;
  store::Store::Transaction tx(store);
  for (const char* table : {"expected_intent", "expected_object", "expected_removal",
                            "recorded_migration", "snapshot"}) {
    store.exec(fmt::format("DELETE FROM {}", table));
  }
  derive_snapshots(store, options, summary);

  {
    store::Statement st = store.prepare(
        "SELECT schema_name FROM current_relation WHERE name = 'django_migrations' "
        "ORDER BY schema_name = 'public' DESC LIMIT 1");
    summary.default_schema = st.step() ? st.get_text(0) : "public";
    st.reset();
  }

  Fold fold(summary.default_schema);
  int64_t position = 0;
  for (const Recorded& r : recorded_migrations(store)) {
    std::string source;
    std::vector<Effect> effects = effects_of(store, r.app, r.name, &source);
    std::string migration = r.app + "." + r.name;
    for (const Effect& e : effects) {
      fold.apply(migration, e);
    }
    store
        .prepare(
            "INSERT INTO recorded_migration(app, name, position, record_id, applied_at, "
            "artifact_id, line, effects_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .run(r.app, r.name, ++position, r.record_id, r.applied_at, r.artifact, r.line,
             source.empty() ? std::optional<std::string>() : std::optional<std::string>(source));
  }
  summary.recorded_migrations = static_cast<int>(position);

  store::Statement insert_object = store.prepare(
      "INSERT INTO expected_object(kind, schema_name, table_name, name, type, not_null, "
      "default_expr, constraint_kind, columns, definition, implied, migration, artifact_id, line, "
      "fill_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  store::Statement insert_intent = store.prepare(
      "INSERT INTO expected_intent(object_id, migration, action, conditional, artifact_id, line) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  for (const Obj& o : fold.objects()) {
    if (!o.alive) {
      continue;
    }
    insert_object.run(o.kind, o.schema, o.table, o.name, o.type, o.not_null, o.default_expr,
                      o.constraint_kind, o.columns, o.definition, o.implied, o.migration,
                      o.artifact, o.line, o.fill_value);
    int64_t id = store.last_insert_id();
    for (const Intent& i : o.intents) {
      insert_intent.run(id, i.migration, i.action, i.conditional, i.artifact, i.line);
    }
    ++summary.expected_objects;
  }
  store::Statement insert_removal = store.prepare(
      "INSERT INTO expected_removal(kind, schema_name, table_name, name, constraint_kind, "
      "columns, definition, created_by, migration, artifact_id, line) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  for (const Removal& r : fold.removals()) {
    insert_removal.run(r.kind, r.schema, r.table, r.name, r.constraint_kind, r.columns,
                       r.definition, r.created_by, r.migration, r.artifact, r.line);
  }
  derive_data(store, options, summary);
  tx.commit();
  return summary;
}

}  // namespace dbautopsy::rules
