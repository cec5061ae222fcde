#include "django/migration_py.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "base/error.hpp"

namespace dbautopsy::django {

namespace {

using py::Node;
using py::NodeKind;

struct Signature {
  std::string_view type;
  std::array<std::string_view, 5> params;
};

// Parameter names in declaration order (django/db/migrations/operations/*.py and
// django/contrib/postgres/operations.py, Django 3.2; the operations Django 4.0 to 5.2 added
// are listed at the end of each group: RenameIndex (4.1), AlterModelTableComment (4.2),
// AddConstraintNotValid and ValidateConstraint (contrib/postgres, 4.0)).
constexpr size_t k_first_postgres = 22;
constexpr std::array<Signature, 37> k_signatures = {{
    {"CreateModel", {"name", "fields", "options", "bases", "managers"}},
    {"DeleteModel", {"name"}},
    {"RenameModel", {"old_name", "new_name"}},
    {"AlterModelTable", {"name", "table"}},
    {"AlterUniqueTogether", {"name", "unique_together"}},
    {"AlterIndexTogether", {"name", "index_together"}},
    {"AlterOrderWithRespectTo", {"name", "order_with_respect_to"}},
    {"AlterModelOptions", {"name", "options"}},
    {"AlterModelManagers", {"name", "managers"}},
    {"AddField", {"model_name", "name", "field", "preserve_default"}},
    {"RemoveField", {"model_name", "name"}},
    {"AlterField", {"model_name", "name", "field", "preserve_default"}},
    {"RenameField", {"model_name", "old_name", "new_name"}},
    {"AddIndex", {"model_name", "index"}},
    {"RemoveIndex", {"model_name", "name"}},
    {"AddConstraint", {"model_name", "constraint"}},
    {"RemoveConstraint", {"model_name", "name"}},
    {"RenameIndex", {"model_name", "new_name", "old_name", "old_fields"}},
    {"AlterModelTableComment", {"name", "table_comment"}},
    {"RunSQL", {"sql", "reverse_sql", "state_operations", "hints", "elidable"}},
    {"RunPython", {"code", "reverse_code", "atomic", "hints", "elidable"}},
    {"SeparateDatabaseAndState", {"database_operations", "state_operations"}},
    {"CreateExtension", {"name"}},
    {"BloomExtension", {}},
    {"BtreeGinExtension", {}},
    {"BtreeGistExtension", {}},
    {"CITextExtension", {}},
    {"CryptoExtension", {}},
    {"HStoreExtension", {}},
    {"TrigramExtension", {}},
    {"UnaccentExtension", {}},
    {"AddIndexConcurrently", {"model_name", "index"}},
    {"RemoveIndexConcurrently", {"model_name", "name"}},
    {"CreateCollation", {"name", "locale"}},
    {"RemoveCollation", {"name", "locale"}},
    {"AddConstraintNotValid", {"model_name", "constraint"}},
    {"ValidateConstraint", {"model_name", "name"}},
}};

const Signature* signature(std::string_view type) {
  for (const auto& s : k_signatures) {
    if (s.type == type) {
      return &s;
    }
  }
  return nullptr;
}

bool is_postgres_operation(std::string_view type) {
  const Signature* s = signature(type);
  return s && static_cast<size_t>(s - k_signatures.data()) >= k_first_postgres;
}

std::string last_component(std::string_view dotted) {
  size_t dot = dotted.rfind('.');
  return std::string(dot == std::string_view::npos ? dotted : dotted.substr(dot + 1));
}

std::optional<std::vector<Node>> sequence_elements(const Node& n);
void substitute_names(Node& n, const py::Module& m, int depth);

// What a name holds after the statements that build it: its last assignment, then the
// changes after it in order -- `x += v`, `x.append(v)`, `x.extend(v)`, `x.insert(i, v)` --
// as one `+` of sequences (a hand-written migration may build `operations` in steps, under
// an `if` too). The changes it cannot follow are listed in `unfollowed`.
struct Built {
  bool found = false;
  uint64_t line = 0;
  Node value;
  std::vector<std::pair<uint64_t, std::string>> unfollowed;  // line, the statement
};

Built built_value(const std::vector<py::Assignment>& assignments, std::string_view name,
                  const py::Module& m, int depth) {
  Built b;
  auto sequence_of = [](std::vector<Node> elems, uint64_t line) {
    Node list;
    list.kind = NodeKind::list;
    list.line = line;
    list.children = std::move(elems);
    return list;
  };
  for (const auto& a : assignments) {
    if (std::find(a.targets.begin(), a.targets.end(), name) == a.targets.end()) {
      continue;
    }
    if (a.augment.empty()) {
      // `a = b = [...]` or `a, b = ...`: not followed, as before.
      b = Built{};
      b.found = a.targets.size() == 1;
      b.line = a.line;
      b.value = a.value;
      continue;
    }
    if (!b.found) {
      continue;
    }
    const Node& v = a.value;
    std::vector<const Node*> args =
        v.kind == NodeKind::call ? v.positional_arguments() : std::vector<const Node*>{};
    bool plain_args = v.kind == NodeKind::call && v.keyword_arguments().empty() &&
                      std::none_of(args.begin(), args.end(), [](const Node* x) { return x->star; });
    std::optional<Node> added;
    if (a.augment == "+=") {
      added = v;
    } else if (a.augment == ".append" && plain_args && args.size() == 1) {
      added = sequence_of({*args[0]}, a.line);
    } else if (a.augment == ".extend" && plain_args && args.size() == 1) {
      added = *args[0];
    } else if (a.augment == ".insert" && plain_args && args.size() == 2) {
      // The elements so far, module-level lists (`operations.extend(MORE)`) substituted.
      Node so_far = b.value;
      substitute_names(so_far, m, depth + 1);
      auto elems = sequence_elements(so_far);
      const Node& at = *args[0];
      bool negative = at.kind == NodeKind::unary && at.text == "-" && at.children.size() == 1 &&
                      at.children[0].kind == NodeKind::number;
      const Node& digits = negative ? at.children[0] : at;
      if (elems && digits.kind == NodeKind::number && !digits.text.empty() &&
          digits.text.size() < 10 &&
          std::all_of(digits.text.begin(), digits.text.end(),
                      [](char c) { return c >= '0' && c <= '9'; })) {
        // list.insert(): a position past either end is that end.
        long long i = std::stoll(digits.text);
        long long size = static_cast<long long>(elems->size());
        i = negative ? std::max(0LL, size - i) : std::min(i, size);
        elems->insert(elems->begin() + i, *args[1]);
        b.value = sequence_of(std::move(*elems), b.value.line);
        continue;
      }
    }
    if (!added) {
      b.unfollowed.emplace_back(a.line, py::to_source(v.kind == NodeKind::call ? v : a.value));
      continue;
    }
    Node sum;
    sum.kind = NodeKind::binary;
    sum.text = "+";
    sum.line = b.value.line;
    sum.children = {std::move(b.value), std::move(*added)};
    b.value = std::move(sum);
  }
  return b;
}

// Names bound at module level are replaced by their value, a few levels deep (a name
// bound to another name), never following a cycle.
void substitute_names(Node& n, const py::Module& m, int depth) {
  if (depth > 8) {
    return;
  }
  if (n.kind == NodeKind::name) {
    Built a = built_value(m.assignments, n.text, m, depth);
    if (a.found && a.unfollowed.empty() && a.value.kind != NodeKind::opaque) {
      Node value = a.value;
      value.keyword = n.keyword;
      value.star = n.star;
      substitute_names(value, m, depth + 1);
      n = std::move(value);
    }
    return;
  }
  if (n.kind == NodeKind::call && !n.children.empty()) {
    // The callee is a class or function, not a value: leave it.
    for (size_t i = 1; i < n.children.size(); ++i) {
      substitute_names(n.children[i], m, depth);
    }
    return;
  }
  if (n.kind == NodeKind::attribute) {
    return;  // `settings.AUTH_USER_MODEL`, `models.CASCADE`: references, not values
  }
  for (auto& c : n.children) {
    substitute_names(c, m, depth);
  }
}

// Arguments unpacked from a literal, as Python passes them: `f(*('a', 1))` is f('a', 1),
// `f(**{'null': True})` and `f(**dict(null=True))` are f(null=True) -- after module-level
// names are substituted, so `**NULLABLE` of a module-level dict is read too. What is
// unpacked from anything else stays, and is reported where it is read.
void expand_unpacking(Node& n) {
  for (auto& c : n.children) {
    expand_unpacking(c);
  }
  // A literal spliced into a literal: `{**BASE_OPTIONS, 'db_table': 'x'}`, `[*BASE, op]`.
  if (n.kind == NodeKind::dict || n.kind == NodeKind::list || n.kind == NodeKind::tuple ||
      n.kind == NodeKind::set) {
    std::vector<Node> out;
    for (auto& e : n.children) {
      bool spliced = n.kind == NodeKind::dict
                         ? e.star == 2 && e.kind == NodeKind::dict
                         : e.star == 1 && (e.kind == NodeKind::list || e.kind == NodeKind::tuple);
      if (!spliced) {
        out.push_back(std::move(e));
        continue;
      }
      for (auto& inner : e.children) {
        out.push_back(std::move(inner));
      }
    }
    n.children = std::move(out);
    return;
  }
  if (n.kind != NodeKind::call || n.children.empty()) {
    return;
  }
  std::vector<Node> args;
  args.push_back(std::move(n.children[0]));
  for (size_t i = 1; i < n.children.size(); ++i) {
    Node& a = n.children[i];
    auto no_star = [](const std::vector<Node>& v) {
      return std::none_of(v.begin(), v.end(), [](const Node& e) { return e.star != 0; });
    };
    if (a.star == 1 && (a.kind == NodeKind::tuple || a.kind == NodeKind::list) &&
        no_star(a.children)) {
      for (auto& e : a.children) {
        e.keyword.clear();
        args.push_back(std::move(e));
      }
      continue;
    }
    if (a.star == 2 && a.kind == NodeKind::dict &&
        std::all_of(a.children.begin(), a.children.end(), [](const Node& e) {
          return e.star == 0 && e.children.size() == 2 && e.children[0].is_string();
        })) {
      for (auto& e : a.children) {
        Node v = std::move(e.children[1]);
        v.keyword = e.children[0].text;
        v.star = 0;
        args.push_back(std::move(v));
      }
      continue;
    }
    if (a.star == 2 && a.kind == NodeKind::call && a.callee() &&
        a.callee()->kind == NodeKind::name && a.callee()->text == "dict" && a.children.size() > 1 &&
        std::all_of(a.children.begin() + 1, a.children.end(),
                    [](const Node& e) { return e.star == 0 && !e.keyword.empty(); })) {
      for (size_t k = 1; k < a.children.size(); ++k) {
        args.push_back(std::move(a.children[k]));
      }
      continue;
    }
    args.push_back(std::move(a));
  }
  n.children = std::move(args);
}

// `a + b` of lists / tuples as one sequence (hand-written operation and dependency
// lists are often joined).
std::optional<std::vector<Node>> sequence_elements(const Node& n) {
  if (n.kind == NodeKind::list || n.kind == NodeKind::tuple) {
    return n.children;
  }
  if (n.kind == NodeKind::binary && n.text == "+" && n.children.size() == 2) {
    auto a = sequence_elements(n.children[0]);
    auto b = sequence_elements(n.children[1]);
    if (a && b) {
      a->insert(a->end(), b->begin(), b->end());
      return a;
    }
  }
  return std::nullopt;
}

std::string str_or(const Node* n, std::string_view fallback) {
  return n && n->is_string() ? n->text : std::string(fallback);
}

size_t together_count(const Node* n) {
  // normalize_together(): a single tuple of names counts as one.
  if (!n || n->kind == NodeKind::none) {
    return 0;
  }
  auto elems = sequence_elements(*n);
  if (!elems && n->kind == NodeKind::set) {
    elems = n->children;
  }
  if (!elems) {
    return 0;
  }
  if (elems->empty()) {
    return 0;
  }
  if ((*elems)[0].is_string()) {
    return 1;
  }
  return elems->size();
}

std::string list_strings(const Node* n) {
  std::vector<std::string> parts;
  if (n) {
    if (auto elems = sequence_elements(*n)) {
      for (const auto& e : *elems) {
        parts.push_back(e.is_string() ? e.text : py::to_source(e));
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i ? ", " : "") + parts[i];
  }
  return out;
}

// str() of an index expression as Django 3.2 prints it (BaseExpression has no __str__, so
// it is the repr): a string is F(name), a number Value(n), `x.desc()` OrderBy(x,
// descending=True), a function its class name and its arguments' reprs (Func.__repr__).
// What it does not model is written as in the file.
std::string expression_repr(const Node& e, const py::Module& m) {
  if (e.is_string()) {
    return "F(" + e.text + ")";
  }
  if (e.kind == NodeKind::number) {
    return "Value(" + e.text + ")";
  }
  if (e.kind != NodeKind::call || !e.callee()) {
    return py::to_source(e);
  }
  const Node& callee = *e.callee();
  auto args = e.positional_arguments();
  // OrderBy(expression, descending=...), as makemigrations writes F('x').desc(): its repr
  // names the expression and descending only.
  if (last_component(m.resolve(callee.dotted())) == "OrderBy" && args.size() == 1 &&
      m.resolve(callee.dotted()).rfind("django.db.models.", 0) == 0) {
    const Node* descending = e.keyword_argument("descending");
    if (!descending || descending->kind == NodeKind::boolean) {
      return "OrderBy(" + expression_repr(*args[0], m) +
             ", descending=" + (descending ? descending->text : std::string("False")) + ")";
    }
  }
  if (!e.keyword_arguments().empty()) {
    return py::to_source(e);
  }
  if (callee.kind == NodeKind::attribute && (callee.text == "desc" || callee.text == "asc") &&
      !callee.children.empty() && args.empty()) {
    return "OrderBy(" + expression_repr(callee.children[0], m) +
           ", descending=" + (callee.text == "desc" ? "True" : "False") + ")";
  }
  std::string path = m.resolve(callee.dotted());
  if (path.rfind("django.db.models.", 0) != 0) {
    return py::to_source(e);
  }
  std::string cls = last_component(path);
  if (cls == "F" && args.size() == 1 && args[0]->is_string()) {
    return "F(" + args[0]->text + ")";
  }
  if (cls == "Value" || cls == "OrderBy" || cls == "ExpressionWrapper" || cls == "Collate" ||
      cls == "RawSQL" || cls == "Case" || cls == "When" || cls == "Q") {
    return py::to_source(e);  // reprs of their own
  }
  std::string out = cls + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i]->star) {
      return py::to_source(e);
    }
    out += (i ? ", " : "") + expression_repr(*args[i], m);
  }
  return out + ")";
}

