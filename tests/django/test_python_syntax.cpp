// The Python subset reader: every literal form, the statements a migration file uses, and
// malformed input (problems with lines, never a crash or a hang).
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "django/python_syntax.hpp"

using namespace dbautopsy::django;
using py::Node;
using py::NodeKind;

namespace {

Node expr(const std::string& text, std::vector<py::Problem>* problems = nullptr) {
  std::vector<py::Problem> local;
  Node n = py::parse_expression(text, problems ? problems : &local);
  if (!problems) {
    INFO(text);
    for (const auto& p : local) {
      INFO("line " << p.line << ": " << p.message);
    }
    CHECK(local.empty());
  }
  return n;
}

}  // namespace

TEST_CASE("string literals: quotes, prefixes, escapes, concatenation", "[django][python]") {
  CHECK(expr("'single'").text == "single");
  CHECK(expr("\"double\"").text == "double");
  CHECK(expr("'''triple\nsingle'''").text == "triple\nsingle");
  CHECK(expr("\"\"\"triple \"quoted\" double\"\"\"").text == "triple \"quoted\" double");
  CHECK(expr(R"('a\nb\tc\\d\'e\"f')").text == "a\nb\tc\\d'e\"f");
  CHECK(expr(R"('\x41\101\u00e9\U0001F600')").text == "AA\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(expr(R"('\N{BULLET} \q')").text == "\\N{BULLET} \\q");  // kept as written
  CHECK(expr("'line \\\ncontinued'").text == "line continued");
  CHECK(expr(R"(r'\d+\n')").text == "\\d+\\n");
  CHECK(expr(R"(R"raw\"")").text == "raw\\\"");
  CHECK(expr("u'unicode'").text == "unicode");
  CHECK(expr("U'upper'").text == "upper");
  Node b = expr(R"(b'\x00\xff')");
  CHECK(b.kind == NodeKind::bytes);
  CHECK(b.text == std::string("\x00\xff", 2));
  CHECK(expr(R"(rb'\x')").text == "\\x");
  CHECK(expr(R"(Br'\x')").kind == NodeKind::bytes);
  Node f = expr("f'{name}!'");
  CHECK(f.kind == NodeKind::string);
  CHECK(f.formatted);
  CHECK(!f.is_string());
  CHECK(expr("'a' \"b\" '''c'''").text == "abc");
  Node multi = expr("(\n  'first '\n  'second'\n)");
  CHECK(multi.text == "first second");
  CHECK(multi.line == 2);
  CHECK(expr("'caf\xC3\xA9 \xE2\x82\xAC'").text == "caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(expr("''").text.empty());
}

TEST_CASE("numbers, constants, names, attributes, calls", "[django][python]") {
  CHECK(expr("42").kind == NodeKind::number);
  CHECK(expr("1_000").text == "1_000");
  CHECK(expr("0x1F").text == "0x1F");
  CHECK(expr("1.5e-3").text == "1.5e-3");
  CHECK(expr("2j").text == "2j");
  CHECK(expr(".5").text == ".5");
  CHECK(expr("10L").text == "10L");  // Python 2 long
  Node neg = expr("-1");
  CHECK(neg.kind == NodeKind::unary);
  CHECK(neg.children.at(0).text == "1");
  CHECK(expr("True").kind == NodeKind::boolean);
  CHECK(expr("False").text == "False");
  CHECK(expr("None").kind == NodeKind::none);
  CHECK(expr("...").kind == NodeKind::ellipsis);
  CHECK(expr("django.db.models.deletion.CASCADE").dotted() == "django.db.models.deletion.CASCADE");
  Node call = expr("models.CharField('label', max_length=100, *args, **kw)");
  REQUIRE(call.kind == NodeKind::call);
  CHECK(call.callee()->dotted() == "models.CharField");
  CHECK(call.argument(0)->text == "label");
  CHECK(call.argument(1) == nullptr);
  CHECK(call.keyword_argument("max_length")->text == "100");
  CHECK(call.children.at(3).star == 1);
  CHECK(call.children.at(4).star == 2);
  CHECK(py::to_source(call) == "models.CharField('label', max_length=100, *args, **kw)");
  Node chained = expr("F('price').desc(nulls_last=True)");
  CHECK(chained.kind == NodeKind::call);
  CHECK(chained.callee()->kind == NodeKind::attribute);
  CHECK(expr("x[0]").kind == NodeKind::subscript);
  CHECK(expr("Deferrable['DEFERRED']").children.at(1).text == "DEFERRED");
  CHECK(expr("a[1:2]").children.at(1).kind == NodeKind::opaque);
}

TEST_CASE("containers and operators", "[django][python]") {
  CHECK(expr("[1, 2, 3,]").children.size() == 3);
  CHECK(expr("()").kind == NodeKind::tuple);
  CHECK(expr("(1,)").kind == NodeKind::tuple);
  CHECK(expr("(1)").kind == NodeKind::number);
  CHECK(expr("('a', 'b')").children.size() == 2);
  Node d = expr("{'db_table': 'x', **extra}");
  REQUIRE(d.kind == NodeKind::dict);
  CHECK(d.children.at(0).children.at(1).text == "x");
  CHECK(d.children.at(1).star == 2);
  CHECK(expr("{}").kind == NodeKind::dict);
  CHECK(expr("{('a', 'b'), ('c',)}").kind == NodeKind::set);
  CHECK(expr("set([('a', 'b')])").kind == NodeKind::call);  // Python 2 style
  Node q = expr("Q(a=1) | ~Q(b=2) & Q(c=3)");
  REQUIRE(q.kind == NodeKind::binary);
  CHECK(q.text == "|");
  CHECK(q.children.at(1).text == "&");
  CHECK(q.children.at(1).children.at(0).text == "~");
  CHECK(expr("a not in b").text == "not in");
  CHECK(expr("a is not None").text == "is not");
  CHECK(expr("-x ** 2").text == "-");  // -(x ** 2)
  CHECK(expr("not a and b").text == "and");
  CHECK(expr("[1] + [2]").text == "+");
}

TEST_CASE("what migrations never need the value of stays opaque, with its source",
          "[django][python]") {
  Node lambda = expr("lambda apps, schema_editor: None");
  CHECK(lambda.kind == NodeKind::opaque);
  CHECK(lambda.text == "lambda apps, schema_editor: None");
  CHECK(expr("[f(x) for x in range(3) if x]").kind == NodeKind::opaque);
  CHECK(expr("{k: v for k, v in items}").kind == NodeKind::opaque);
  CHECK(expr("{x for x in y}").kind == NodeKind::opaque);
  CHECK(expr("(x for x in y)").kind == NodeKind::opaque);
  Node call = expr("f(x for x in y)");
  CHECK(call.children.at(1).kind == NodeKind::opaque);
  CHECK(expr("a if b else c").text == "a if b else c");
  CHECK(expr("(y := 3)").kind == NodeKind::opaque);
  CHECK(expr("lambda: (1, [2])").kind == NodeKind::opaque);
}

TEST_CASE("a module: imports, assignments, classes, skipped functions, lines", "[django][python]") {
  const char* src = R"(# -*- coding: utf-8 -*-
from __future__ import unicode_literals

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models as m
from django.contrib.postgres import fields as pg_fields  # a comment
from . import helpers
try:
    from django.db.models import JSONField
except ImportError:  # Django < 3.1
    from django.contrib.postgres.fields import JSONField

SQL = """
CREATE INDEX i ON t (c);
"""  # trailing comment


def forwards(apps, schema_editor):
    if True:
        x = {'nested': [1,
                        2]}
    return x


@decorator
def backwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    """Docstring."""

    atomic = False
    dependencies = [('app', '0001_initial')] \
        + []

    class Meta:
        ignored = True

    def method(self):
        operations = 'not this one'

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
)";
  py::Module m = py::parse_module(src);
  for (const auto& p : m.problems) {
    INFO("line " << p.line << ": " << p.message);
  }
  CHECK(m.problems.empty());
  CHECK(m.encoding == "utf-8");
  CHECK(m.resolve("models.CASCADE") == "models.CASCADE");
  CHECK(m.resolve("m.CharField") == "django.db.models.CharField");
  CHECK(m.resolve("migrations.AddField") == "django.db.migrations.AddField");
  CHECK(m.resolve("django.db.models.deletion.CASCADE") == "django.db.models.deletion.CASCADE");
  CHECK(m.resolve("settings.AUTH_USER_MODEL") == "django.conf.settings.AUTH_USER_MODEL");
  CHECK(m.resolve("pg_fields.ArrayField") == "django.contrib.postgres.fields.ArrayField");
  CHECK(m.resolve("JSONField") == "django.contrib.postgres.fields.JSONField");  // the last
  CHECK(m.resolve("helpers.x") == ".helpers.x");
  CHECK(m.defines_function("forwards"));
  CHECK(m.defines_function("backwards"));
  REQUIRE(m.assignment("SQL"));
  CHECK(m.assignment("SQL")->line == 14);
  CHECK(m.assignment("SQL")->value.text == "\nCREATE INDEX i ON t (c);\n");
  const py::ClassDef* cls = m.class_named("Migration");
  REQUIRE(cls);
  CHECK(cls->line == 31);
  REQUIRE(cls->bases.size() == 1);
  CHECK(cls->bases[0].dotted() == "migrations.Migration");
  std::vector<std::string> targets;
  for (const auto& a : cls->assignments) {
    targets.push_back(a.targets.at(0));
  }
  CHECK(targets == std::vector<std::string>{"atomic", "dependencies", "operations"});
  CHECK(cls->assignments[1].value.text == "+");
  const Node& ops = cls->assignments[2].value;
  REQUIRE(ops.children.size() == 1);
  CHECK(ops.children[0].line == 45);
  CHECK(ops.children[0].argument(0)->text == "forwards");
}

TEST_CASE("Python 2 era files", "[django][python]") {
  // Latin-1 source with a coding line, print statements, octal literals, u'' strings.
  std::string src =
      "# -*- coding: latin-1 -*-\n"
      "from __future__ import unicode_literals\n"
      "print 'hello'\n"
      "exec 'x = 1'\n"
      "MODE = 0755\n"
      "NAME = u'Caf\xe9'\n"
      "class Migration(object):\n"
      "    dependencies = set([('a', '0001')])\n";
  py::Module m = py::parse_module(src);
  CHECK(m.problems.empty());
  CHECK(m.encoding == "latin-1");
  REQUIRE(m.assignment("NAME"));
  CHECK(m.assignment("NAME")->value.text == "Caf\xC3\xA9");
  CHECK(m.assignment("MODE")->value.text == "0755");
  REQUIRE(m.class_named("Migration"));
}

TEST_CASE("malformed input gives problems with lines, never a crash", "[django][python]") {
  struct Case {
    std::string source;
    uint64_t line;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"x = 'unterminated\ny = 2\n", 1, "unterminated string"},
      {"x = 1\ny = '''never closed\n\n", 2, "unterminated triple-quoted"},
      {"x = [1, 2\ny = 3\n", 1, "never closed"},
      {"x = (1, 2]\n", 1, "does not match"},
      {"x = 1)\n", 1, "unmatched"},
      {"x = 1 +\n", 1, "expected an expression"},
      {"class Migration(migrations.Migration)\n    x = 1\n", 1, "expected ':'"},
      {"def f(:\n    pass\nx = 1\n", 1, "never closed"},
      {"x = $\n", 1, "invalid character"},
      {"if x:\n        a = 1\n    b = 2\n", 3, "unindent"},
      {"  x = 1\n", 1, "unexpected indent"},
      {"from import x\n", 1, "malformed import"},
      {"x = {'a': }\n", 1, "expected an expression"},
      {"x = f(a=)\n", 1, "expected an expression"},
      {"x = 1 2\n", 1, "unexpected"},
  };
  for (const auto& c : cases) {
    INFO(c.source);
    py::Module m = py::parse_module(c.source);
    REQUIRE(!m.problems.empty());
    bool found = false;
    for (const auto& p : m.problems) {
      found = found || (p.line == c.line && p.message.find(c.message_part) != std::string::npos);
    }
    for (const auto& p : m.problems) {
      INFO("got line " << p.line << ": " << p.message);
    }
    CHECK(found);
  }
  // The statement after a broken one is still read.
  py::Module m = py::parse_module("x = (1,\ny = 2\n)\nz = 3\n");
  CHECK(m.assignment("z"));
}

