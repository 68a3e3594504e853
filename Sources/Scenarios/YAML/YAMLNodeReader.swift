import Foundation
import Yams

/// Typed access to a YAML node tree, failing with the file, line and column of the offending node.
struct YAMLNodeReader {
    let file: String
    /// The file's lines, for what the YAML tree drops: comments (`mutation: none  # why`).
    private let lines: [Substring]

    init(file: String, text: String = "") {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The comment at the end of the node's line (after `#`, trimmed), if there is a non-empty one.
    func comment(on node: Node) -> String? {
        guard let line = node.mark?.line, line >= 1, line <= lines.count,
              let hash = lines[line - 1].range(of: " #") else { return nil }
        let text = lines[line - 1][hash.upperBound...].trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    func fail(_ node: Node, _ message: String) -> ScenarioFileError {
        ScenarioFileError(location: location(node), message: message)
    }

    /// A mapping whose keys must all be in `allowed`; unknown keys are errors, not ignored.
    func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) throws -> [(key: String, value: Node, keyNode: Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping, found \(kind(node))") }
        var out: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode, "\(what): keys must be strings") }
            guard allowed.contains(key) else {
                throw fail(keyNode, "\(what): unknown key '\(key)'; expected one of: \(allowed.joined(separator: ", "))")
            }
            if out.contains(where: { $0.0 == key }) { throw fail(keyNode, "\(what): '\(key)' is given twice") }
            out.append((key, value, keyNode))
        }
        for key in required where !out.contains(where: { $0.0 == key }) {
            throw fail(node, "\(what): missing '\(key)'")
        }
        return out
    }

    /// A mapping whose keys are the user's (header names, partitions): any string key, once.
    func entries(_ node: Node, _ what: String) throws -> [(key: String, value: Node, keyNode: Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping, found \(kind(node))") }
        var out: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode, "\(what): keys must be strings") }
            if out.contains(where: { $0.0 == key }) { throw fail(keyNode, "\(what): '\(key)' is given twice") }
            out.append((key, value, keyNode))
        }
        return out
    }

    func sequence(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let sequence) = node else { throw fail(node, "\(what) must be a list, found \(kind(node))") }
        return Array(sequence)
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, "\(what) must be a string, found \(kind(node))") }
        return scalar.string
    }

    func int(_ node: Node, _ what: String, min: Int = 0) throws -> Int {
        guard case .scalar(let scalar) = node, let n = Int(scalar.string) else { throw fail(node, "\(what) must be an integer, found \(describe(node))") }
        guard n >= min else { throw fail(node, "\(what) must be at least \(min), found \(n)") }
        return n
    }

    /// A string-to-string map (options, headers); numbers and booleans are taken as written.
    func stringMap(_ node: Node, _ what: String) throws -> [String: String] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping, found \(kind(node))") }
        var out: [String: String] = [:]
        for (k, v) in mapping {
            out[try string(k, "\(what) key")] = try string(v, "\(what).\(k.string ?? "?")")
        }
        return out
    }

    func double(_ node: Node, _ what: String) throws -> Double {
        guard case .scalar(let scalar) = node, let d = Double(scalar.string) else { throw fail(node, "\(what) must be a number, found \(describe(node))") }
        return d
    }

    func bool(_ node: Node, _ what: String) throws -> Bool {
        guard let b = node.bool else { throw fail(node, "\(what) must be true or false, found \(describe(node))") }
        return b
    }

    /// The node as JSON text (keys sorted, so the same YAML always gives the same bytes).
    func json(_ node: Node, _ what: String) throws -> String {
        func value(_ node: Node) throws -> Any {
            switch node {
            case .mapping(let mapping):
                var object: [String: Any] = [:]
                for (k, v) in mapping { object[try string(k, "\(what) key")] = try value(v) }
                return object
            case .sequence(let sequence): return try sequence.map(value)
            case .scalar(let scalar):
                if scalar.style != .plain { return scalar.string }
                if node.null != nil { return NSNull() }
                if let b = node.bool { return b }
                if let i = node.int { return i }
                if let d = node.float { return d }
                return scalar.string
            case .alias: throw fail(node, "\(what): aliases are not supported")
            }
        }
        let data = try JSONSerialization.data(withJSONObject: value(node), options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ node: Node, _ what: String, _: T.Type) throws -> T where T.RawValue == String {
        let text = try string(node, what)
        guard let value = T(rawValue: text) else {
            throw fail(node, "\(what): '\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private func describe(_ node: Node) -> String {
        if case .scalar(let s) = node { return "'\(s.string)'" }
        return kind(node)
    }
}
