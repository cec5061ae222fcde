// The psql script lexer alone (src/pgsql/script_lexer.cpp): statements, meta-commands,
// quotes and comments of every kind, pausing and resuming, a tiny statement cap. The first
// byte picks the settings.
#include "pgsql/script_lexer.hpp"
#include "../fuzz.hpp"

using namespace dbautopsy;

namespace {

class Handler final : public pgsql::ScriptLexer::Handler {
 public:
  explicit Handler(bool pause) : m_pause(pause) {}
  bool on_statement(pgsql::ScriptStatement& statement) override {
    m_bytes += statement.text.size();
    return m_pause && (++m_count % 2 == 0);
  }
  void on_meta_command(std::string_view text, uint64_t) override { m_bytes += text.size(); }

 private:
  bool m_pause;
  size_t m_count = 0;
  size_t m_bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  uint8_t flags = data[0];
  std::string_view text = fuzz::as_text(data + 1, size - 1);
  Handler handler((flags & 1) != 0);
  pgsql::ScriptLexer lexer(handler, (flags & 2) ? 32 : 1u << 20);
  lexer.set_standard_conforming_strings((flags & 4) == 0);
  uint64_t number = 0;
  uint64_t offset = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    ++number;
    if (!lexer.feed(line, number, offset)) {
      while (!lexer.resume()) {
      }
    }
    offset += line.size() + 1;
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  if (!lexer.idle()) {
    (void)lexer.open_construct();
  }
  lexer.finish();
  return 0;
}
