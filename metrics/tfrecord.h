// TFRecord framing, the container of TensorBoard event files:
//
//   uint64 length (little-endian)
//   uint32 masked CRC32C of those 8 bytes
//   length bytes of data
//   uint32 masked CRC32C of the data
//
//   std::string framed = FrameRecord(event.SerializeAsString());
#ifndef METARM_METRICS_TFRECORD_H_
#define METARM_METRICS_TFRECORD_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace metarm {

// The masked form TFRecord stores: the CRC rotated right by 15 bits plus a
// constant, so that a CRC of data that holds CRCs is not degenerate.
uint32_t MaskedCrc32c(absl::string_view data);

// One record, framed as above.
std::string FrameRecord(absl::string_view data);

}  // namespace metarm

#endif  // METARM_METRICS_TFRECORD_H_
