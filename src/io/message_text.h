// Private: text from input (keys, names, values, file names) as an error
// message shows it, shared by the readers and the command line.
#ifndef COSTROUTE_SRC_IO_MESSAGE_TEXT_H_
#define COSTROUTE_SRC_IO_MESSAGE_TEXT_H_

#include <algorithm>
#include <string>
#include <string_view>

namespace costroute::internal {

// `text` on one short line: at most its first `max_bytes` bytes (cut at a
// UTF-8 code point boundary, then "..."), with control characters (line
// breaks, NUL, the escape of a terminal sequence) as spaces, so that a
// message stays one line and cannot drive a terminal.
inline std::string one_line(std::string_view text, size_t max_bytes) {
  size_t cut = std::min(text.size(), max_bytes);
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  for (char& ch : out) ch = (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ? ' ' : ch;
  if (cut < text.size()) out += "...";
  return out;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_IO_MESSAGE_TEXT_H_
