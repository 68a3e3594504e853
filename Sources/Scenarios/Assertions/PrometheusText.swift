import Foundation

/// Reads samples out of Prometheus's text exposition format (what `/metrics` answers).
enum PrometheusText {
    /// Values of the series named `name` whose labels include `labels`.
    static func samples(_ text: String, name: String, labels: [String: String]) -> [Double] {
        text.split(separator: "\n").compactMap { line -> Double? in
            guard !line.hasPrefix("#"), line.hasPrefix(name) else { return nil }
            var rest = line.dropFirst(name.count)
            var found: [String: String] = [:]
            if rest.first == "{" {
                guard let close = rest.lastIndex(of: "}") else { return nil }
                found = parseLabels(rest[rest.index(after: rest.startIndex)..<close])
                rest = rest[rest.index(after: close)...]
            } else if rest.first != " " {
                return nil  // another metric whose name starts with this one
            }
            guard labels.allSatisfy({ found[$0.key] == $0.value }) else { return nil }
            return rest.split(separator: " ").first.flatMap { Double($0) }
        }
    }

    private static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = text
        while let eq = rest.firstIndex(of: "=") {
            let name = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var i = rest.index(after: eq)
            guard i < rest.endIndex, rest[i] == "\"" else { break }
            i = rest.index(after: i)
            var value = ""
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\", rest.index(after: i) < rest.endIndex { i = rest.index(after: i) }
                value.append(rest[i])
                i = rest.index(after: i)
            }
            labels[name] = value
            rest = i < rest.endIndex ? rest[rest.index(after: i)...] : ""
        }
        return labels
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
