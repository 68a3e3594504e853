import CCompression

/// The record batch codecs (bits 0–2 of a batch's attributes), backed by Debian's C libraries.
public enum CompressionCodec: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        switch self {
        case .none: input
        case .gzip: try Gzip.compress(input)
        case .snappy: try Snappy.compress(input)
        case .lz4: try LZ4Frame.compress(input)
        case .zstd: try Zstd.compress(input)
        }
    }

    public func decompress(_ input: [UInt8]) throws -> [UInt8] {
        switch self {
        case .none: input
        case .gzip: try Gzip.decompress(input)
        case .snappy: try Snappy.decompress(input)
        case .lz4: try LZ4Frame.decompress(input)
        case .zstd: try Zstd.decompress(input)
        }
    }
}

/// Decompressed batches larger than this are rejected rather than exhausting memory.
let maxDecompressedSize = 512 * 1024 * 1024

enum Gzip {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper, which is what Kafka means by "gzip".
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw KafkaProtocolError.compression("gzip: deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced: Int = try input.withUnsafeMutableBufferPointer { inp in
            try output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw KafkaProtocolError.compression("gzip: deflate did not finish") }
                return out.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }

    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: accept both zlib and gzip wrappers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw KafkaProtocolError.compression("gzip: inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(64 * 1024, input.count * 4))
        var input = input
        try input.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = UInt32(inp.count)
            while true {
                let (status, n): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.avail_out))
                }
                result.append(contentsOf: chunk[0..<n])
                if result.count > maxDecompressedSize { throw KafkaProtocolError.compression("gzip: output exceeds \(maxDecompressedSize) bytes") }
                if status == Z_STREAM_END { return }
                guard status == Z_OK else { throw KafkaProtocolError.compression("gzip: inflate failed (\(status))") }
                if n == 0 && stream.avail_in == 0 { throw KafkaProtocolError.compression("gzip: truncated stream") }
            }
        }
        return result
    }
}

enum Snappy {
    /// Java clients frame snappy in xerial's block format; librdkafka writes raw snappy.
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]

    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                inp.withMemoryRebound(to: CChar.self) { i in
                    out.withMemoryRebound(to: CChar.self) { o in
                        snappy_compress(i.baseAddress, i.count, o.baseAddress, &length)
                    }
                }
            }
        }
        guard status == SNAPPY_OK else { throw KafkaProtocolError.compression("snappy: compress failed") }
        return Array(output[0..<length])
    }

    /// Frames `input` the way xerial's SnappyOutputStream does (for tests of the Java framing).
    static func compressXerial(_ input: [UInt8], blockSize: Int = 32 * 1024) throws -> [UInt8] {
        var out = xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1]
        var start = 0
        repeat {
            let end = min(start + blockSize, input.count)
            let block = try compress(Array(input[start..<end]))
            let n = UInt32(block.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            out += block
            start = end
        } while start < input.count
        return out
    }

    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        if input.count >= 16 && Array(input[0..<8]) == xerialMagic {
            var result: [UInt8] = []
            var i = 16
            while i < input.count {
                guard i + 4 <= input.count else { throw KafkaProtocolError.compression("snappy: truncated xerial block header") }
                let n = Int(input[i]) << 24 | Int(input[i + 1]) << 16 | Int(input[i + 2]) << 8 | Int(input[i + 3])
                i += 4
                guard i + n <= input.count else { throw KafkaProtocolError.compression("snappy: truncated xerial block") }
                result += try decompressRaw(Array(input[i..<(i + n)]))
                if result.count > maxDecompressedSize { throw KafkaProtocolError.compression("snappy: output exceeds \(maxDecompressedSize) bytes") }
                i += n
            }
            return result
        }
        return try decompressRaw(input)
    }

    static func decompressRaw(_ input: [UInt8]) throws -> [UInt8] {
        var length = 0
        // Validated first: the length in a snappy preamble is the sender's word, and the output
        // is allocated from it.
        let ok = input.withUnsafeBufferPointer { inp in
            inp.withMemoryRebound(to: CChar.self) {
                snappy_uncompressed_length($0.baseAddress, $0.count, &length) == SNAPPY_OK && length <= maxDecompressedSize
                    && snappy_validate_compressed_buffer($0.baseAddress, $0.count) == SNAPPY_OK
            }
        }
        guard ok else { throw KafkaProtocolError.compression("snappy: invalid input") }
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                inp.withMemoryRebound(to: CChar.self) { i in
                    out.withMemoryRebound(to: CChar.self) { o in
                        snappy_uncompress(i.baseAddress, i.count, o.baseAddress, &length)
                    }
                }
            }
        }
        guard status == SNAPPY_OK else { throw KafkaProtocolError.compression("snappy: uncompress failed") }
        return Array(output[0..<length])
    }
}

