#include "tasks/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {

// The functions of libmetarm_sentencepiece.so (sentencepiece_library.h).
struct SentencePieceTokenizer::Library {
  void* (*load)(const char*, char*, size_t);
  void (*free)(void*);
  int (*encode)(void*, const char*, size_t, int*, int);
  size_t (*decode)(void*, const int*, int, char*, size_t);
  int (*info)(void*, int);
  int (*train)(const char*, char*, size_t);
};

namespace {

using Library = SentencePieceTokenizer::Library;
constexpr char kLibraryName[] = "libmetarm_sentencepiece.so";

std::vector<std::string> Candidates() {
  std::vector<std::string> paths;
  if (const char* explicit_path = std::getenv("METARM_SENTENCEPIECE_LIBRARY")) {
    paths.push_back(explicit_path);
  }
  char exe[4096] = {};
  const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (length > 0) {
    const std::string program(exe, length);
    const std::string dir = program.substr(0, program.rfind('/'));
    paths.push_back(
        absl::StrCat(program, ".runfiles/metarm/tasks/", kLibraryName));
    paths.push_back(absl::StrCat(dir, "/../tasks/", kLibraryName));
    paths.push_back(absl::StrCat(dir, "/", kLibraryName));
  }
  if (const char* runfiles = std::getenv("RUNFILES_DIR")) {
    paths.push_back(absl::StrCat(runfiles, "/metarm/tasks/", kLibraryName));
  }
  paths.push_back(absl::StrCat("tasks/", kLibraryName));
  return paths;
}

template <typename F>
bool Bind(void* handle, const char* name, F* function) {
  *function = reinterpret_cast<F>(::dlsym(handle, name));
  return *function != nullptr;
}

absl::StatusOr<const Library*> OpenLibrary() {
  static const absl::StatusOr<const Library*>* opened =
      new absl::StatusOr<const Library*>(
          []() -> absl::StatusOr<const Library*> {
            std::vector<std::string> tried;
            for (const std::string& path : Candidates()) {
              if (!PathExists(path)) {
                tried.push_back(path);
                continue;
              }
              // Local and deep-bound: the library and libsentencepiece resolve
              // their symbols (protobuf-lite's among them) in themselves first,
              // and none of theirs becomes visible to the rest of the program.
              void* handle =
                  ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
              if (handle == nullptr) {
                return absl::FailedPreconditionError(
                    absl::StrCat("cannot load ", path, ": ", ::dlerror()));
              }
              auto* library = new Library();
              if (!Bind(handle, "metarm_spm_load", &library->load) ||
                  !Bind(handle, "metarm_spm_free", &library->free) ||
                  !Bind(handle, "metarm_spm_encode", &library->encode) ||
                  !Bind(handle, "metarm_spm_decode", &library->decode) ||
                  !Bind(handle, "metarm_spm_info", &library->info) ||
                  !Bind(handle, "metarm_spm_train", &library->train)) {
                return absl::FailedPreconditionError(
                    absl::StrCat(path, ": not metarm's SentencePiece library"));
              }
              return library;
            }
            return absl::FailedPreconditionError(absl::StrCat(
                "SentencePiece support needs ", kLibraryName,
                " (bazel build //tasks:", kLibraryName,
                "; or set METARM_SENTENCEPIECE_LIBRARY); looked in ",
                absl::StrJoin(tried, ", ")));
          }());
  return *opened;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>>
SentencePieceTokenizer::Load(const std::string& path) {
  struct stat info;
  std::string file = path;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    file = path + "/tokenizer.model";
  }
  METARM_ASSIGN_OR_RETURN(const Library* library, OpenLibrary());
  char error[512] = {};
  void* model = (library)->load(file.c_str(), error, sizeof(error));
  if (model == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": not a SentencePiece model: ", error));
  }
  std::unique_ptr<SentencePieceTokenizer> tokenizer(
      new SentencePieceTokenizer());
  tokenizer->library_ = library;
  tokenizer->model_ = model;  // freed by the destructor from here on
  const int bos = (library)->info(model, 1);
  const int eos = (library)->info(model, 2);
  const int pad = (library)->info(model, 3);
  if (bos < 0 || eos < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": the model has no ", bos < 0 ? "bos" : "eos",
                     " piece; metarm needs both"));
  }
  tokenizer->vocab_size_ = (library)->info(model, 0);
  tokenizer->bos_id_ = bos;
  tokenizer->eos_id_ = eos;
  tokenizer->pad_id_ = pad >= 0 ? pad : eos;
  return tokenizer;
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (model_ != nullptr) library_->free(model_);
}

TokenSequence SentencePieceTokenizer::Encode(absl::string_view text) const {
  std::vector<int> ids(text.size() + 16);
  int count = library_->encode(model_, text.data(), text.size(), ids.data(),
                               static_cast<int>(ids.size()));
  if (count > static_cast<int>(ids.size())) {
    ids.resize(count);
    count =
        library_->encode(model_, text.data(), text.size(), ids.data(), count);
  }
  return TokenSequence(ids.begin(), ids.begin() + count);
}

std::string SentencePieceTokenizer::Decode(const TokenSequence& tokens) const {
  std::vector<int> ids(tokens.begin(), tokens.end());
  std::string text(4 * ids.size() + 16, '\0');
  size_t length =
      library_->decode(model_, ids.data(), static_cast<int>(ids.size()),
                       text.data(), text.size());
  if (length > text.size()) {
    text.resize(length);
    length = library_->decode(model_, ids.data(), static_cast<int>(ids.size()),
                              text.data(), text.size());
  }
  text.resize(length);
  return text;
}

absl::Status TrainSentencePiece(const std::string& text_file,
                                const std::string& model_prefix,
                                const std::string& options) {
  METARM_ASSIGN_OR_RETURN(const Library* library, OpenLibrary());
  char error[512] = {};
  const std::string arguments = absl::StrCat(
      "--input=", text_file, " --model_prefix=", model_prefix, " ", options);
  if ((library)->train(arguments.c_str(), error, sizeof(error)) == 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "training a SentencePiece model on ", text_file, ": ", error));
}

}  // namespace metarm
