# dbautopsy_embed(OUT_CPP NAMESPACE SYMBOL FILE)
#
# Turns a text file (the fact schema, built-in rules) into a C++ source that defines
#   extern const std::string_view NAMESPACE::SYMBOL;
# The file is read at build time, so the binary needs nothing from the source tree at run
# time, and editing the file triggers a rebuild.
function(dbautopsy_embed out_cpp namespace symbol file)
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND "${CMAKE_COMMAND}" -DIN=${file} -DOUT=${out_cpp} -DNS=${namespace} -DSYM=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake"
    DEPENDS "${file}" "${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake"
    COMMENT "Embedding ${file}")
endfunction()
