#include "util/crc32c.h"

// crcutil (Debian's libcrcutil-dev) computes the CRC.
#include "generic_crc.h"

namespace metarm {

uint32_t Crc32c(absl::string_view data) {
  // The reflected Castagnoli polynomial; `canonical` pre- and post-inverts.
  using Crc =
      crcutil::GenericCrc<crcutil::uint64, crcutil::uint64, crcutil::uint64, 4>;
  static const Crc* const kCrc = new Crc(0x82f63b78, 32, /*canonical=*/true);
  return static_cast<uint32_t>(kCrc->CrcDefault(data.data(), data.size(), 0));
}

}  // namespace metarm
