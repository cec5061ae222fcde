// Migration.apply() of django/db/migrations/migration.py: each operation of a migration,
// in order, changes the project state (state_forwards) and, where it runs on the database,
// the schema (database_forwards). Operations are defined by family in operations_*.cpp.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

std::string Derivation::model_arg(const Operation& op, std::string_view param) {
  auto s = string_of(op.arg(param));
  if (!s) {
    problem("warning", "django-operation-unreadable",
            op.type + ": its " + std::string(param) + " is not a string literal");
    return {};
  }
  return *s;
}

void Derivation::apply(const Operation& op, bool database) {
  m_ghosts.clear();
  const std::string& t = op.type;
  if (!op.known) {
    problem("warning", "django-operation-unknown",
            "operation " + (op.path.empty() ? std::string("?") : op.path) +
                " is not one of Django's: what it does to the schema is not known");
    return;
  }
  if (t == "CreateModel") {
    op_create_model(op, database);
  } else if (t == "DeleteModel") {
    op_delete_model(op, database);
  } else if (t == "RenameModel") {
    op_rename_model(op, database);
  } else if (t == "AlterModelTable") {
    op_alter_model_table(op, database);
  } else if (t == "AlterUniqueTogether") {
    op_alter_together(op, database, true);
  } else if (t == "AlterIndexTogether") {
    op_alter_together(op, database, false);
  } else if (t == "AlterModelOptions") {
    op_alter_options(op);
  } else if (t == "AlterOrderWithRespectTo") {
    op_alter_order_with_respect_to(op, database);
  } else if (t == "AddField") {
    op_add_field(op, database);
  } else if (t == "RemoveField") {
    op_remove_field(op, database);
  } else if (t == "AlterField") {
    op_alter_field(op, database);
  } else if (t == "RenameField") {
    op_rename_field(op, database);
  } else if (t == "AddIndex" || t == "AddIndexConcurrently") {
    op_add_index(op, database, t == "AddIndexConcurrently");
  } else if (t == "RemoveIndex" || t == "RemoveIndexConcurrently") {
    op_remove_index(op, database, t == "RemoveIndexConcurrently");
  } else if (t == "AddConstraint") {
    op_add_constraint(op, database);
  } else if (t == "RemoveConstraint") {
    op_remove_constraint(op, database);
  } else if (t == "RenameIndex") {
    op_rename_index(op, database);
  } else if (t == "AlterModelTableComment") {
    op_alter_model_table_comment(op);
  } else if (t == "AddConstraintNotValid") {
    op_add_constraint_not_valid(op, database);
  } else if (t == "ValidateConstraint") {
    op_validate_constraint(op);
  } else if (t == "RunSQL") {
    op_run_sql(op, database);
  } else if (t == "RunPython") {
    op_run_python(op);
  } else if (t == "SeparateDatabaseAndState") {
    op_separate_database_and_state(op, database);
  } else if (t == "CreateCollation" || t == "RemoveCollation") {
    op_collation(op, database, t == "CreateCollation");
  } else if (t == "AlterModelManagers") {
    // Managers live in Python only.
  } else {
    op_extension(op, database);
  }
  m_ghosts.clear();
}

}  // namespace dbautopsy::django::detail
