import FuzzInputs

/// libFuzzer's entry point: each input is a client's byte stream to a broker.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzInputs.requestStream(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
