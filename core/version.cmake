# The version and the ABI version have one source: core/include/genesis/version.h. Read here
# before project(), so the project version, the shared library's VERSION and SOVERSION, and
# genesis.pc follow the header; the header's own fields are checked against each other (and
# the Python package's version against them) when the build is configured.
set(_genesis_version_h ${CMAKE_CURRENT_LIST_DIR}/include/genesis/version.h)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_genesis_version_h})
file(READ ${_genesis_version_h} _genesis_version_text)

function(_genesis_version_field name out)
  if(NOT _genesis_version_text MATCHES "#define ${name} +([0-9]+)\n")
    message(FATAL_ERROR "core/include/genesis/version.h: no numeric #define ${name}")
  endif()
  set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

_genesis_version_field(GENESIS_VERSION_MAJOR GENESIS_VERSION_MAJOR)
_genesis_version_field(GENESIS_VERSION_MINOR GENESIS_VERSION_MINOR)
_genesis_version_field(GENESIS_VERSION_PATCH GENESIS_VERSION_PATCH)
_genesis_version_field(GENESIS_ABI_VERSION GENESIS_ABI_VERSION)
set(GENESIS_VERSION ${GENESIS_VERSION_MAJOR}.${GENESIS_VERSION_MINOR}.${GENESIS_VERSION_PATCH})

if(NOT _genesis_version_text MATCHES "#define GENESIS_VERSION_STRING +\"([^\"]*)\"")
  message(FATAL_ERROR "core/include/genesis/version.h: no #define GENESIS_VERSION_STRING")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL GENESIS_VERSION)
  message(FATAL_ERROR "core/include/genesis/version.h: GENESIS_VERSION_STRING \"${CMAKE_MATCH_1}\" "
                      "is not MAJOR.MINOR.PATCH (${GENESIS_VERSION})")
endif()

set(_genesis_pyproject ${CMAKE_CURRENT_LIST_DIR}/../bindings/python/pyproject.toml)
if(EXISTS ${_genesis_pyproject})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_genesis_pyproject})
  file(STRINGS ${_genesis_pyproject} _genesis_py_version REGEX "^version *= *\"")
  string(REGEX REPLACE "^version *= *\"([^\"]*)\".*" "\\1" _genesis_py_version
                       "${_genesis_py_version}")
  if(NOT _genesis_py_version STREQUAL GENESIS_VERSION)
    message(FATAL_ERROR "bindings/python/pyproject.toml: version \"${_genesis_py_version}\" is "
                        "not the library's ${GENESIS_VERSION} (core/include/genesis/version.h)")
  endif()
endif()