// Django's Operation.describe() for the operations it knows.
std::string describe(const Operation& op, const py::Module& m) {
  const std::string& t = op.type;
  auto s = [&](std::string_view param) { return str_or(op.arg(param), "?"); };
  if (t == "CreateModel") {
    bool proxy = false;
    if (const Node* options = op.arg("options"); options && options->kind == NodeKind::dict) {
      for (const auto& e : options->children) {
        if (e.children.size() == 2 && e.children[0].is_string() && e.children[0].text == "proxy" &&
            e.children[1].kind == NodeKind::boolean) {
          proxy = e.children[1].text == "True";
        }
      }
    }
    return "Create " + std::string(proxy ? "proxy " : "") + "model " + s("name");
  }
  if (t == "DeleteModel") {
    return "Delete model " + s("name");
  }
  if (t == "RenameModel") {
    return "Rename model " + s("old_name") + " to " + s("new_name");
  }
  if (t == "AlterModelTable") {
    const Node* table = op.arg("table");
    return "Rename table for " + s("name") + " to " +
           (table && table->is_string() ? table->text : std::string("(default)"));
  }
  if (t == "AlterUniqueTogether" || t == "AlterIndexTogether") {
    std::string option = t == "AlterUniqueTogether" ? "unique_together" : "index_together";
    return "Alter " + option + " for " + s("name") + " (" +
           std::to_string(together_count(op.arg(option))) + " constraint(s))";
  }
  if (t == "AlterOrderWithRespectTo") {
    const Node* o = op.arg("order_with_respect_to");
    return "Set order_with_respect_to on " + s("name") + " to " +
           (o && o->is_string() ? o->text : std::string("None"));
  }
  if (t == "AlterModelOptions") {
    return "Change Meta options on " + s("name");
  }
  if (t == "AlterModelManagers") {
    return "Change managers on " + s("name");
  }
  if (t == "AddField") {
    return "Add field " + s("name") + " to " + s("model_name");
  }
  if (t == "RemoveField") {
    return "Remove field " + s("name") + " from " + s("model_name");
  }
  if (t == "AlterField") {
    return "Alter field " + s("name") + " on " + s("model_name");
  }
  if (t == "RenameField") {
    return "Rename field " + s("old_name") + " on " + s("model_name") + " to " + s("new_name");
  }
  if (t == "AddIndex" || t == "AddIndexConcurrently") {
    const Node* index = op.arg("index");
    std::string name = index ? str_or(index->keyword_argument("name"), "?") : "?";
    std::string prefix = t == "AddIndex" ? "Create index " : "Concurrently create index ";
    if (index && index->kind == NodeKind::call && !index->positional_arguments().empty()) {
      std::vector<std::string> exprs;
      for (const Node* e : index->positional_arguments()) {
        exprs.push_back(expression_repr(*e, m));
      }
      std::string joined;
      for (size_t i = 0; i < exprs.size(); ++i) {
        joined += (i ? ", " : "") + exprs[i];
      }
      return prefix + name + " on " + joined + " on model " + s("model_name");
    }
    return prefix + name + " on field(s) " +
           list_strings(index ? index->keyword_argument("fields") : nullptr) + " of model " +
           s("model_name");
  }
  if (t == "RemoveIndex") {
    return "Remove index " + s("name") + " from " + s("model_name");
  }
  if (t == "RemoveIndexConcurrently") {
    return "Concurrently remove index " + s("name") + " from " + s("model_name");
  }
  if (t == "AddConstraint") {
    const Node* c = op.arg("constraint");
    return "Create constraint " + (c ? str_or(c->keyword_argument("name"), "?") : "?") +
           " on model " + s("model_name");
  }
  if (t == "RemoveConstraint") {
    return "Remove constraint " + s("name") + " from model " + s("model_name");
  }
  if (t == "RenameIndex") {
    // RenameIndex.describe() (Django 4.1+).
    if (const Node* of = op.arg("old_fields"); of && of->kind != NodeKind::none) {
      return "Rename unnamed index for " + list_strings(of) + " on " + s("model_name") + " to " +
             s("new_name");
    }
    return "Rename index " + s("old_name") + " on " + s("model_name") + " to " + s("new_name");
  }
  if (t == "AlterModelTableComment") {
    return "Alter " + s("name") + " table comment";
  }
  if (t == "AddConstraintNotValid") {
    const Node* c = op.arg("constraint");
    return "Create not valid constraint " + (c ? str_or(c->keyword_argument("name"), "?") : "?") +
           " on model " + s("model_name");
  }
  if (t == "ValidateConstraint") {
    return "Validate constraint " + s("name") + " on model " + s("model_name");
  }
  if (t == "RunSQL") {
    return "Raw SQL operation";
  }
  if (t == "RunPython") {
    return "Raw Python operation";
  }
  if (t == "SeparateDatabaseAndState") {
    return "Custom state/database change combination";
  }
  if (t == "CreateCollation") {
    return "Create collation " + s("name");
  }
  if (t == "RemoveCollation") {
    return "Remove collation " + s("name");
  }
  if (is_postgres_operation(t)) {
    static const std::array<std::pair<std::string_view, std::string_view>, 8> k_ext = {{
        {"BloomExtension", "bloom"},
        {"BtreeGinExtension", "btree_gin"},
        {"BtreeGistExtension", "btree_gist"},
        {"CITextExtension", "citext"},
        {"CryptoExtension", "pgcrypto"},
        {"HStoreExtension", "hstore"},
        {"TrigramExtension", "pg_trgm"},
        {"UnaccentExtension", "unaccent"},
    }};
    for (const auto& [type, ext] : k_ext) {
      if (t == type) {
        return "Creates extension " + std::string(ext);
      }
    }
    return "Creates extension " + s("name");
  }
  return "Custom operation " + op.path;
}

