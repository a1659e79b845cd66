// Helpers shared by the tests.
#ifndef COSTROUTE_TESTS_TEST_UTIL_H_
#define COSTROUTE_TESTS_TEST_UTIL_H_

#include <cstddef>
#include <string>

namespace costroute::testing {

// Counts heap allocations made by the current thread while it lives
// (tests/allocation_hooks.cc replaces the global operator new).
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  size_t count() const;

 private:
  size_t start_;
};

// The directory beside the project that holds shared/data and shared/parity.
std::string shared_dir();

// A fresh empty directory for one test's files.
std::string temp_dir(const std::string& name);

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

}  // namespace costroute::testing

#endif  // COSTROUTE_TESTS_TEST_UTIL_H_
