// Shared command-line plumbing: parsing a subcommand's arguments with
// Boost.Program_options into a checked configuration, with errors as UsageError.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <utility>
#include <vector>

namespace dbautopsy::cli {

namespace po = boost::program_options;

// Parses args against `visible` plus the positional `hidden` options. Throws UsageError
// (with the command name) for unknown options or bad values. Returns false, after
// printing help to stdout, when --help was given.
bool parse_args(const std::string& command, const std::string& synopsis,
                const std::vector<std::string>& args, po::options_description& visible,
                const po::options_description& hidden,
                const po::positional_options_description& positional, po::variables_map& vm,
                const std::string& epilogue = {});

// The default store for a command run without --store: .dbautopsy/facts.db in the
// current folder.
std::string default_store_path();

// The fact store a --store value names: a file as given; a folder stands for the store
// `investigate` keeps in it -- the case folder (DIR/.dbautopsy/facts.db) or that .dbautopsy
// folder itself (DIR/.dbautopsy/facts.db when it holds one); the one file `investigate FILE`
// was given (an archive, a dump: no SQLite database) stands for its store,
// DIR/.dbautopsy/FILE.facts.db, when that exists.
std::string store_file(const std::string& given);

// TABLE:COL[,COL...] written as SQL writes a key, TABLE(COL[, COL...]) (--natural-key,
// --ignore-columns): each parenthesised list outside double quotes becomes `:` and its list.
// A value that has a `:` outside double quotes, or parentheses that do not pair, is returned
// as it is.
std::string colon_form(const std::string& value);

// A value of an option that takes one of a few words (--format, --fail-on, --kind, --as), as
// a user may write it: in any case, with `_` for `-`, or by one of `aliases` (`markdown` for
// `md`, `warn` for `warning`). Returns the word itself; throws UsageError naming `option` and
// listing the words when the value is none of them.
std::string choice(const std::string& option, const std::string& value,
                   const std::vector<std::string>& words,
                   const std::vector<std::pair<std::string, std::string>>& aliases = {});

}  // namespace dbautopsy::cli