class Reader {
 public:
  explicit Reader(MigrationFile& f) : m_file(f) {}

  void problem(uint64_t line, std::string severity, std::string code, std::string message) {
    m_file.problems.push_back(
        Problem{line, std::move(severity), std::move(code), std::move(message)});
  }

  Operation operation(const Node& node) {
    Operation op;
    op.line = node.line;
    if (node.kind != NodeKind::call || !node.callee()) {
      op.type = "";
      op.path = "";
      op.call = node;
      op.summary = "Not an operation: " + py::to_source(node);
      problem(node.line, "warning", "django-operation-not-call",
              "an element of `operations` is a " + std::string(py::kind_name(node.kind)) +
                  ", not an operation call: " + py::to_source(node));
      return op;
    }
    op.call = node;
    std::string dotted = node.callee()->dotted();
    op.path = dotted.empty() ? py::to_source(*node.callee()) : m_file.module.resolve(dotted);
    // The class the name is bound to, not the name: `from django.db.migrations import
    // AlterModelTable as Retable` makes `Retable(...)` an AlterModelTable.
    op.type = last_component(op.path);
    op.known = is_known_path(op.path, op.type);
    if (!op.known) {
      op.summary = "Custom operation " + op.path;
      return op;
    }
    op.summary = describe(op, m_file.module);
    if (op.type == "SeparateDatabaseAndState") {
      op.database_operations = operation_list(op.arg("database_operations"), "database_operations");
      op.state_operations = operation_list(op.arg("state_operations"), "state_operations");
    } else if (op.type == "RunSQL" || op.type == "RunPython") {
      if (const Node* so = node.keyword_argument("state_operations")) {
        op.state_operations = operation_list(so, "state_operations");
      } else if (op.type == "RunSQL") {
        op.state_operations = operation_list(op.arg("state_operations"), "state_operations");
      }
    }
    return op;
  }

