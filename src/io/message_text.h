// Private: text from input (keys, names, values, file names) as an error
// message shows it, shared by the readers and the command line.
#ifndef COSTROUTE_SRC_IO_MESSAGE_TEXT_H_
#define COSTROUTE_SRC_IO_MESSAGE_TEXT_H_

#include <algorithm>
#include <string>
#include <string_view>

namespace costroute::internal {

// A control character: a line break, a tab, NUL, the escape of a terminal
// sequence (C0 and DEL).
inline bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }

// `text` on one short line: at most its first `max_bytes` bytes (cut at a
// UTF-8 code point boundary, then "..."), with control characters (line
// breaks, NUL, the escape of a terminal sequence) as spaces, so that a
// message stays one line and cannot drive a terminal.
inline std::string one_line(std::string_view text, size_t max_bytes) {
  size_t cut = std::min(text.size(), max_bytes);
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  for (char& ch : out) ch = is_control(ch) ? ' ' : ch;
  if (cut < text.size()) out += "...";
  return out;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_IO_MESSAGE_TEXT_H_
