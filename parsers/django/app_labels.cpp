// The app label of a folder of migrations, from what the files and django_migrations say
// (app_labels.hpp for the rules and why they are that strict).

#include "django/app_labels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "django/migration_py.hpp"
#include "django/sqlmigrate.hpp"

namespace dbautopsy::django {

namespace {

struct Candidate {
  std::vector<std::string> own;    // "0002_x depends on ('orders', '0001_initial')"
  std::vector<std::string> other;  // "crm.0001_initial depends on ('orders', '0003_y')"
};

std::string listed(const std::vector<std::string>& items, size_t shown) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < shown; ++i) {
    out += (i == 0 ? "" : "; ") + items[i];
  }
  if (items.size() > shown) {
    out += fmt::format(" (and {} more)", items.size() - shown);
  }
  return out;
}

bool all_in(const std::set<std::string>& names, const std::set<std::string>& folder) {
  return std::all_of(names.begin(), names.end(),
                     [&](const std::string& n) { return folder.count(n) > 0; });
}

}  // namespace

AppLabels infer_app_labels(const AppLabelEvidence& ev) {
  AppLabels out;
  auto records_of = [&](const std::string& app) -> const std::set<std::string>* {
    auto it = ev.records.find(app);
    return it == ev.records.end() ? nullptr : &it->second;
  };
  // Which folders hold a migration of that name.
  std::map<std::string, std::vector<std::string>> holders;
  for (const auto& [folder, names] : ev.folders) {
    for (const auto& n : names) {
      holders[n].push_back(folder);
    }
  }
  std::map<std::string, std::map<std::string, Candidate>> candidates;  // folder -> label -> why
  for (const auto& d : ev.dependencies) {
    if (ev.folders.count(d.dep_app) || d.dep_app.empty() || d.dep_name == "__first__" ||
        d.dep_name == "__latest__") {
      continue;  // a folder of that name explains it, or it names no file
    }
    auto h = holders.find(d.dep_name);
    if (h == holders.end()) {
      continue;
    }
    const std::vector<std::string>& in = h->second;
    std::string target;
    bool own = std::find(in.begin(), in.end(), d.folder) != in.end();
    if (own) {
      if (d.dep_name == d.name) {
        continue;  // a migration never depends on itself: another app's of the same name
      }
      target = d.folder;
    } else if (in.size() == 1) {
      target = in.front();
    } else {
      continue;  // several folders hold that name
    }
    std::string dep = fmt::format("('{}', '{}')", d.dep_app, d.dep_name);
    Candidate& c = candidates[target][d.dep_app];
    if (own) {
      c.own.push_back(fmt::format("{} depends on {}", d.name, dep));
    } else {
      c.other.push_back(fmt::format("{}/{} depends on {}", d.folder, d.name, dep));
    }
  }

  std::map<std::string, std::string> why;  // folder -> the note's reason
  for (const auto& entry : ev.folders) {
    // Named references, not a structured binding: clang before 16 cannot capture a binding.
    const std::string& folder = entry.first;
    const auto& names = entry.second;
    const std::string& shown = ev.shown.count(folder) ? ev.shown.at(folder) : folder;
    if (const auto* own = records_of(folder);
        own && std::any_of(own->begin(), own->end(),
                           [&](const std::string& n) { return names.count(n) > 0; })) {
      if (candidates.count(folder)) {
        out.notes.push_back(fmt::format(
            "{}: read as app {}, its folder's name, which django_migrations records with its "
            "migrations, although its dependencies name it otherwise",
            shown, folder));
      }
      continue;
    }
    auto it = candidates.find(folder);
    std::string label;
    std::string reason;
    if (it != candidates.end()) {
      std::vector<std::string> labels;
      for (const auto& [l, c] : it->second) {
        labels.push_back(l);
      }
      if (labels.size() > 1) {
        // The tie is broken by django_migrations: an app whose records are all migrations
        // of this folder, when only one is.
        std::vector<std::string> fit;
        for (const auto& l : labels) {
          const auto* r = records_of(l);
          if (r && all_in(*r, names)) {
            fit.push_back(l);
          }
        }
        if (fit.size() != 1) {
          std::string all;
          for (const auto& l : labels) {
            all += (all.empty() ? "" : ", ") + l;
          }
          out.notes.push_back(fmt::format(
              "{}: its migrations' dependencies name it as several apps ({}), and "
              "django_migrations does not tell which: read as app {}, its folder's name",
              shown, all, folder));
          continue;
        }
        labels = fit;
      }
      label = labels.front();
      const Candidate& c = it->second.at(label);
      std::vector<std::string> parts;
      if (!c.own.empty()) {
        parts.push_back(fmt::format("its own migrations name it so: {}", listed(c.own, 2)));
      }
      if (!c.other.empty()) {
        parts.push_back(listed(c.other, 2));
      }
      reason = listed(parts, 2);
      if (const auto* r = records_of(label)) {
        size_t common = static_cast<size_t>(std::count_if(
            r->begin(), r->end(), [&](const std::string& n) { return names.count(n) > 0; }));
        if (common > 0) {
          reason += fmt::format("; django_migrations records {} of its {} migration{} as app {}",
                                common, names.size(), names.size() == 1 ? "" : "s", label);
        }
      }
    } else {
      // Records alone: at least two, all of them migrations of this folder, one app only.
      std::vector<std::string> fit;
      for (const auto& [app, recorded] : ev.records) {
        if (!ev.folders.count(app) && recorded.size() >= 2 && all_in(recorded, names)) {
          fit.push_back(app);
        }
      }
      if (fit.size() != 1) {
        continue;
      }
      label = fit.front();
      reason = fmt::format(
          "django_migrations records app {} with {} migrations, all of them migrations of this "
          "folder, and no folder is named {}",
          label, records_of(label)->size(), label);
    }
    out.label_of[folder] = label;
    why[folder] = reason;
  }
  // A label decided for two folders decides neither.
  std::map<std::string, std::vector<std::string>> folders_of;
  for (const auto& [folder, label] : out.label_of) {
    folders_of[label].push_back(folder);
  }
  for (const auto& [label, folders] : folders_of) {
    if (folders.size() < 2) {
      continue;
    }
    std::string all;
    for (const auto& f : folders) {
      all += (all.empty() ? "" : ", ") + (ev.shown.count(f) ? ev.shown.at(f) : f);
      out.label_of.erase(f);
    }
    out.notes.push_back(fmt::format(
        "{}: each would be app {} by its migrations' dependencies or django_migrations; each "
        "is read as the app its folder names",
        all, label));
  }
  for (const auto& [folder, label] : out.label_of) {
    const std::string& shown = ev.shown.count(folder) ? ev.shown.at(folder) : folder;
    out.notes.push_back(fmt::format(
        "{}: read as app {} (not {}, the folder's name): {}. Its migrations are named {}.NAME "
        "throughout",
        shown, label, folder, why[folder], label));
  }
  return out;
}