  std::vector<Operation> operation_list(const Node* list, std::string_view what) {
    std::vector<Operation> out;
    if (!list || list->kind == NodeKind::none) {
      return out;
    }
    auto elems = sequence_elements(*list);
    if (!elems) {
      problem(list->line, "warning", "django-operations-unreadable",
              std::string(what) + " is a " + std::string(py::kind_name(list->kind)) +
                  ", not a list of operations; its operations are not known: " +
                  abbreviate(py::to_source(*list)));
      return out;
    }
    for (const auto& e : *elems) {
      if (e.star) {
        problem(e.line, "warning", "django-operations-unreadable",
                std::string(what) + " unpacks " + py::to_source(e) +
                    "; those operations are not known");
        continue;
      }
      out.push_back(operation(e));
    }
    return out;
  }

  std::vector<Dependency> dependencies(const Node& list, std::string_view what) {
    std::vector<Dependency> out;
    auto elems = sequence_elements(list);
    if (!elems) {
      problem(list.line, "warning", "django-dependency-unreadable",
              std::string(what) +
                  " is not a list of (app, migration) pairs: " + abbreviate(py::to_source(list)));
      return out;
    }
    for (const auto& e : *elems) {
      Dependency d;
      d.line = e.line;
      if ((e.kind == NodeKind::tuple || e.kind == NodeKind::list) && e.children.size() == 2 &&
          e.children[0].is_string() && e.children[1].is_string()) {
        d.app = e.children[0].text;
        d.name = e.children[1].text;
        out.push_back(d);
        continue;
      }
      if (e.kind == NodeKind::call && e.callee() &&
          last_component(e.callee()->dotted()) == "swappable_dependency" && e.argument(0)) {
        const Node* v = e.argument(0);
        std::string resolved = m_file.module.resolve(v->dotted());
        d.swappable = true;
        d.name = "__first__";
        if (v->is_string()) {
          d.swappable_value = v->text;
          d.app = v->text.substr(0, v->text.find('.'));
          out.push_back(d);
          continue;
        }
        if (resolved.rfind("django.conf.settings.", 0) == 0 ||
            v->dotted().rfind("settings.", 0) == 0) {
          d.setting = last_component(v->dotted());
          // Django's own default for the settings it declares swappable.
          d.app = d.setting == "AUTH_USER_MODEL" ? "auth" : "";
          out.push_back(d);
          continue;
        }
      }
      problem(e.line, "warning", "django-dependency-unreadable",
              "a dependency is not an (app, migration) pair: " + abbreviate(py::to_source(e)));
    }
    return out;
  }

