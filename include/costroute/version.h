// costroute version. CMake reads the project version from these three macros.
#ifndef COSTROUTE_VERSION_H_
#define COSTROUTE_VERSION_H_

#define COSTROUTE_VERSION_MAJOR 0
#define COSTROUTE_VERSION_MINOR 1
#define COSTROUTE_VERSION_PATCH 0

#define COSTROUTE_VERSION_STRING_(a, b, c) #a "." #b "." #c
#define COSTROUTE_VERSION_STRING_X_(a, b, c) COSTROUTE_VERSION_STRING_(a, b, c)
// "MAJOR.MINOR.PATCH", for provenance records and `costroute --version`.
#define COSTROUTE_VERSION_STRING                                  \
  COSTROUTE_VERSION_STRING_X_(COSTROUTE_VERSION_MAJOR,            \
                              COSTROUTE_VERSION_MINOR,            \
                              COSTROUTE_VERSION_PATCH)

#endif  // COSTROUTE_VERSION_H_
