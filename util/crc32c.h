// CRC-32C (Castagnoli), through Debian's crcutil.
//
//   uint32_t crc = Crc32c(bytes);
//
// Used for TensorBoard's record framing and the checkpoints' checksums.
#ifndef METARM_UTIL_CRC32C_H_
#define METARM_UTIL_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace metarm {

uint32_t Crc32c(absl::string_view data);

}  // namespace metarm

#endif  // METARM_UTIL_CRC32C_H_