  static std::string abbreviate(std::string s) {
    if (s.size() > 120) {
      s = s.substr(0, 117) + "...";
    }
    return s;
  }

  static bool is_known_path(const std::string& path, const std::string& type) {
    if (!signature(type)) {
      return false;
    }
    if (is_postgres_operation(type)) {
      return path.rfind("django.contrib.postgres.operations.", 0) == 0;
    }
    return path.rfind("django.db.migrations.", 0) == 0;
  }

 private:
  MigrationFile& m_file;
};

}  // namespace

const py::Node* Operation::arg(std::string_view name) const {
  if (const Node* kw = call.keyword_argument(name)) {
    return kw;
  }
  const Signature* s = signature(type);
  if (!s) {
    return nullptr;
  }
  for (size_t i = 0; i < s->params.size(); ++i) {
    if (s->params[i] == name) {
      return call.argument(i);
    }
  }
  return nullptr;
}

bool is_known_operation_type(std::string_view type) {
  return signature(type) != nullptr;
}

MigrationFile parse_migration_py(std::string_view text, std::string app, std::string name) {
  MigrationFile f;
  f.app = std::move(app);
  f.name = std::move(name);
  f.module = py::parse_module(text);
  {
    // makemigrations writes the header on the first line (migrations/writer.py
    // MIGRATION_HEADER_TEMPLATE); a comment further down is not its header.
    static const RE2 k_header(R"(^# Generated by Django (\d+)\.(\d+))");
    std::string_view first = text.substr(0, std::min(text.find('\n'), text.size()));
    int major = 0, minor = 0;
    if (RE2::PartialMatch(first, k_header, &major, &minor)) {
      f.generated_by = std::make_pair(major, minor);
    }
  }
  Reader reader(f);
  for (const auto& p : f.module.problems) {
    reader.problem(p.line, "error", "python-syntax", p.message);
  }
  const py::ClassDef* cls = f.module.class_named("Migration");
  if (!cls) {
    reader.problem(0, "error", "django-no-migration-class",
                   "no `class Migration` in the file: not a migration");
    return f;
  }
  f.has_migration_class = true;
  // The lists a migration may build in steps: their value after the last change.
  std::map<std::string, Built, std::less<>> built;
  for (std::string_view name : {"operations", "dependencies", "run_before", "replaces"}) {
    Built b = built_value(cls->assignments, name, f.module, 0);
    for (const auto& [line, statement] : b.unfollowed) {
      reader.problem(
          line, "warning",
          name == "operations" ? "django-operations-unreadable" : "django-dependency-unreadable",
          "`" + std::string(name) + "` is changed by " + Reader::abbreviate(statement) +
              ", which is not followed: what Django reads may differ");
    }
    built.emplace(std::string(name), std::move(b));
  }
  for (const auto& a : cls->assignments) {
    if (a.targets.size() != 1 || !a.augment.empty()) {
      continue;
    }
    const std::string& target = a.targets[0];
    Node value = a.value;
    // The last assignment of a list built in steps stands for the list as built.
    if (auto b = built.find(target);
        b != built.end() && b->second.found && b->second.line == a.line) {
      value = b->second.value;
    }
    substitute_names(value, f.module, 0);
    expand_unpacking(value);
    if (target == "initial") {
      if (value.kind == NodeKind::boolean) {
        f.initial = value.text == "True";
      } else if (value.kind != NodeKind::none) {
        reader.problem(a.line, "notice", "django-attribute-unreadable",
                       "`initial` is not True or False: " + py::to_source(value));
      }
    } else if (target == "atomic") {
      if (value.kind == NodeKind::boolean) {
        f.atomic = value.text == "True";
      } else {
        reader.problem(a.line, "notice", "django-attribute-unreadable",
                       "`atomic` is not True or False: " + py::to_source(value));
      }
    } else if (target == "dependencies") {
      f.dependencies = reader.dependencies(value, "dependencies");
    } else if (target == "run_before") {
      f.run_before = reader.dependencies(value, "run_before");
    } else if (target == "replaces") {
      for (const auto& d : reader.dependencies(value, "replaces")) {
        if (d.swappable) {
          reader.problem(d.line, "warning", "django-dependency-unreadable",
                         "`replaces` names a swappable dependency");
          continue;
        }
        f.replaces.push_back(MigrationKey{d.app, d.name});
      }
    } else if (target == "operations") {
      f.operations = reader.operation_list(&value, "operations");
    }
  }
  std::stable_sort(f.problems.begin(), f.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  return f;
}

std::optional<MigrationKey> migration_key_from_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/' || path[i] == '\\') {
      if (i > start) {
        parts.push_back(path.substr(start, i - start));
      }
      start = i + 1;
    }
  }
  if (parts.size() < 2) {
    return std::nullopt;
  }
  std::string_view file = parts.back();
  // A compressed file (0001_initial.py.gz) is the migration its name without the
  // compression suffix names; the reader decompresses it by its magic bytes.
  for (std::string_view suffix : {".gz", ".bz2", ".xz", ".zst"}) {
    if (file.size() > suffix.size() && file.ends_with(suffix)) {
      file.remove_suffix(suffix.size());
      break;
    }
  }
  if (file.size() <= 3 || file.substr(file.size() - 3) != ".py") {
    return std::nullopt;
  }
  std::string_view stem = file.substr(0, file.size() - 3);
  if (stem == "__init__") {
    return std::nullopt;
  }
  std::string_view dir = parts[parts.size() - 2];
  if (dir == "migrations") {
    if (parts.size() < 3) {
      return std::nullopt;
    }
    dir = parts[parts.size() - 3];
  }
  return MigrationKey{std::string(dir), std::string(stem)};
}