TEST_CASE("deep nesting and random input terminate", "[django][python]") {
  std::string deep = "x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\n";
  py::Module m = py::parse_module(deep);
  CHECK(!m.problems.empty());
  std::string deep_list = "x = " + std::string(50000, '[') + "\n";
  CHECK(!py::parse_module(deep_list).problems.empty());
  std::string unary = "x = " + std::string(100000, '-') + "1\n";
  CHECK(!py::parse_module(unary).problems.empty());

  std::mt19937 rng(20260115);
  const std::string alphabet = "()[]{}'\"\\#:=,.+-*~|&<>!@$ \t\nabcdefxyz0123456789_\x80\xff";
  const std::vector<std::string> words = {"class ",
                                          "def ",
                                          "import ",
                                          "from ",
                                          "lambda ",
                                          "for ",
                                          " in ",
                                          "if ",
                                          "else ",
                                          "'''",
                                          "\"\"\"",
                                          "migrations.",
                                          "models.CharField(",
                                          "Q(",
                                          "~",
                                          "**",
                                          "async ",
                                          "yield ",
                                          "    ",
                                          "\n",
                                          "r'",
                                          "b\"",
                                          "f'{",
                                          "\\\n",
                                          "#",
                                          "not ",
                                          "is ",
                                          ":="};
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 200);
    for (int k = 0; k < n; ++k) {
      if (rng() % 3 == 0) {
        s += words[rng() % words.size()];
      } else {
        s += alphabet[rng() % alphabet.size()];
      }
    }
    py::Module mod = py::parse_module(s);
    std::vector<py::Problem> problems;
    py::parse_expression(s, &problems);
    for (const auto& p : mod.problems) {
      REQUIRE(p.line >= 1);
      REQUIRE(p.line <= static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')) + 2);
    }
  }
  SUCCEED("3000 random inputs read to the end");
}
