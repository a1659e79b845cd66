# Finds utf8proc, which ships no CMake package on Debian, and defines the
# imported target utf8proc::utf8proc.
include(FindPackageHandleStandardArgs)
find_path(utf8proc_INCLUDE_DIR NAMES utf8proc.h)
find_library(utf8proc_LIBRARY NAMES utf8proc utf8proc_static)
find_package_handle_standard_args(utf8proc
  REQUIRED_VARS utf8proc_LIBRARY utf8proc_INCLUDE_DIR)
if(utf8proc_FOUND AND NOT TARGET utf8proc::utf8proc)
  add_library(utf8proc::utf8proc UNKNOWN IMPORTED)
  set_target_properties(utf8proc::utf8proc PROPERTIES
    IMPORTED_LOCATION "${utf8proc_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${utf8proc_INCLUDE_DIR}")
  if(utf8proc_LIBRARY MATCHES "static")
    set_property(TARGET utf8proc::utf8proc APPEND PROPERTY
      INTERFACE_COMPILE_DEFINITIONS UTF8PROC_STATIC)
  endif()
endif()
mark_as_advanced(utf8proc_INCLUDE_DIR utf8proc_LIBRARY)
