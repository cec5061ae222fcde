#include "base/timing.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dbautopsy::timing {

namespace {

struct Usage {
  double cpu_seconds = 0;
  double peak_rss_mib = 0;
};

Usage usage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  // ru_maxrss is in KiB on Linux.
  return {s(u.ru_utime) + s(u.ru_stime), static_cast<double>(u.ru_maxrss) / 1024};
}

struct Clock {
  std::mutex mutex;
  bool started = false;
  std::chrono::steady_clock::time_point wall;
  double cpu = 0;
};

Clock& clock() {
  static Clock c;
  return c;
}

}  // namespace

bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("DBAUTOPSY_TIMINGS");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

void phase(const std::string& name) {
  if (!enabled()) {
    return;
  }
  Clock& c = clock();
  std::lock_guard lock(c.mutex);
  auto now = std::chrono::steady_clock::now();
  Usage u = usage();
  double cpu = u.cpu_seconds;
  if (c.started) {
    double wall_ms = std::chrono::duration<double, std::milli>(now - c.wall).count();
    std::fputs(fmt::format("dbautopsy: timing: {:<28} wall {:8.1f} ms  cpu {:8.1f} ms  "
                           "peak RSS {:6.1f} MiB\n",
                           name, wall_ms, (cpu - c.cpu) * 1000, u.peak_rss_mib)
                   .c_str(),
               stderr);
  }
  c.started = true;
  c.wall = now;
  c.cpu = cpu;
}

}  // namespace dbautopsy::timing
