// SHA-256 of a file as stored (compressed bytes for a .gz), through OpenSSL's libcrypto,
// which uses the CPU's SHA extensions where present: hashing a large dump must not cost
// more than reading it. Throws InputError when the file cannot be read.
#pragma once

#include <filesystem>
#include <string>

namespace dbautopsy::io {

std::string sha256_file(const std::filesystem::path& path);

}  // namespace dbautopsy::io
