// A progress line on stderr while inputs are read: bytes read of the total, the rate, the time
// left and the file being read. Only on a terminal, and never under CI or --quiet: logs and
// pipes get no carriage returns. It shows itself only once a run has taken a moment
// (DBAUTOPSY_PROGRESS_AFTER_MS, default 500), so quick runs print nothing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace dbautopsy::cli {

// Whether a progress line suits this run: stderr is a terminal (not "dumb"), no --quiet, and
// no CI environment variable set.
bool progress_wanted(bool quiet);

class Progress {
 public:
  // total_bytes: the sizes of all the files the run reads.
  Progress(bool enabled, uint64_t total_bytes, size_t files);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // The run starts reading the next file, of `size` bytes on disk.
  void file(const std::string& name, uint64_t size);
  // Reading is over; what the run does now ("analysing").
  void phase(const std::string& what);
  // Clears the line (before other output to stderr, and at the end).
  void stop();

 private:
  void loop();
  // The line, at most `width` columns; `rate`: the rate and time left, when known.
  std::string line(int width, const std::string& rate);
  uint64_t done() const;

  bool m_enabled;
  uint64_t m_total;
  size_t m_files;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_done = false;
  bool m_shown = false;
  // Guarded by m_mutex:
  std::string m_name, m_phase;
  size_t m_index = 0;
  uint64_t m_before = 0;      // sizes of the files read completely
  uint64_t m_size = 0;        // size of the file being read
  uint64_t m_read_start = 0;  // io::bytes_read() when it started
  std::thread m_thread;
};

}  // namespace dbautopsy::cli
