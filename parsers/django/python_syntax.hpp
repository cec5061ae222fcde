// A reader for the subset of Python that Django migration files are written in, without
// running Python.
//
// What it reads: module-level imports (`import a.b as c`, `from a import b as c`, relative
// imports), module-level assignments, function definitions (recorded by name, bodies
// skipped: RunPython's forward functions), and classes with their bases and class-level
// assignments; augmented assignments (`x += v`) and methods called on a name as a statement
// (`x.append(v)`) are kept among the assignments, marked as such. Compound statements at module or
// class level (`if`, `try`, `with`, ...) are descended into, so an import inside `try: ... except
// ImportError:` is still seen. Expressions are parsed into a small tree: string and bytes literals
// (every prefix, triple quotes, escapes, implicit concatenation), numbers, True / False / None,
// names, attribute chains, calls with positional, keyword, *args and **kwargs arguments,
// subscripts, lists, tuples, dicts, sets, unary and binary operators. What a migration
// never needs the value of (lambdas, comprehensions, conditional expressions, yield,
// walrus) becomes an `opaque` node that keeps its source text.
//
// Guarantees: every node and statement carries its 1-based line. The reader never throws
// on bad input and never loops: the tokenizer always advances, each parse step consumes at
// least one token or stops, and nesting deeper than a fixed limit is cut off. Malformed
// input (an unterminated string, an unclosed bracket, a token where none fits) becomes a
// Problem with its line, and reading resumes at the next statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::django::py {

enum class NodeKind {
  string,     // text: the decoded value (UTF-8); `formatted` for f-strings
  bytes,      // text: the decoded bytes
  number,     // text: the literal as written ("10", "0x1F", "1.5e3", "2j")
  boolean,    // text: "True" or "False"
  none,       // None
  ellipsis,   // ...
  name,       // text: the identifier
  attribute,  // text: the attribute; children[0]: the object
  subscript,  // children[0]: the object, children[1]: the index
  call,       // children[0]: the callee, children[1..]: the arguments
  list,       // children: the elements
  tuple,      // children: the elements
  set,        // children: the elements
  dict,       // children: entries, each a two-element tuple (key, value), or a ** entry
  unary,      // text: the operator ("-", "+", "~", "not"); children[0]: the operand
  binary,     // text: the operator ("+", "|", "and", "==", "not in", ...); children: lhs, rhs
  opaque,     // text: the source text of an expression this reader does not model
};

std::string_view kind_name(NodeKind kind);

struct Node {
  NodeKind kind = NodeKind::opaque;
  uint64_t line = 0;
  std::string text;
  // As an argument of a call: the keyword ("" when positional). As an element of a call,
  // list, tuple, set or dict: 1 for *x, 2 for **x.
  std::string keyword;
  int star = 0;
  bool formatted = false;  // a string with an f-prefix part: `text` is the template
  std::vector<Node> children;

  bool is(NodeKind k) const { return kind == k; }
  bool is_string() const { return kind == NodeKind::string && !formatted; }

  // Calls --------------------------------------------------------------------------
  const Node* callee() const;
  // The index-th positional argument (not counting keyword or starred arguments).
  const Node* argument(size_t index) const;
  const Node* keyword_argument(std::string_view name) const;
  std::vector<const Node*> positional_arguments() const;
  std::vector<const Node*> keyword_arguments() const;

  // "a.b.c" for a name or an attribute chain on a name; "" for anything else.
  std::string dotted() const;
};

// Python source for a node, in a canonical form (single-quoted strings with Python's
// escapes, no extra spaces): equal values written differently render alike, except for
// opaque nodes, whose source is kept as written.
std::string to_source(const Node& node);

struct Problem {
  uint64_t line = 0;
  std::string message;
};

struct Import {
  uint64_t line = 0;
  std::string module;  // "django.db" for `from django.db import models`; may start with '.'
  std::string name;    // "models"; "" for `import module`; "*" for `from m import *`
  std::string alias;   // the name bound in the module ("models", or the `as` name)
};

struct Assignment {
  uint64_t line = 0;
  std::vector<std::string> targets;  // dotted targets; a tuple target gives several
  Node value;
  bool annotated = false;
  // "" for `x = v`. A change of what a name holds, in statement order with the assignments:
  // the operator of an augmented assignment (`x += v`: "+=", value v), or "." and the method
  // for a method called on a name as a statement (`x.append(v)`: ".append", value the call).
  std::string augment;
};

struct FunctionDef {
  uint64_t line = 0;
  std::string name;
};

struct ClassDef {
  uint64_t line = 0;
  std::string name;
  std::vector<Node> bases;  // as call arguments (metaclass=... keeps its keyword)
  std::vector<Assignment> assignments;
  std::vector<FunctionDef> functions;
};

struct Module {
  std::string encoding;  // from a `# -*- coding: ... -*-` line, lower-cased; "" if none
  std::vector<Import> imports;
  std::vector<Assignment> assignments;
  std::vector<FunctionDef> functions;
  std::vector<ClassDef> classes;
  std::vector<Problem> problems;

  // The last module-level assignment to `name` (not an augmented one), or nullptr.
  const Assignment* assignment(std::string_view name) const;
  const ClassDef* class_named(std::string_view name) const;
  bool defines_function(std::string_view name) const;
  // Rewrites the first component of a dotted name through the module's imports:
  // "models.CharField" with `from django.db import models` gives
  // "django.db.models.CharField"; a name no import binds is returned unchanged. A name a
  // star import of one of Django's modules binds (`from django.db.migrations import *`) is
  // that module's.
  std::string resolve(std::string_view dotted) const;
};

// Reads a whole module. Text in a declared Latin-1 / cp1252 encoding is converted to
// UTF-8 first; anything else is taken as UTF-8.
Module parse_module(std::string_view source);

// Reads one expression (for tests and for callers holding an expression in a string).
// Anything after the expression is reported as a problem.
Node parse_expression(std::string_view source, std::vector<Problem>* problems);

}  // namespace dbautopsy::django::py
