#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int64_t bytes;
};

constexpr DtypeInfo kDtypes[] = {{"F32", torch::kFloat32, 4},
                                 {"F16", torch::kFloat16, 2},
                                 {"BF16", torch::kBFloat16, 2}};

const DtypeInfo* DtypeByName(const std::string& name) {
  for (const DtypeInfo& info : kDtypes) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

const DtypeInfo* DtypeByType(torch::ScalarType type) {
  for (const DtypeInfo& info : kDtypes) {
    if (type == info.type) return &info;
  }
  return nullptr;
}

absl::Status Malformed(const std::string& path, const std::string& why) {
  return absl::DataLossError(
      absl::StrCat(path, ": not a valid safetensors file: ", why));
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  int64_t begin, end;
};

// One tensor's header entry, checked against the data's size.
absl::StatusOr<Entry> ParseEntry(const std::string& path,
                                 const std::string& name,
                                 const nlohmann::json& value,
                                 int64_t data_bytes) {
  const std::string where = absl::StrCat("tensor '", name, "'");
  if (!value.is_object() || !value.contains("dtype") ||
      !value.contains("shape") || !value.contains("data_offsets") ||
      !value["dtype"].is_string() || !value["shape"].is_array() ||
      !value["data_offsets"].is_array() || value["data_offsets"].size() != 2) {
    return Malformed(path, absl::StrCat(where,
                                        " needs dtype, shape and two "
                                        "data_offsets"));
  }
  Entry entry{name, DtypeByName(value["dtype"].get<std::string>()), {}, 0, 0};
  if (entry.dtype == nullptr) {
    return Malformed(path, absl::StrCat(where, " has dtype ",
                                        value["dtype"].get<std::string>(),
                                        "; supported: F32, F16, BF16"));
  }
  int64_t elements = 1;
  for (const nlohmann::json& size : value["shape"]) {
    if (!size.is_number_integer() || size.get<int64_t>() < 0 ||
        size.get<int64_t>() > (int64_t{1} << 40)) {
      return Malformed(path, absl::StrCat(where, " has a bad shape"));
    }
    entry.shape.push_back(size.get<int64_t>());
    elements *= std::max<int64_t>(1, entry.shape.back());
    if (entry.shape.back() == 0) elements = 0;
    if (elements > (int64_t{1} << 40)) {
      return Malformed(path, absl::StrCat(where, " is implausibly large"));
    }
  }
  for (const nlohmann::json& offset : value["data_offsets"]) {
    if (!offset.is_number_integer() || offset.get<int64_t>() < 0) {
      return Malformed(path, absl::StrCat(where, " has a bad data offset"));
    }
  }
  entry.begin = value["data_offsets"][0].get<int64_t>();
  entry.end = value["data_offsets"][1].get<int64_t>();
  if (entry.begin > entry.end || entry.end > data_bytes) {
    return Malformed(
        path,
        absl::StrCat(where, " has data offsets [", entry.begin, ", ", entry.end,
                     ") outside the data's ", data_bytes, " bytes"));
  }
  if (entry.end - entry.begin != elements * entry.dtype->bytes) {
    return Malformed(path, absl::StrCat(where, " has ", entry.end - entry.begin,
                                        " bytes for a shape of ", elements, " ",
                                        entry.dtype->name, " elements"));
  }
  return entry;
}

}  // namespace

absl::StatusOr<TensorMap> ReadSafetensors(const std::string& path) {
  METARM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() < 8) return Malformed(path, "shorter than 8 bytes");
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | static_cast<uint8_t>((bytes)[i]);
  }
  if (header_bytes > bytes.size() - 8) {
    return Malformed(path, absl::StrCat("the header length (", header_bytes,
                                        ") runs past the end of the file (",
                                        bytes.size(), " bytes): truncated?"));
  }
  nlohmann::json header = nlohmann::json::parse(
      bytes.begin() + 8, bytes.begin() + 8 + header_bytes, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Malformed(path, "the header is not a JSON object");
  }
  const int64_t data_start = 8 + static_cast<int64_t>(header_bytes);
  const int64_t data_bytes = static_cast<int64_t>(bytes.size()) - data_start;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    METARM_ASSIGN_OR_RETURN(Entry entry,
                            ParseEntry(path, name, value, data_bytes));
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].begin < entries[i - 1].end) {
      return Malformed(path,
                       absl::StrCat("tensors '", entries[i - 1].name, "' and '",
                                    entries[i].name, "' overlap"));
    }
  }
  TensorMap tensors;
  for (const Entry& entry : entries) {
    torch::Tensor tensor = torch::empty(entry.shape, entry.dtype->type);
    if (entry.end > entry.begin) {  // an empty tensor has no storage
      std::memcpy(tensor.data_ptr(), bytes.data() + data_start + entry.begin,
                  entry.end - entry.begin);
    }
    tensors[entry.name] = tensor;
  }
  return tensors;
}

absl::StatusOr<TensorMap> ReadShardedSafetensors(
    const std::string& index_path) {
  METARM_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
  nlohmann::json index = nlohmann::json::parse(text, nullptr, false);
  if (index.is_discarded() || !index.is_object() ||
      !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return absl::DataLossError(absl::StrCat(
        index_path, ": not a safetensors index (no weight_map object)"));
  }
  const std::string folder =
      std::filesystem::path(index_path).parent_path().string();
  std::map<std::string, TensorMap> shards;
  TensorMap tensors;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) {
      return absl::DataLossError(absl::StrCat(
          index_path, ": weight_map entry '", name, "' is not a file name"));
    }
    const std::string shard = file.get<std::string>();
    if (shards.count(shard) == 0) {
      METARM_ASSIGN_OR_RETURN(
          TensorMap loaded,
          ReadSafetensors(folder.empty() ? shard : folder + "/" + shard));
      shards[shard] = std::move(loaded);
    }
    auto found = shards[shard].find(name);
    if (found == shards[shard].end()) {
      return absl::DataLossError(
          absl::StrCat(index_path, ": tensor '", name, "' is not in ", shard));
    }
    tensors[name] = found->second;
  }
  for (const auto& [shard, held] : shards) {
    for (const auto& [name, tensor] : held) {
      if (tensors.count(name) == 0) {
        return absl::DataLossError(
            absl::StrCat(index_path, ": ", shard, " holds '", name,
                         "', which the index does not name"));
      }
    }
  }
  return tensors;
}

absl::Status WriteSafetensors(
    const std::string& path, const TensorMap& tensors,
    const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const DtypeInfo* dtype = DtypeByType(tensor.scalar_type());
    if (dtype == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": tensor '", name, "' is ",
          c10::toString(tensor.scalar_type()),
          "; safetensors files here hold float32, float16 or bfloat16"));
    }
    torch::Tensor contiguous = tensor.cpu().contiguous();
    const int64_t begin = data.size();
    if (contiguous.numel() > 0) {
      data.append(static_cast<const char*>(contiguous.data_ptr()),
                  contiguous.numel() * dtype->bytes);
    }
    header[name] = {
        {"dtype", dtype->name},
        {"shape", contiguous.sizes().vec()},
        {"data_offsets", {begin, static_cast<int64_t>(data.size())}}};
  }
  std::string text = header.dump();
  // Padded with spaces so that the data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) {
    file[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  }
  file += text;
  file += data;
  return WriteFileAtomically(path, file);
}

}  // namespace metarm