enum LZ4Frame {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        let bound = LZ4F_compressFrameBound(input.count, nil)
        var output = [UInt8](repeating: 0, count: bound)
        let n = input.withUnsafeBytes { inp in
            output.withUnsafeMutableBytes { out in
                LZ4F_compressFrame(out.baseAddress, out.count, inp.baseAddress, inp.count, nil)
            }
        }
        guard LZ4F_isError(n) == 0 else { throw KafkaProtocolError.compression("lz4: \(String(cString: LZ4F_getErrorName(n)))") }
        return Array(output[0..<n])
    }

    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx
        else { throw KafkaProtocolError.compression("lz4: cannot create context") }
        defer { LZ4F_freeDecompressionContext(ctx) }
        guard !input.isEmpty else { throw KafkaProtocolError.compression("lz4: empty input") }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        try input.withUnsafeBytes { inp in
            var offset = 0
            while true {
                var srcSize = inp.count - offset
                var dstSize = chunk.count
                let hint = chunk.withUnsafeMutableBytes { out in
                    LZ4F_decompress(ctx, out.baseAddress, &dstSize, inp.baseAddress! + offset, &srcSize, nil)
                }
                guard LZ4F_isError(hint) == 0 else { throw KafkaProtocolError.compression("lz4: \(String(cString: LZ4F_getErrorName(hint)))") }
                offset += srcSize
                result.append(contentsOf: chunk[0..<dstSize])
                if result.count > maxDecompressedSize { throw KafkaProtocolError.compression("lz4: output too large") }
                if hint == 0 { return }
                if offset >= inp.count && dstSize == 0 { throw KafkaProtocolError.compression("lz4: truncated frame") }
            }
        }
        return result
    }
}

enum Zstd {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { inp in
            output.withUnsafeMutableBytes { out in ZSTD_compress(out.baseAddress, out.count, inp.baseAddress, inp.count, 3) }
        }
        guard ZSTD_isError(n) == 0 else { throw KafkaProtocolError.compression("zstd: \(String(cString: ZSTD_getErrorName(n)))") }
        return Array(output[0..<n])
    }

    /// Streaming decode: producers may omit the content size from the frame header.
    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw KafkaProtocolError.compression("zstd: cannot create stream") }
        defer { ZSTD_freeDStream(stream) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        try input.withUnsafeBytes { inp in
            var inBuf = ZSTD_inBuffer(src: inp.baseAddress, size: inp.count, pos: 0)
            while true {
                let (ret, produced): (Int, Int) = chunk.withUnsafeMutableBytes { out in
                    var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let ret = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                    return (ret, outBuf.pos)
                }
                guard ZSTD_isError(ret) == 0 else { throw KafkaProtocolError.compression("zstd: \(String(cString: ZSTD_getErrorName(ret)))") }
                result.append(contentsOf: chunk[0..<produced])
                if result.count > maxDecompressedSize { throw KafkaProtocolError.compression("zstd: output too large") }
                if ret == 0 && inBuf.pos == inBuf.size { return }
                if inBuf.pos == inBuf.size && produced == 0 { throw KafkaProtocolError.compression("zstd: truncated frame") }
            }
        }
        return result
    }
}
