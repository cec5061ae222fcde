#include "cli/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/text.hpp"
#include "io/progress.hpp"

namespace dbautopsy::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string duration_text(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  if (s < 60) {
    return fmt::format("{} s", s);
  }
  if (s < 3600) {
    return fmt::format("{}:{:02} min", s / 60, s % 60);
  }
  return fmt::format("{}:{:02} h", s / 3600, (s % 3600) / 60);
}

}  // namespace

bool progress_wanted(bool quiet) {
  if (quiet || !::isatty(STDERR_FILENO)) {
    return false;
  }
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) {
    return false;
  }
  // CI systems set CI (GitHub, GitLab, Travis, CircleCI, ...); a pseudo-terminal there is
  // still a log.
  for (const char* name : {"CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "JENKINS_URL"}) {
    if (const char* v = std::getenv(name); v && *v) {
      return false;
    }
  }
  return true;
}

Progress::Progress(bool enabled, uint64_t total_bytes, size_t files)
    : m_enabled(enabled), m_total(total_bytes), m_files(files) {
  if (m_enabled) {
    m_thread = std::thread([this] { loop(); });
  }
}

Progress::~Progress() {
  stop();
}

void Progress::file(const std::string& name, uint64_t size) {
  std::lock_guard lock(m_mutex);
  m_before += m_size;
  m_size = size;
  m_name = name;
  ++m_index;
  m_read_start = io::bytes_read();
}

void Progress::phase(const std::string& what) {
  std::lock_guard lock(m_mutex);
  m_before += m_size;
  m_size = 0;
  m_name.clear();
  m_phase = what;
}

void Progress::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_done) {
      return;
    }
    m_done = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

std::string Progress::line(int width, const std::string& rate) {
  uint64_t in_file = std::min(io::bytes_read() - m_read_start, m_size);
  uint64_t done = std::min(m_before + in_file, m_total);
  double fraction = m_total ? static_cast<double>(done) / static_cast<double>(m_total) : 1.0;
  constexpr int k_bar = 20;
  int filled = static_cast<int>(fraction * k_bar);
  std::string text =
      fmt::format("[{}{}] {:3}%", std::string(filled, '#'), std::string(k_bar - filled, '.'),
                  static_cast<int>(fraction * 100));
  if (!m_phase.empty()) {
    text += "  " + m_phase;
  } else {
    text += fmt::format("  {} of {}{}  file {}/{} ", text::human_bytes(done),
                        text::human_bytes(m_total), rate, m_index, m_files);
    // The file's name takes what is left of the line, cut at its start.
    size_t room = static_cast<size_t>(width) > text.size() ? width - text.size() : 0;
    std::string name = m_name;
    if (name.size() > room) {
      name = room > 3 ? "..." + name.substr(name.size() - (room - 3)) : "";
    }
    text += name;
  }
  return text.substr(0, static_cast<size_t>(std::max(width, 0)));
}

uint64_t Progress::done() const {
  uint64_t in_file = std::min(io::bytes_read() - m_read_start, m_size);
  return std::min(m_before + in_file, m_total);
}

void Progress::loop() {
  auto start = Clock::now();
  long after_ms = 500;
  if (const char* v = std::getenv("DBAUTOPSY_PROGRESS_AFTER_MS")) {
    after_ms = std::strtol(v, nullptr, 10);
  }
  std::unique_lock lock(m_mutex);
  while (!m_done) {
    m_wake.wait_for(lock, std::chrono::milliseconds(200));
    if (m_done) {
      break;
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed * 1000 < static_cast<double>(after_ms)) {
      continue;
    }
    struct winsize ws {};
    int width = 100;
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
      width = std::min<int>(ws.ws_col, 100);
    }
    width -= 1;  // never the last column: some terminals wrap there
    uint64_t now_done = done();
    std::string rate;
    if (m_phase.empty() && now_done > 0 && elapsed > 0.2) {
      double per_second = static_cast<double>(now_done) / elapsed;
      rate = fmt::format("  {}/s  {} left", text::human_bytes(static_cast<uint64_t>(per_second)),
                         duration_text(static_cast<double>(m_total - now_done) / per_second));
    }
    std::fprintf(stderr, "\r\033[K%s", line(width, rate).c_str());
    std::fflush(stderr);
    m_shown = true;
  }
  if (m_shown) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace dbautopsy::cli
