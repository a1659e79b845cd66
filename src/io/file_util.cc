#include "io/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"

namespace costroute::internal {
namespace {

using internal::to_absl;

absl::Status os_error(absl::StatusCode code, const std::string& path, std::string_view what, int error) {
  return absl::Status(code, absl::StrCat(path, ": ", to_absl(what), ": ", std::strerror(error)));
}

// Opens `path` for reading; the descriptor, or the error read_file() gives.
absl::StatusOr<int> open_for_reading(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("an empty file name");
  if (path == "-") return absl::InvalidArgumentError("-: give a file name to read (\"-\", standard input, is for data)");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return os_error(error == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kUnavailable, path,
                    "cannot open", error);
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return os_error(absl::StatusCode::kInvalidArgument, path, "cannot open", EISDIR);
  }
  return fd;
}

// The error for "-" as a file to write.
absl::Status dash_is_no_output() {
  return absl::InvalidArgumentError("-: give a file name to write (\"-\" reads standard input elsewhere)");
}

absl::Status write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// OK if descriptor `fd` is open for writing.
absl::Status check_descriptor(int fd, const std::string& path) {
  const int mode = ::fcntl(fd, F_GETFL);
  if (mode < 0) return os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
  if ((mode & O_ACCMODE) == O_RDONLY) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot write: open only for reading"));
  }
  return absl::OkStatus();
}

// The descriptor write_file() writes `path` through: descriptor_named(),
// or standard output or error where `path` leads to the pipe, terminal or
// device it is (a link to /dev/stdout); -1 for a path to replace. A
// regular file that standard output or error already writes to is
// refused: replacing it would lose what they write, writing into it would
// mix the two.
absl::StatusOr<int> output_descriptor(const std::string& path) {
  if (const int fd = descriptor_named(path); fd >= 0) {
    COSTROUTE_RETURN_IF_ERROR(check_descriptor(fd, path));
    return fd;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat open {};
    if (::fstat(fd, &open) != 0 || open.st_dev != st.st_dev || open.st_ino != st.st_ino) continue;
    if (S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: it is the file standard ",
                                                     fd == STDOUT_FILENO ? "output" : "error",
                                                     " goes to; name it once (as /dev/",
                                                     fd == STDOUT_FILENO ? "stdout" : "stderr",
                                                     " for both in one file)"));
    }
    COSTROUTE_RETURN_IF_ERROR(check_descriptor(fd, path));
    return fd;
  }
  return -1;
}

}  // namespace

int descriptor_named(std::string_view path) {
  if (path == "/dev/stdin") return STDIN_FILENO;
  if (path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr") return STDERR_FILENO;
  for (std::string_view prefix : {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/")}) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    std::string_view digits = path.substr(prefix.size());
    // As the kernel names them: no leading zero (no /dev/fd/01).
    if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return -1;
    int fd = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return -1;
      fd = fd * 10 + (c - '0');
    }
    return fd;
  }
  return -1;
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  absl::StatusOr<int> fd = open_for_reading(path);
  if (!fd.ok()) return fd.status();
  std::string text;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(*fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(*fd);
      return os_error(absl::StatusCode::kUnavailable, path, "read error", error);
    }
    if (text.size() + static_cast<size_t>(n) > kMaxFileBytes) {
      ::close(*fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 256 MiB, more than any model or config"));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(*fd);
  return text;
}

absl::Status check_readable(const std::string& path) {
  absl::StatusOr<int> fd = open_for_reading(path);
  if (!fd.ok()) return fd.status();
  ::close(*fd);
  return absl::OkStatus();
}

bool same_file(const std::string& a, const std::string& b) {
  auto identify = [](const std::string& path, struct stat& st) {
    return path == "-" ? fstat(STDIN_FILENO, &st) == 0 : stat(path.c_str(), &st) == 0;
  };
  struct stat sa, sb;
  return identify(a, sa) && identify(b, sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

absl::Status check_writable(const std::string& path) {
  if (path == "-") return dash_is_no_output();
  COSTROUTE_ASSIGN_OR_RETURN(const int fd, output_descriptor(path));
  if (fd >= 0) return absl::OkStatus();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return os_error(absl::StatusCode::kInvalidArgument, path, "cannot write", EISDIR);
    if (!S_ISREG(st.st_mode)) return absl::OkStatus();  // a device or a pipe, written in place
  }
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (::access(directory.empty() ? "." : directory.c_str(), W_OK) != 0) {
    return os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
  }
  return absl::OkStatus();
}

absl::Status write_file(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  if (path == "-") return dash_is_no_output();
  COSTROUTE_ASSIGN_OR_RETURN(const int standard, output_descriptor(path));
  if (standard >= 0) {
    // After what the command has printed: the two may share the descriptor.
    if (std::fflush(stdout) != 0 || std::fflush(stderr) != 0) {
      return os_error(absl::StatusCode::kUnavailable, "standard output", "cannot write", errno);
    }
    return write_all(standard, text, path);
  }
  std::error_code ec;
  // Through symbolic links to the file they name, which may not exist yet.
  fs::path target = path;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(target, ec)); ++hops) {
    const fs::path next = fs::read_symlink(target, ec);
    if (ec || hops == 40) {
      return os_error(absl::StatusCode::kUnavailable, path, "cannot follow the link", ec ? ec.value() : ELOOP);
    }
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  const std::string target_name = target.string();
  struct stat st {};
  const bool exists = ::stat(target_name.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    return os_error(absl::StatusCode::kInvalidArgument, path, "cannot write", EISDIR);
  }
  if (exists && !S_ISREG(st.st_mode)) {
    // A device or a pipe: write to it, never replace it.
    const int fd = ::open(target_name.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
    absl::Status status = write_all(fd, text, path);
    if (::close(fd) != 0 && status.ok()) status = os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
    return status;
  }

  const std::string temporary = absl::StrCat(target_name, ".tmp.", ::getpid());
  const mode_t mode = exists ? (st.st_mode & 07777) : 0666;  // a new file: 0666 less the umask
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
  absl::Status status = write_all(fd, text, path);
  if (status.ok() && exists && ::fchmod(fd, mode) != 0) {
    status = os_error(absl::StatusCode::kUnavailable, path, "cannot keep the permissions", errno);
  }
  if (::close(fd) != 0 && status.ok()) status = os_error(absl::StatusCode::kUnavailable, path, "cannot write", errno);
  if (status.ok() && std::rename(temporary.c_str(), target_name.c_str()) != 0) {
    status = os_error(absl::StatusCode::kUnavailable, path, "cannot replace", errno);
  }
  if (!status.ok()) ::unlink(temporary.c_str());
  return status;
}

}  // namespace costroute::internal
