// Q objects and expressions of constraints and indexes compiled to SQL, as
// django/db/models/query_utils.py (Q), django/db/models/sql/where.py (WhereNode),
// django/db/models/lookups.py and django/db/models/expressions.py (F, functions) do.

#include "django/derivation.hpp"

#include <algorithm>
#include <functional>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

// --- Q objects and expressions ----------------------------------------------------------------

struct Derivation::QTree {
  struct Child {
    std::string lookup;  // "field__gte"; empty for a subtree
    Node value;
    std::shared_ptr<QTree> tree;
  };
  std::string connector = "AND";
  bool negated = false;
  std::vector<Child> children;
};

namespace {

bool is_q_call(const Node& n) {
  std::string p = callee_path(n);
  return p == "django.db.models.Q" || p == "django.db.models.query_utils.Q";
}

bool is_f_call(const Node& n) {
  std::string p = callee_path(n);
  return p == "django.db.models.F" || p == "django.db.models.expressions.F";
}

// tree.Node.add() with squash: a child with the same connector (or a single child), not
// negated, is merged into its parent.
template <typename Tree>
void add_squashed(Tree& parent, std::shared_ptr<Tree> child, const std::string& connector) {
  if (!child->negated && (child->connector == connector || child->children.size() == 1)) {
    for (auto& c : child->children) {
      parent.children.push_back(c);
    }
    return;
  }
  typename Tree::Child c;
  c.tree = std::move(child);
  parent.children.push_back(std::move(c));
}

// A Q object (Q(...), q1 & q2, q1 | q2, ~q) as Django builds it.
std::shared_ptr<Derivation::QTree> build_q(const Node& n) {
  using QTree = Derivation::QTree;
  if (n.kind == NodeKind::call && is_q_call(n)) {
    auto t = std::make_shared<QTree>();
    if (auto c = string_of(n.keyword_argument("_connector"))) {
      t->connector = *c;
    }
    if (auto neg = bool_of(n.keyword_argument("_negated"))) {
      t->negated = *neg;
    }
    for (const Node* a : n.positional_arguments()) {
      if ((a->kind == NodeKind::tuple || a->kind == NodeKind::list) && a->children.size() == 2 &&
          a->children[0].is_string()) {
        QTree::Child c;
        c.lookup = a->children[0].text;
        c.value = a->children[1];
        t->children.push_back(std::move(c));
      } else {
        auto sub = build_q(*a);
        if (!sub) {
          return nullptr;
        }
        QTree::Child c;
        c.tree = sub;
        t->children.push_back(std::move(c));
      }
    }
    std::vector<const Node*> kws = n.keyword_arguments();
    std::sort(kws.begin(), kws.end(),
              [](const Node* a, const Node* b) { return a->keyword < b->keyword; });
    for (const Node* k : kws) {
      if (k->keyword == "_connector" || k->keyword == "_negated") {
        continue;
      }
      QTree::Child c;
      c.lookup = k->keyword;
      c.value = *k;
      c.value.keyword.clear();
      t->children.push_back(std::move(c));
    }
    return t;
  }
  if (n.kind == NodeKind::binary && (n.text == "&" || n.text == "|") && n.children.size() == 2) {
    auto a = build_q(n.children[0]);
    auto b = build_q(n.children[1]);
    if (!a || !b) {
      return nullptr;
    }
    std::string conn = n.text == "&" ? "AND" : "OR";
    if (a->children.empty()) {
      return b;
    }
    if (b->children.empty()) {
      return a;
    }
    auto t = std::make_shared<QTree>();
    t->connector = conn;
    add_squashed(*t, a, conn);
    add_squashed(*t, b, conn);
    return t;
  }
  if (n.kind == NodeKind::unary && n.text == "~" && n.children.size() == 1) {
    auto inner = build_q(n.children[0]);
    if (!inner) {
      return nullptr;
    }
    auto t = std::make_shared<QTree>();
    add_squashed(*t, inner, "AND");
    t->negated = !t->negated;
    return t;
  }
  return nullptr;
}

// A WhereNode: SQL leaves and subtrees.
struct Where {
  struct Child {
    std::string sql;
    std::shared_ptr<Where> tree;
  };
  std::string connector = "AND";
  bool negated = false;
  std::vector<Child> children;
};

std::string where_sql(const Where& w) {
  std::vector<std::string> parts;
  for (const auto& c : w.children) {
    std::string s = c.tree ? where_sql(*c.tree) : c.sql;
    if (!s.empty()) {
      parts.push_back(s);
    }
  }
  std::string s = join(parts, " " + w.connector + " ");
  if (s.empty()) {
    return s;
  }
  if (w.negated) {
    return "NOT (" + s + ")";
  }
  if (parts.size() > 1) {
    return "(" + s + ")";
  }
  return s;
}

std::string like_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace

std::optional<std::string> Derivation::compile_q(const ModelState& m, const Node& q) {
  auto tree = build_q(q);
  if (!tree) {
    return std::nullopt;
  }
  bool ok = true;
  std::function<std::shared_ptr<Where>(const QTree&, bool)> add_q;
  std::function<std::shared_ptr<Where>(const QTree::Child&, bool)> build_filter;
  build_filter = [&](const QTree::Child& c, bool negated) -> std::shared_ptr<Where> {
    if (c.tree) {
      return add_q(*c.tree, negated);
    }
    std::vector<std::string> path;
    for (size_t start = 0;;) {
      size_t sep = c.lookup.find("__", start);
      path.push_back(
          c.lookup.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
      if (sep == std::string::npos) {
        break;
      }
      start = sep + 2;
    }
    if (path.empty()) {
      ok = false;
      return nullptr;
    }
    const Field* field = nullptr;
    std::optional<Field> pk;
    if (path[0] == "pk") {
      pk = pk_field(m);
      field = pk ? &*pk : nullptr;
    } else {
      field = get_field(m, path[0]);
    }
    if (!field) {
      ok = false;
      return nullptr;
    }
    size_t i = 1;
    // `fk__id`: the target's own key, no join needed.
    if (field->is_fk() && i < path.size()) {
      auto target = target_field(*field);
      if (target && path[i] == target->name) {
        ++i;
      }
    }
    std::string lhs = qn(field->column());
    std::string internal = field->internal;
    bool transformed = false;
    std::string lookup = "exact";
    for (; i < path.size(); ++i) {
      const std::string& p = path[i];
      if (p == "length") {
        lhs = "LENGTH(" + lhs + ")";
        transformed = true;
      } else if (p == "lower" || p == "upper") {
        lhs = (p == "lower" ? "LOWER(" : "UPPER(") + lhs + ")";
      } else if (i + 1 == path.size()) {
        lookup = p;
      } else {
        ok = false;  // a join or a transform this reader does not know
        return nullptr;
      }
    }
    auto rhs_of = [&](const Node& v) -> std::optional<std::string> {
      if (v.kind == NodeKind::call && is_f_call(v) && v.argument(0) && v.argument(0)->is_string()) {
        const Field* other = get_field(m, v.argument(0)->text);
        if (!other) {
          return std::nullopt;
        }
        return qn(other->column());
      }
      PyValue pv = python_value(v);
      if (!value_known(pv)) {
        return std::nullopt;
      }
      if (transformed) {
        return pv.t == PyValue::T::integer ? std::optional<std::string>(number_sql(pv.text))
                                           : std::nullopt;
      }
      return lookup_value_sql(*field, pv);
    };
    PyValue raw = python_value(c.value);
    std::string sql;
    std::string cast_lhs =
        (internal == "GenericIPAddressField" || internal == "IPAddressField") ? "HOST(" + lhs + ")"
        : (internal == "CICharField" || internal == "CIEmailField" || internal == "CITextField")
            ? lhs + "::citext"
            : lhs + "::text";
    static const std::map<std::string, std::string> k_compare = {
        {"exact", "="}, {"gt", ">"},    {"gte", ">="},   {"lt", "<"},
        {"lte", "<="},  {"regex", "~"}, {"iregex", "~*"}};
    bool null_rhs = raw.t == PyValue::T::none;
    if ((lookup == "exact" && null_rhs) || lookup == "isnull") {
      bool is_null = lookup == "exact" || (raw.t == PyValue::T::boolean && raw.text == "True");
      sql = lhs + (is_null ? " IS NULL" : " IS NOT NULL");
    } else if (lookup == "exact" && raw.t == PyValue::T::boolean && !transformed &&
               (internal == "BooleanField" || internal == "NullBooleanField")) {
      // Exact.as_sql(): a boolean column compared with True / False is the column itself.
      sql = raw.text == "True" ? lhs : "NOT " + lhs;
    } else if (k_compare.count(lookup)) {
      auto rhs = rhs_of(c.value);
      if (!rhs) {
        ok = false;
        return nullptr;
      }
      std::string l = (lookup == "regex" || lookup == "iregex") ? cast_lhs : lhs;
      sql = l + " " + k_compare.at(lookup) + " " + *rhs;
    } else if (lookup == "iexact") {
      auto rhs = rhs_of(c.value);
      if (!rhs) {
        ok = false;
        return nullptr;
      }
      sql = "UPPER(" + cast_lhs + ") = UPPER(" + *rhs + ")";
    } else if (lookup == "in") {
      if (raw.t != PyValue::T::list) {
        ok = false;
        return nullptr;
      }
      std::vector<std::string> items;
      for (const auto& e : elements_of(&c.value)) {
        PyValue ev = python_value(e);
        if (ev.t == PyValue::T::none) {
          continue;
        }
        auto s = lookup_value_sql(*field, ev);
        if (!s) {
          ok = false;
          return nullptr;
        }
        if (std::find(items.begin(), items.end(), *s) == items.end()) {
          items.push_back(*s);
        }
      }
      sql = lhs + " IN (" + join(items, ", ") + ")";
    } else if (lookup == "range") {
      auto e = elements_of(&c.value);
      if (e.size() != 2) {
        ok = false;
        return nullptr;
      }
      auto a = rhs_of(e[0]);
      auto b = rhs_of(e[1]);
      if (!a || !b) {
        ok = false;
        return nullptr;
      }
      sql = lhs + " BETWEEN " + *a + " AND " + *b;
    } else if (lookup == "contains" || lookup == "icontains" || lookup == "startswith" ||
               lookup == "istartswith" || lookup == "endswith" || lookup == "iendswith") {
      if (raw.t != PyValue::T::string) {
        ok = false;
        return nullptr;
      }
      std::string base = lookup[0] == 'i' ? lookup.substr(1) : lookup;
      std::string pattern = like_escape(raw.text);
      pattern = base == "contains"     ? "%" + pattern + "%"
                : base == "startswith" ? pattern + "%"
                                       : "%" + pattern;
      if (lookup[0] == 'i') {
        sql = "UPPER(" + cast_lhs + ") LIKE UPPER(" + quote_string(pattern, true) + ")";
      } else {
        sql = cast_lhs + " LIKE " + quote_string(pattern, true);
      }
    } else {
      ok = false;
      return nullptr;
    }
    auto clause = std::make_shared<Where>();
    clause->children.push_back(Where::Child{sql, nullptr});
    // build_filter(): under a negation a nullable column also gets IS NOT NULL.
    if (negated && lookup != "isnull" && !null_rhs) {
      if (field->null) {
        clause->children.push_back(Where::Child{lhs + " IS NOT NULL", nullptr});
      }
      if (c.value.kind == NodeKind::call && is_f_call(c.value) && c.value.argument(0)) {
        const Field* other = get_field(m, c.value.argument(0)->text);
        if (other && other->null) {
          clause->children.push_back(Where::Child{qn(other->column()) + " IS NOT NULL", nullptr});
        }
      }
    }
    return clause;
  };
  add_q = [&](const QTree& t, bool negated) -> std::shared_ptr<Where> {
    negated = negated != t.negated;
    auto target = std::make_shared<Where>();
    target->connector = t.connector;
    target->negated = t.negated;
    for (const auto& c : t.children) {
      auto clause = build_filter(c, negated);
      if (!clause) {
        return nullptr;
      }
      add_squashed(*target, clause, t.connector);
    }
    return target;
  };
  auto where = add_q(*tree, false);
  if (!ok || !where) {
    return std::nullopt;
  }
  return where_sql(*where);
}

std::optional<std::string> Derivation::compile_expression(const ModelState& m, const Node& e,
                                                          std::vector<std::string>* columns) {
  // F('name') or 'name': the column.
  std::optional<std::string> name;
  if (e.is_string()) {
    name = e.text;
  } else if (e.kind == NodeKind::call && is_f_call(e) && e.argument(0)) {
    name = string_of(e.argument(0));
  }
  if (name) {
    bool desc = !name->empty() && (*name)[0] == '-';
    const Field* f = get_field(m, desc ? name->substr(1) : *name);
    if (!f) {
      return std::nullopt;
    }
    if (columns) {
      columns->push_back(f->column());
    }
    return qn(f->column()) + (desc ? " DESC" : "");
  }
  // F('a') * F('b'), F('a') + 1: CombinedExpression.as_sql() wraps the operation in
  // parentheses; a number is a Value (a query parameter).
  if (e.kind == NodeKind::binary && e.children.size() == 2 &&
      (e.text == "+" || e.text == "-" || e.text == "*" || e.text == "/")) {
    std::optional<std::string> parts[2];
    for (int i = 0; i < 2; ++i) {
      const Node& c = e.children[i];
      parts[i] = c.kind == NodeKind::number ? number_of(&c) : compile_expression(m, c, columns);
      if (!parts[i]) {
        return std::nullopt;
      }
    }
    return "(" + *parts[0] + " " + e.text + " " + *parts[1] + ")";
  }
  if (e.kind != NodeKind::call || !e.callee()) {
    return std::nullopt;
  }
  const Node& callee = *e.callee();
  // expr.desc() / expr.asc(): an OrderBy around the expression.
  if (callee.kind == NodeKind::attribute && (callee.text == "desc" || callee.text == "asc") &&
      !callee.children.empty()) {
    auto inner = compile_expression(m, callee.children[0], columns);
    if (!inner) {
      return std::nullopt;
    }
    return *inner + (callee.text == "desc" ? " DESC" : " ASC");
  }
  std::string fn = last_component(callee.text);
  if (!starts_with(callee.text, "django.db.models.")) {
    return std::nullopt;
  }
  if (fn == "Lower" || fn == "Upper" || fn == "Abs" || fn == "Length" || fn == "Trim") {
    static const std::map<std::string, std::string> k_sql = {{"Lower", "LOWER"},
                                                             {"Upper", "UPPER"},
                                                             {"Abs", "ABS"},
                                                             {"Length", "LENGTH"},
                                                             {"Trim", "TRIM"}};
    const Node* a = e.argument(0);
    if (!a) {
      return std::nullopt;
    }
    auto inner = compile_expression(m, *a, columns);
    if (!inner) {
      return std::nullopt;
    }
    return k_sql.at(fn) + "(" + *inner + ")";
  }
  if (fn == "Collate" && e.argument(0) && e.argument(1) && e.argument(1)->is_string()) {
    auto inner = compile_expression(m, *e.argument(0), columns);
    if (!inner) {
      return std::nullopt;
    }
    return *inner + " COLLATE " + qn(e.argument(1)->text);
  }
  if (fn == "OrderBy" && e.argument(0)) {
    auto inner = compile_expression(m, *e.argument(0), columns);
    if (!inner) {
      return std::nullopt;
    }
    bool desc = bool_of(e.keyword_argument("descending")).value_or(false);
    return *inner + (desc ? " DESC" : " ASC");
  }
  return std::nullopt;
}

}  // namespace dbautopsy::django::detail