int sniff_migration_py(std::string_view head) {
  // Django loads a module's `Migration` class, a subclass of django.db.migrations.Migration
  // however it was imported: `migrations.Migration`, `Migration`, `m.Migration` (import
  // django.db.migrations as m), `django.db.migrations.Migration`; with other bases beside it.
  static const RE2 k_class(
      R"((?m)^class[ \t]+Migration[ \t]*\([^)]*?\b(?:[A-Za-z_][A-Za-z0-9_]*[ \t]*\.[ \t]*)*Migration[ \t]*[,)])");
  return RE2::PartialMatch(head, k_class) ? 90 : 0;
}

std::string read_migration_text(io::InputStream& in) {
  constexpr size_t k_cap = 16u << 20;
  std::string text;
  std::string buf(1 << 16, '\0');
  for (;;) {
    size_t got = in.read(buf.data(), buf.size());
    if (got == 0) {
      break;
    }
    if (text.size() + got > k_cap) {
      throw InputError(Location{in.display_name(), std::nullopt, text.size()},
                       "a migration file larger than 16 MiB: expected a Django migration .py");
    }
    text.append(buf.data(), got);
  }
  return text;
}

void add_problems(const std::vector<Problem>& problems, store::FactWriter& out) {
  for (const auto& p : problems) {
    store::ProblemFact f;
    if (p.line > 0) {
      f.line = static_cast<int64_t>(p.line);
    }
    f.severity = p.severity;
    f.code = p.code;
    // The report shows an artifact's first error alone: it names its line.
    f.message = p.line > 0 ? "line " + std::to_string(p.line) + ": " + p.message : p.message;
    if (p.code == "python-syntax") {
      f.message +=
          " (expected Python 3 as makemigrations writes it; what the statement holds "
          "is not known)";
    }
    out.add(f);
  }
}

