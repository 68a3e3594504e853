import Hummingbird
import NIOCore

/// A refusal made by axum (Restate's HTTP framework) before Restate's handler runs: plain text,
/// not Restate's JSON error body.
struct AxumRejection: Error, Equatable {
    var status: HTTPResponse.Status
    var text: String

    static let contentType = AxumRejection(status: .unsupportedMediaType, text: "Expected request with `Content-Type: application/json`")

    static func syntax(_ message: String) -> AxumRejection {
        AxumRejection(status: .badRequest, text: "Failed to parse the request body as JSON: \(message)")
    }

    static func data(_ message: String) -> AxumRejection {
        AxumRejection(status: .unprocessableContent, text: "Failed to deserialize the JSON body into the target type: \(message)")
    }

    var response: Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Request bodies read as Restate's admin API reads them: through axum's `Json` extractor over
/// serde_json, whose refusals Restate passes on untouched. A missing or non-JSON Content-Type is
/// 415, malformed JSON 400, JSON of the wrong shape 422, each as text/plain with axum's text and
/// serde_json's message and position ("at line 1 column 13"), so clients that match on them see
/// the same bytes.
struct JSONRequestBody {
    let root: JSONNode

    /// Checks the Content-Type (as axum does: `application/json`, or any `application/…+json`,
    /// parameters allowed), then the syntax.
    init(contentType: String?, bytes: [UInt8]) throws(AxumRejection) {
        guard let contentType, Self.isJSON(contentType) else { throw .contentType }
        var scanner = JSONScanner(bytes)
        do {
            root = try scanner.document()
        } catch {
            throw .syntax(error.description)
        }
    }

    static func isJSON(_ contentType: String) -> Bool {
        let essence = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "application" else { return false }
        return parts[1] == "json" || parts[1].hasSuffix("+json")
    }
}

/// A parsed JSON value with where it starts and ends, for serde_json's error positions.
struct JSONNode {
    indirect enum Value {
        case object([(key: String, keyEnd: JSONPosition, value: JSONNode)])
        case array([JSONNode])
        case string(String)
        case number(String, isInteger: Bool)
        case bool(Bool)
        case null
    }

    var value: Value
    /// The position before the value's first character, and of its last.
    var before: JSONPosition
    var end: JSONPosition

    /// How serde_json names this value in "invalid type: …" messages.
    var unexpected: String {
        switch value {
        case .object: "map"
        case .array: "sequence"
        case .string(let s): "string \(Self.rustDebug(s))"
        case .number(let text, let isInteger): isInteger ? "integer `\(text)`" : "floating point `\(Double(text).map { "\($0)" } ?? text)`"
        case .bool(let b): "boolean `\(b)`"
        case .null: "null"
        }
    }

    /// Where serde_json reports a type error on this value: after a scalar, before a container
    /// (it recognises `[` and `{` without reading them).
    var typeErrorPosition: JSONPosition {
        switch value {
        case .object, .array: before
        default: end
        }
    }

