#include "metrics/tfrecord.h"

// crcutil (Debian's libcrcutil-dev) computes the CRC.
#include "generic_crc.h"

namespace metarm {
namespace {

void AppendLittleEndian(uint64_t value, int bytes, std::string& out) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

}  // namespace

uint32_t Crc32c(absl::string_view data) {
  // The reflected Castagnoli polynomial; `canonical` pre- and post-inverts.
  using Crc =
      crcutil::GenericCrc<crcutil::uint64, crcutil::uint64, crcutil::uint64, 4>;
  static const Crc* const kCrc = new Crc(0x82f63b78, 32, /*canonical=*/true);
  return static_cast<uint32_t>(kCrc->CrcDefault(data.data(), data.size(), 0));
}

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
