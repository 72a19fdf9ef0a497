/*
 * What every harness in tests/fuzz defines: libFuzzer's two entry points.
 * The same harness links either with libFuzzer (configure --enable-fuzzing,
 * clang) or with replay.c, a plain main() that feeds it files, so the
 * inputs that once crashed are replayed by make check on every build.
 */
#ifndef SIPREG_FUZZ_H
#define SIPREG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

#endif
