// The C interface of libmetarm_sentencepiece.so, the one part of metarm
// linked against libsentencepiece.
//
// Why a separate library: Debian's libsentencepiece carries its own copy of
// protobuf-lite and exports its symbols, which clash with the full
// libprotobuf the trainer links (the program crashes while loading). So the
// trainer never links it; tasks/sentencepiece_tokenizer.cc opens this
// library with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), which keeps each copy of
// protobuf to its own users. Only C types cross the boundary: no C++ object
// made on one side is freed on the other. Deep binding also sends
// libsentencepiece's logging to libstdc++'s own std::cerr, so the programs
// that open it are built position-independent (.bazelrc, --force_pic) and
// use that same std::cerr.
#ifndef METARM_TASKS_SENTENCEPIECE_LIBRARY_H_
#define METARM_TASKS_SENTENCEPIECE_LIBRARY_H_

#include <stddef.h>

extern "C" {

// A loaded model, or null with the library's message in `error`.
void* metarm_spm_load(const char* file, char* error, size_t error_size);
void metarm_spm_free(void* model);
// Writes up to `capacity` ids of `text`; returns how many there are.
int metarm_spm_encode(void* model, const char* text, size_t length, int* ids,
                      int capacity);
// Writes up to `capacity` bytes of the decoded text (control pieces and ids
// outside the vocabulary dropped); returns its full length.
size_t metarm_spm_decode(void* model, const int* ids, int count, char* text,
                         size_t capacity);
// 0: pieces, 1: bos id, 2: eos id, 3: pad id (-1 when the model has none).
int metarm_spm_info(void* model, int what);
// SentencePieceTrainer::Train(arguments); 0 on success, else -1 and the
// message in `error`.
int metarm_spm_train(const char* arguments, char* error, size_t error_size);

}  // extern "C"

#endif  // METARM_TASKS_SENTENCEPIECE_LIBRARY_H_
