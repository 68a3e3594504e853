import Foundation

/// A key or value template: `{i}` is the record's number in its step, `{i % N}` that number
/// modulo N; anything else is literal. Parsed once per step, rendered once per record.
public struct Template: Sendable {
    private enum Part {
        case literal(String)
        case index
        case indexModulo(Int)
    }

    private let parts: [Part]

    public init(_ template: String) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{i") {
            literal += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let inside = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            var placeholder: Part?
            if inside.isEmpty {
                placeholder = .index
            } else if inside.hasPrefix("%"), let n = Int(inside.dropFirst().trimmingCharacters(in: .whitespaces)), n > 0 {
                placeholder = .indexModulo(n)
            }
            if let placeholder {
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(placeholder)
            } else {
                literal += rest[open.lowerBound...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    public func render(_ i: Int) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .index: out += String(i)
            case .indexModulo(let n): out += String(i % n)
            }
        }
        return out
    }

    /// A stable partition for a key (FNV-1a; all records of a key land together).
    public static func partition(of key: [UInt8], _ partitions: Int32) -> Int {
        Int(key.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % UInt32(max(1, partitions)))
    }
}

extension Template {
    /// Why a template cannot be rendered, if it cannot: a `{i …}` placeholder that is neither
    /// `{i}` nor `{i % N}` with N > 0, or one left open. Checked when a file is read, so that
    /// `{i % 0}` is an error, not literal text.
    public static func problem(_ template: String) -> String? {
        var rest = Substring(template)
        while let open = rest.range(of: "{i") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { return "'\(rest[open.lowerBound...])' is not closed with '}'" }
            let inside = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            if !inside.isEmpty {
                guard inside.hasPrefix("%") else {
                    // `{id}` and the like are literal text, as they always were.
                    rest = rest[rest.index(after: close)...]
                    continue
                }
                guard let n = Int(inside.dropFirst().trimmingCharacters(in: .whitespaces)), n > 0 else {
                    return "'\(rest[open.lowerBound...close])': the modulus must be a whole number above 0"
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        return nil
    }
}
