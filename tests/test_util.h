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

// A fresh empty directory for one test's files, removed with everything in
// it when the object goes out of scope, so test runs leave nothing behind.
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `file` inside the directory.
  std::string file(const std::string& file) const { return path_ + "/" + file; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

}  // namespace costroute::testing

#endif  // COSTROUTE_TESTS_TEST_UTIL_H_