MigrationPySummary read_migration_py(io::InputStream& in, store::FactWriter& out) {
  MigrationPySummary summary;
  std::string text = read_migration_text(in);
  auto key = migration_key_from_path(in.path().generic_string());
  if (!key) {
    store::ProblemFact p;
    p.line = 1;
    p.severity = "error";
    p.code = "unnamed-migration";
    p.message =
        "cannot tell which migration this file is: expected a path "
        "<app>/migrations/<name>.py or <app>/<name>.py";
    out.add(p);
    return summary;
  }
  MigrationFile f = parse_migration_py(text, key->app, key->name);
  add_problems(f.problems, out);
  if (!f.has_migration_class) {
    return summary;
  }
  summary.migration = true;
  store::MigrationFact m;
  m.line = 1;
  m.app = f.app;
  m.name = f.name;
  m.source = "py";
  m.initial = f.initial ? 1 : 0;
  m.operations = static_cast<int64_t>(f.operations.size());
  if (!f.replaces.empty()) {
    std::string r;
    for (const auto& k : f.replaces) {
      r += (r.empty() ? "" : ", ") + k.label();
    }
    m.replaces = r;
  }
  out.add(m);
  for (const auto& d : f.dependencies) {
    store::MigrationDependencyFact dep;
    if (d.line > 0) {
      dep.line = static_cast<int64_t>(d.line);
    }
    dep.app = f.app;
    dep.name = f.name;
    dep.dep_app = d.app;
    dep.dep_name = d.name;
    if (d.swappable) {
      dep.swappable = d.setting.empty() ? d.swappable_value : d.setting;
    }
    out.add(dep);
    ++summary.dependencies;
  }
  int64_t seq = 0;
  for (const auto& op : f.operations) {
    store::MigrationOperationFact o;
    if (op.line > 0) {
      o.line = static_cast<int64_t>(op.line);
    }
    o.app = f.app;
    o.name = f.name;
    o.seq = seq++;
    o.type = op.type;
    o.known = op.known;
    if (!op.summary.empty()) {
      o.summary = op.summary;
    }
    out.add(o);
    ++summary.operations;
    summary.opaque += op.known ? 0 : 1;
  }
  return summary;
}

}  // namespace dbautopsy::django
