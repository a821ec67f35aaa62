#include "util/gzip_file.h"

#include <zlib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path) {
  METARM_ASSIGN_OR_RETURN(std::string raw, ReadFile(path));
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f ||
      static_cast<unsigned char>(raw[1]) != 0x8b) {
    return raw;
  }
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError(absl::StrCat(path, ": zlib init failed"));
  }
  stream.next_in = reinterpret_cast<Bytef*>(raw.data());
  stream.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char buffer[1 << 16];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    // Concatenated gzip members: start the next one.
    if (result == Z_STREAM_END && stream.avail_in > 0) {
      result = inflateReset(&stream);
    }
  }
  const std::string message = stream.msg != nullptr ? stream.msg : "";
  inflateEnd(&stream);
  if (result != Z_STREAM_END) {
    return absl::DataLossError(
        absl::StrCat(path, ": gzip data is truncated or corrupt",
                     message.empty() ? "" : absl::StrCat(" (", message, ")")));
  }
  return out;
}

}  // namespace metarm
