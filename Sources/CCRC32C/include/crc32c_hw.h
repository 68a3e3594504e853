#ifndef CCRC32C_HW_H
#define CCRC32C_HW_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has a CRC-32C instruction (SSE 4.2 on x86-64, the CRC extension on ARMv8).
int crc32c_hw_available(void);

/// CRC-32C of `length` bytes continuing from the raw (already inverted) register value `crc`,
/// with the CPU's instruction. Call only when crc32c_hw_available() returned 1.
uint32_t crc32c_hw_update(uint32_t crc, const void *bytes, size_t length);

#endif
