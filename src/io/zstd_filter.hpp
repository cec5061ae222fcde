// A Boost.Iostreams input filter for zstd that, unlike boost::iostreams::zstd_decompressor,
// fails on a truncated frame instead of reporting a clean end of stream. Concatenated
// frames (zstd's multi-frame files) are decoded in sequence.
#pragma once

#include <zstd.h>
#include <boost/iostreams/concepts.hpp>
#include <boost/iostreams/operations.hpp>
#include <ios>
#include <memory>
#include <vector>

namespace dbautopsy::io {

class ZstdDecompressor : public boost::iostreams::multichar_input_filter {
 public:
  ZstdDecompressor() : m_state(std::make_shared<State>()) {}

  template <typename Source>
  std::streamsize read(Source& src, char* dst, std::streamsize n) {
    State& s = *m_state;
    ZSTD_outBuffer out{dst, static_cast<size_t>(n), 0};
    while (out.pos == 0) {
      if (s.in.pos == s.in.size) {
        if (s.eof) {
          break;
        }
        std::streamsize got = boost::iostreams::read(src, s.buffer.data(),
                                                     static_cast<std::streamsize>(s.buffer.size()));
        if (got <= 0) {
          s.eof = true;
          if (s.pending != 0) {
            throw std::ios_base::failure("zstd data ends inside a frame");
          }
          break;
        }
        s.in = ZSTD_inBuffer{s.buffer.data(), static_cast<size_t>(got), 0};
      }
      size_t ret = ZSTD_decompressStream(s.ctx.get(), &out, &s.in);
      if (ZSTD_isError(ret)) {
        throw std::ios_base::failure(std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
      }
      s.pending = ret;
    }
    return out.pos > 0 ? static_cast<std::streamsize>(out.pos) : -1;
  }

 private:
  struct State {
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx{ZSTD_createDCtx(), ZSTD_freeDCtx};
    std::vector<char> buffer = std::vector<char>(ZSTD_DStreamInSize());
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t pending = 0;  // ZSTD_decompressStream's last hint: 0 when a frame is complete
    bool eof = false;
  };
  std::shared_ptr<State> m_state;  // Boost copies filters; the copies share one state
};

}  // namespace dbautopsy::io
