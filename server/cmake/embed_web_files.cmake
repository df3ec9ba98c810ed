# Generates the C++ table of the web UI's files (cmake -P script, run by the
# build whenever a file under server/web/ changes).
#   -DWEB_DIR=<server/web> -DTEMPLATE=<web_page.cpp.in> -DOUTPUT=<web_page.cpp>
# Each file becomes a byte array; its Content-Type comes from its extension.
cmake_minimum_required(VERSION 3.25)

file(GLOB_RECURSE files RELATIVE ${WEB_DIR} ${WEB_DIR}/*)
list(SORT files)

set(HEMMA_WEB_ARRAYS "")
set(HEMMA_WEB_TABLE "")
set(index 0)
foreach(path IN LISTS files)
  get_filename_component(ext ${path} LAST_EXT)
  string(TOLOWER "${ext}" ext)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js" OR ext STREQUAL ".mjs")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".json")
    set(type "application/json")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(ext STREQUAL ".png")
    set(type "image/png")
  elseif(ext STREQUAL ".ico")
    set(type "image/x-icon")
  elseif(ext STREQUAL ".txt")
    set(type "text/plain; charset=utf-8")
  else()
    message(FATAL_ERROR "server/web/${path}: no Content-Type known for \"${ext}\"; add it to ${CMAKE_CURRENT_LIST_FILE}")
  endif()

  file(READ ${WEB_DIR}/${path} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  # Keep lines short enough for editors that open the generated file.
  string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){24})" "\\1\n    " bytes "${bytes}")
  string(APPEND HEMMA_WEB_ARRAYS "// ${path}\nconst char kFile${index}[] = {\n    ${bytes}'\\0'};\n")
  string(APPEND HEMMA_WEB_TABLE "    {\"${path}\", \"${type}\", std::string_view(kFile${index}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()

configure_file(${TEMPLATE} ${OUTPUT}.tmp @ONLY)
# Only touch the output when it changed, so an unchanged table recompiles nothing.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
