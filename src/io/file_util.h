// Private: reading and writing whole files, with one-line errors that name
// the file, and without losing what was there when a write fails.
#ifndef COSTROUTE_SRC_IO_FILE_UTIL_H_
#define COSTROUTE_SRC_IO_FILE_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace costroute::internal {

// The largest file read_file() reads: far above any model or config (the
// 5,000-term default model is 244 KB, so a 1,000,000-term one about
// 50 MB), and a clear error for an endless input such as /dev/zero
// instead of memory exhausted.
inline constexpr size_t kMaxFileBytes = size_t{256} << 20;

// The bytes of the file at `path`. NotFound ("PATH: cannot open: No such
// file or directory") when it cannot be opened, InvalidArgument for an
// empty path, "-" (standard input is read only as JSONL, by JsonlReader),
// a directory or a file over kMaxFileBytes, Unavailable for a read error.
[[nodiscard]] absl::StatusOr<std::string> read_file(const std::string& path);

// OK if `path` can be opened for reading as a file (not a directory);
// else the error read_file() would give.
[[nodiscard]] absl::Status check_readable(const std::string& path);

// OK if write_file(path, ...) should succeed: `path` is not "-" or a
// directory, and the directory it is in exists and is writable; else the
// error write_file() would give ("PATH: cannot write: No such file or
// directory"). For checking an output before long work, so that a typo is
// reported before training, not after.
[[nodiscard]] absl::Status check_writable(const std::string& path);

// True if `a` and `b` name one existing file, by any path or link; "-" is
// standard input (so a file redirected to it is that file).
[[nodiscard]] bool same_file(const std::string& a, const std::string& b);

// The descriptor of this process that `path` names (/dev/stdin 0,
// /dev/stdout 1, /dev/stderr 2, /dev/fd/N and /proc/self/fd/N N), or -1
// for any other path. Such a name is written through the descriptor, at
// its offset, as the shell redirected it: opening it again would start at
// the file's first byte, and following its link would replace the file
// the shell writes into.
[[nodiscard]] int descriptor_named(std::string_view path);

// Replaces the file at `path` with `text`. A regular file (or a new one) is
// written beside it and renamed over it, keeping its permissions, so that a
// reader never sees half a file and a failed write leaves the old one; a
// symbolic link is followed, and a device or pipe is written to in place.
// A descriptor's name (descriptor_named), or a path to the pipe, terminal
// or device standard output or error is, is written through that
// descriptor, after flushing stdout and stderr; a path to the regular file
// standard output or error writes to is refused (check_writable() too).
// Unavailable with the OS error on failure.
[[nodiscard]] absl::Status write_file(const std::string& path, std::string_view text);

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_IO_FILE_UTIL_H_
