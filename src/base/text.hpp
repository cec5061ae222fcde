// Small text helpers shared by every layer: ASCII case folding, trimming, splitting,
// UTF-8 validation. All functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::text {

char ascii_lower(char c);
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// `name` without any of `suffixes` at its end, taken off again and again in any order and
// compared without regard to ASCII case (case1.TAR.gz -> case1); never down to nothing.
std::string without_suffixes(std::string_view name,
                             std::initializer_list<std::string_view> suffixes);

// A list of SQL names as a user writes them on a command line (`"Sales-Stage".orders:id,
// "Created At"`): split() at each `sep` outside double quotes.
std::vector<std::string_view> split_names(std::string_view s, char sep);
// A list of names: split_names() at `,`, and at white space outside double quotes between two
// names, as people write a list of columns (`league_id series_name`, `a b, c`); white space
// next to `.`, `:`, `,` or a parenthesis parts nothing (`public . teams`).
std::vector<std::string_view> split_name_list(std::string_view s);
// One name of such a list as dbautopsy stores names: double quotes taken off (`""` inside
// them is one `"`), white space outside them dropped: `"Sales-Stage" . orders` ->
// `Sales-Stage.orders`. (Case is kept: names are matched without regard to case.)
std::string unquote_name(std::string_view s);

// Collapses every run of white space to one space and trims the ends; used to store
// statement text on one line for evidence.
std::string squash_space(std::string_view s);

// Returns the byte offset of the first invalid UTF-8 sequence in s, or nullopt when s is
// valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::optional<size_t> invalid_utf8_at(std::string_view s);

// The length of the longest prefix of s of at most max bytes that does not cut a UTF-8
// sequence in two.
size_t utf8_prefix(std::string_view s, size_t max);

// s itself when it has at most max bytes, else its first max bytes (whole characters)
// followed by "…".
std::string abbreviate(std::string_view s, size_t max);

// s as it may be shown on a terminal or in a document without acting on it: every C0 control
// but the tab (a newline, ESC starting a terminal escape sequence, ...), DEL, every C1 control,
// the bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), the
// line and paragraph separators (U+2028, U+2029) and bytes that are not UTF-8 are written as
// escapes: \n, \r, \xNN for a byte, \uNNNN for a character. s itself when it holds none of
// them; when it does, its backslashes are doubled too, so that the escapes cannot be confused
// with text.
std::string printable(std::string_view s);

// "1,234,567"
std::string thousands(long long n);

// Human-readable byte count: "512 B", "3.4 MiB".
std::string human_bytes(unsigned long long n);

}  // namespace dbautopsy::text
