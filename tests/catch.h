// Catch2 for the tests: v2 (Debian's 2.13) or v3 (vcpkg's).
#ifndef COSTROUTE_TESTS_CATCH_H_
#define COSTROUTE_TESTS_CATCH_H_

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

#endif  // COSTROUTE_TESTS_CATCH_H_
