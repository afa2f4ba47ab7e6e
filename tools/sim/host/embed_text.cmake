# Writes a C++ header holding text files as string_view constants.
#   cmake -DOUTPUT=<header> -DVARIABLE=<name> -DSHAPE=ONE|ARRAY -DINPUTS=<file>|<file>...
#         -P embed_text.cmake
# ONE (exactly one input): `inline constexpr EmbeddedFile <name>{...}`; ARRAY: an array of them.
# The header is only replaced when its content changes, so an unchanged input triggers no
# recompilation.
cmake_minimum_required(VERSION 3.25)

set(delimiter "xb_embedded")
string(REPLACE "|" ";" inputs "${INPUTS}")
list(LENGTH inputs count)
if(count EQUAL 0)
  message(FATAL_ERROR "embed_text.cmake: no input files for ${VARIABLE}")
endif()

set(entries "")
foreach(input IN LISTS inputs)
  file(READ "${input}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "embed_text.cmake: ${input} contains the raw-string delimiter")
  endif()
  get_filename_component(name "${input}" NAME)
  string(APPEND entries "    {\"${name}\", R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()

if(SHAPE STREQUAL "ONE")
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "embed_text.cmake: ${VARIABLE} takes exactly one file, got ${count}")
  endif()
  string(REGEX REPLACE ",\n$" "" entry "${entries}")
  string(STRIP "${entry}" entry)
  set(definition "inline constexpr EmbeddedFile ${VARIABLE}${entry};\n")
else()
  set(definition "inline constexpr EmbeddedFile ${VARIABLE}[] = {\n${entries}};\n")
endif()

set(header "// Generated at build time by tools/sim/host/embed_text.cmake; do not edit.
#pragma once

#include \"embedded_file.h\"

namespace xenballoon::sim::embedded {

${definition}
}  // namespace xenballoon::sim::embedded
")
file(WRITE "${OUTPUT}.tmp" "${header}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
