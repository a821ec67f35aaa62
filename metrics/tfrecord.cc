#include "metrics/tfrecord.h"

#include "util/crc32c.h"

namespace metarm {
namespace {

void AppendLittleEndian(uint64_t value, int bytes, std::string& out) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

}  // namespace

uint32_t MaskedCrc32c(absl::string_view data) {
  const uint32_t crc = Crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string FrameRecord(absl::string_view data) {
  std::string framed;
  framed.reserve(data.size() + 16);
  AppendLittleEndian(data.size(), 8, framed);
  AppendLittleEndian(MaskedCrc32c(framed), 4, framed);
  framed.append(data.data(), data.size());
  AppendLittleEndian(MaskedCrc32c(data), 4, framed);
  return framed;
}

}  // namespace metarm
