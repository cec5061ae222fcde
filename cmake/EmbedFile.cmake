# Script mode helper of dbautopsy_embed: writes OUT defining NS::SYM as the bytes of IN.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR size "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE "${OUT}"
     "// Generated from ${IN}; do not edit.\n#include <string_view>\n"
     "namespace ${NS} {\nstatic const char k_data[] = {${bytes} '\\0'};\n"
     "extern const std::string_view ${SYM};\n"
     "const std::string_view ${SYM}(k_data, ${size});\n}\n")
