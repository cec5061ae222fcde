# dbautopsy_layer(NAME FOLDER SOURCES... [LINKS targets...])
#
# Declares the static library dbautopsy_<NAME> built from SOURCES in FOLDER. Its headers are
# reachable as "<NAME>/<header>" only from targets that link it: the include root handed out
# is a private folder in the build tree that holds a single link, <NAME> -> FOLDER. Linking is
# therefore the only way to see a layer's headers, and the link graph is the layering.
function(dbautopsy_layer name folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINKS" ${ARGN})
  set(root "${CMAKE_BINARY_DIR}/layers/${name}")
  file(MAKE_DIRECTORY "${root}")
  if(NOT EXISTS "${root}/${name}")
    file(CREATE_LINK "${folder}" "${root}/${name}" SYMBOLIC)
  endif()
  add_library(dbautopsy_${name} STATIC ${ARG_SOURCES})
  target_include_directories(dbautopsy_${name} PUBLIC "${root}")
  target_link_libraries(dbautopsy_${name} PUBLIC ${ARG_LINKS})
endfunction()