AppLabels assign_app_labels(store::Store& store) {
  struct Art {
    int64_t id = 0;
    std::string folder;
    std::string name;
    bool py = false;
  };
  std::map<int64_t, Art> arts;
  AppLabelEvidence ev;
  {
    store::Statement st = store.prepare(
        "SELECT a.id, a.path, a.kind FROM artifact a "
        "WHERE a.kind IN ('django-migration-py', 'django-sqlmigrate') AND a.status <> 'failed' "
        "AND EXISTS (SELECT 1 FROM migration m WHERE m.artifact_id = a.id) ORDER BY a.path, a.id");
    while (st.step()) {
      Art a;
      a.id = st.get_int(0);
      std::string path = st.get_text(1);
      a.py = st.get_text(2) == "django-migration-py";
      if (a.py) {
        auto key = migration_key_from_path(path);
        if (!key) {
          continue;
        }
        a.folder = key->app;
        a.name = key->name;
      } else {
        auto key = migration_from_path(std::filesystem::path(path));
        if (!key) {
          continue;
        }
        a.folder = key->first;
        a.name = key->second;
      }
      ev.folders[a.folder].insert(a.name);
      std::string dir = std::filesystem::path(path).parent_path().generic_string();
      ev.shown.emplace(a.folder, dir.empty() ? a.folder : dir + "/");
      arts.emplace(a.id, std::move(a));
    }
    st.reset();
  }
  {
    store::Statement st = store.prepare(
        "SELECT artifact_id, dep_app, dep_name FROM migration_dependency WHERE swappable IS NULL "
        "ORDER BY artifact_id, line");
    while (st.step()) {
      auto it = arts.find(st.get_int(0));
      if (it == arts.end()) {
        continue;
      }
      ev.dependencies.push_back(
          {it->second.folder, it->second.name, st.get_text(1), st.get_text(2)});
    }
    st.reset();
  }
  {
    store::Statement st = store.prepare("SELECT DISTINCT app, name FROM migration_record");
    while (st.step()) {
      ev.records[st.get_text(0)].insert(st.get_text(1));
    }
    st.reset();
  }
  AppLabels labels = infer_app_labels(ev);

  store::Store::Transaction tx(store);
  store::Statement m = store.prepare(
      "UPDATE migration SET app = ?2 WHERE artifact_id = ?1 AND source IN ('py', 'sqlmigrate') "
      "AND app <> ?2");
  store::Statement d = store.prepare(
      "UPDATE migration_dependency SET app = ?2 WHERE artifact_id = ?1 AND app <> ?2");
  store::Statement o =
      store.prepare("UPDATE migration_operation SET app = ?2 WHERE artifact_id = ?1 AND app <> ?2");
  store::Statement e = store.prepare(
      "UPDATE migration_effect SET app = ?2 WHERE artifact_id = ?1 AND source = 'sqlmigrate' "
      "AND app <> ?2");
  for (const auto& [id, a] : arts) {
    auto it = labels.label_of.find(a.folder);
    const std::string& label = it == labels.label_of.end() ? a.folder : it->second;
    m.run(id, label);
    if (a.py) {
      d.run(id, label);
      o.run(id, label);
    } else {
      e.run(id, label);
    }
  }
  tx.commit();
  return labels;
}

}  // namespace dbautopsy::django
