// Long inputs cut to a readable excerpt for error messages: a 50 MB data line
// must not become a 50 MB message.
//
//   LineError(path, line, Excerpt(parser_message));
#ifndef METARM_UTIL_EXCERPT_H_
#define METARM_UTIL_EXCERPT_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace metarm {

// `text` itself when it has at most `limit` bytes; otherwise its first
// `limit` bytes (not splitting a UTF-8 character) and "… (N more bytes)".
inline std::string Excerpt(absl::string_view text, size_t limit = 300) {
  if (text.size() <= limit) return std::string(text);
  size_t end = limit;
  // Back up over UTF-8 continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrCat(text.substr(0, end), "… (", text.size() - end,
                      " more bytes)");
}

}  // namespace metarm

#endif  // METARM_UTIL_EXCERPT_H_
