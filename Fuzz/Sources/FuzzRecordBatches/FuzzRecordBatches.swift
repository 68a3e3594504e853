import FuzzInputs

/// libFuzzer's entry point: each input is the records field of a Produce request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordBatches(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzInputs.recordBatches(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
