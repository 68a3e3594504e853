import Foundation
import TOMLKit

extension RetryPolicy {
    /// Reads Restate's `[default-retry-policy]` table (a top-level table of `restate.toml` in
    /// Restate 1.6 and 1.7): `initial-interval`, `exponentiation-factor`, `max-interval`,
    /// `max-attempts` (a number, or "unlimited") and `on-max-attempts` ("pause" or "kill"). Keys
    /// left out keep Restate's defaults; unknown keys are refused, as Restate refuses them.
    init(_ value: TOMLValueConvertible?, source: String, lines: [Substring], lineOffset: Int) throws {
        self.init()
        guard let value else { return }
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            let line = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) }.map { $0 + 1 + lineOffset }
            return ConfigurationError(source: source, line: line, message: message)
        }
        guard let table = value.table else { throw fail("default-retry-policy", "`default-retry-policy` must be a table") }
        for key in table.keys {
            let entry = table[key]!
            switch key {
            case "initial-interval":
                initialDelayMs = try Self.milliseconds(entry, key) { fail(key, $0) }
            case "max-interval":
                maxDelayMs = try Self.milliseconds(entry, key) { fail(key, $0) }
            case "exponentiation-factor":
                guard let factor = entry.double ?? entry.int.map(Double.init), factor >= 1 else {
                    throw fail(key, "`default-retry-policy.exponentiation-factor` must be a number of at least 1, got \(entry)")
                }
                self.factor = factor
            case "max-attempts":
                if let attempts = entry.int, attempts >= 1 {
                    maxAttempts = attempts
                } else if ["unlimited", "infinite"].contains(entry.string) {
                    maxAttempts = nil
                } else {
                    throw fail(key, "`default-retry-policy.max-attempts` must be a positive number or \"unlimited\", got \(entry)")
                }
            case "on-max-attempts":
                guard let action = entry.string.flatMap(OnMaxAttempts.init(rawValue:)) else {
                    throw fail(key, "`default-retry-policy.on-max-attempts` must be \"pause\" or \"kill\", got \(entry)")
                }
                onMaxAttempts = action
            default:
                throw fail(key, "unknown key `default-retry-policy.\(key)`; expected initial-interval, exponentiation-factor, max-interval, max-attempts or on-max-attempts")
            }
        }
    }

    /// A duration as Restate writes them ("500ms", "60s", "1m 30s", "2h"), in milliseconds.
    private static func milliseconds(_ value: TOMLValueConvertible, _ key: String, _ fail: (String) -> ConfigurationError) throws -> Int {
        guard let text = value.string, let ms = parseDuration(text) else {
            throw fail("`default-retry-policy.\(key)` must be a duration such as \"500ms\", \"60s\" or \"1m 30s\", got \(value)")
        }
        return ms
    }

    static func parseDuration(_ text: String) -> Int? {
        let units: [String: Double] = ["ms": 1, "s": 1000, "sec": 1000, "secs": 1000, "m": 60_000, "min": 60_000, "mins": 60_000,
                                       "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000]
        var total = 0.0
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count).drop { $0 == " " }
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count).drop { $0 == " " }
            guard let n = Double(number), let scale = units[String(unit)] else { return nil }
            total += n * scale
        }
        return Int(total.rounded())
    }
}
