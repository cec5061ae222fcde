// Which app label a folder of migrations stands for.
//
// A migration is named `app_label.name`, and the app label is not always the name of the
// folder that holds the app: `apps/store_orders/` with `AppConfig.label = 'orders'` is a
// common layout, and a case then holds `migrations/store_orders/*.py` (or
// `sqlmigrate/store_orders/*.sql`). The label is written in the files themselves: Django
// makes every migration after an app's first depend on its predecessor by label
// (`('orders', '0001_initial')`), other apps depend on it by label, and django_migrations
// records it by label. A folder is read under another label only when that evidence says so
// without doubt:
//   - dependencies on (L, N), where L is the name of no folder and N is a migration of this
//     folder (not the depending migration itself): each one names L (a dependency on a name
//     several folders hold names none);
//   - one such label: it is taken; several: the one whose django_migrations records (if
//     any) are all migrations of this folder, when only one is; else the folder keeps its name;
//   - no dependency evidence: django_migrations records of an app L that is no folder, at
//     least two of them, all of them migrations of this folder, and no other app so;
//   - a label found for two folders, or a folder whose own name django_migrations records
//     with its migrations, keeps the folder's name.
// Every decision other than "the folder's name" is explained in a note, and so is a folder
// that keeps its name because the evidence disagrees.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace dbautopsy::django {

struct FolderDependency {
  std::string folder;  // the depending migration's folder and name
  std::string name;
  std::string dep_app;
  std::string dep_name;
};

struct AppLabelEvidence {
  std::map<std::string, std::set<std::string>> folders;  // folder name -> its migrations
  std::map<std::string, std::string> shown;              // folder name -> a path to show
  std::vector<FolderDependency> dependencies;            // of .py files (swappable ones left out)
  std::map<std::string, std::set<std::string>> records;  // django_migrations: app -> names
};

struct AppLabels {
  std::map<std::string, std::string> label_of;  // only folders read under another label
  std::vector<std::string> notes;
};

AppLabels infer_app_labels(const AppLabelEvidence& evidence);

// Reads the evidence from a store (migration .py and sqlmigrate artifacts, their
// dependencies, migration_record), decides, and writes each artifact's label into its
// migration, migration_dependency, migration_operation and migration_effect (sqlmigrate)
// rows; the folder's name where no other label is decided, so that running it again after
// the evidence changed gives the same facts as a first run. The labels of .py files are then
// read back from `migration` (write_py_effects does).
AppLabels assign_app_labels(store::Store& store);

}  // namespace dbautopsy::django