    /// A string as Rust's `{:?}` writes it.
    static func rustDebug(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

struct JSONPosition: Equatable, CustomStringConvertible {
    var line: Int
    var column: Int
    var description: String { "at line \(line) column \(column)" }
}

/// A JSON reader that fails where serde_json fails, with its words: the position is that of the
/// last character read, or of the one looked at when serde_json only peeks.
struct JSONScanner {
    struct SyntaxError: Error, CustomStringConvertible {
        var message: String
        var position: JSONPosition
        var description: String { "\(message) \(position)" }
    }

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(SyntaxError) -> JSONNode {
        let node = try value()
        skipWhitespace()
        if index < bytes.count { throw peekError("trailing characters") }
        return node
    }

    /// Line and column of the character at `i - 1` (column 0 before any).
    private func position(at i: Int) -> JSONPosition {
        var line = 1, column = 0
        for byte in bytes[..<min(i, bytes.count)] {
            if byte == UInt8(ascii: "\n") { line += 1; column = 0 } else { column += 1 }
        }
        return JSONPosition(line: line, column: column)
    }

    private var current: JSONPosition { position(at: index) }
    private func error(_ message: String) -> SyntaxError { SyntaxError(message: message, position: current) }
    private func peekError(_ message: String) -> SyntaxError { SyntaxError(message: message, position: position(at: min(bytes.count, index + 1))) }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 { index += 1 }
    }

    private mutating func value() throws(SyntaxError) -> JSONNode {
        skipWhitespace()
        let before = current
        guard let first = peek else { throw peekError("EOF while parsing a value") }
        let value: JSONNode.Value
        switch first {
        case UInt8(ascii: "{"): value = try object()
        case UInt8(ascii: "["): value = try array()
        case UInt8(ascii: "\""): value = .string(try string())
        case UInt8(ascii: "t"): try ident("true"); value = .bool(true)
        case UInt8(ascii: "f"): try ident("false"); value = .bool(false)
        case UInt8(ascii: "n"): try ident("null"); value = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = try number()
        default: throw peekError("expected value")
        }
        return JSONNode(value: value, before: before, end: current)
    }

    private mutating func ident(_ word: String) throws(SyntaxError) {
        index += 1
        for expected in word.utf8.dropFirst() {
            guard let b = peek else { throw error("EOF while parsing a value") }
            index += 1
            if b != expected { throw error("expected ident") }
        }
    }

    private mutating func number() throws(SyntaxError) -> JSONNode.Value {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        func digits(_ s: inout JSONScanner) -> Int {
            let from = s.index
            while let b = s.peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) { s.index += 1 }
            return s.index - from
        }
        guard peek != nil else { throw error("EOF while parsing a value") }
        guard digits(&self) > 0 else { index += 1; throw error("invalid number") }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            index += 1
            isInteger = false
            guard peek != nil else { throw error("EOF while parsing a value") }
            guard digits(&self) > 0 else { index += 1; throw error("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            isInteger = false
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard peek != nil else { throw error("EOF while parsing a value") }
            guard digits(&self) > 0 else { index += 1; throw error("invalid number") }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self), isInteger: isInteger)
    }

    private mutating func string() throws(SyntaxError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw error("EOF while parsing a string") }
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw error("EOF while parsing a string") }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code: UInt32 = 0
                    for _ in 0..<4 {
                        guard let h = peek else { throw error("EOF while parsing a string") }
                        index += 1
                        guard let digit = Character(UnicodeScalar(h)).hexDigitValue else { throw error("invalid escape") }
                        code = code << 4 | UInt32(digit)
                    }
                    out += Array(String(UnicodeScalar(code).map(Character.init) ?? "\u{FFFD}").utf8)
                default: throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character (\\u0000-\\u001F) found while parsing a string")
            default:
                out.append(b)
            }
        }
    }

    private mutating func object() throws(SyntaxError) -> JSONNode.Value {
        index += 1
        var members: [(key: String, keyEnd: JSONPosition, value: JSONNode)] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard let b = peek else { throw peekError("EOF while parsing an object") }
            guard b == UInt8(ascii: "\"") else { throw peekError(b == UInt8(ascii: "}") ? "trailing comma" : "key must be a string") }
            let key = try string()
            let keyEnd = current
            skipWhitespace()
            guard let colon = peek else { throw peekError("EOF while parsing an object") }
            guard colon == UInt8(ascii: ":") else { throw peekError("expected `:`") }
            index += 1
            members.append((key, keyEnd, try value()))
            skipWhitespace()
            guard let next = peek else { throw peekError("EOF while parsing an object") }
            index += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else { throw error("expected `,` or `}`") }
        }
    }

    private mutating func array() throws(SyntaxError) -> JSONNode.Value {
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "]") { throw peekError("trailing comma") }
            elements.append(try value())
            skipWhitespace()
            guard let next = peek else { throw peekError("EOF while parsing a list") }
            index += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { throw error("expected `,` or `]`") }
        }
    }
}
