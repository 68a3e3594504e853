import Foundation
import HarnessTestSupport
import Scenarios
import Testing

/// `schema/scenario.schema.json` (what editors complete from) and the parser's grammar name the
/// same mappings with the same keys, so neither can grow a key the other does not know.
@Suite("Scenario JSON Schema", .guarded)
struct ScenarioSchemaTests {
    static let schemaFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema/scenario.schema.json")

    static func definitions() throws -> [String: [String: Any]] {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: schemaFile)) as? [String: Any])
        return try #require(schema["$defs"] as? [String: [String: Any]])
    }

    @Test("every mapping the parser reads is a $defs entry with exactly its keys, and every closed $defs entry is a mapping the parser reads")
    func sameKeys() throws {
        let definitions = try Self.definitions()
        for (name, keys) in ScenarioGrammar.mappings {
            let properties = try #require(definitions[name]?["properties"] as? [String: Any], "the schema has no $defs/\(name)")
            #expect(Set(properties.keys) == Set(keys), "\(name): schema only \(Set(properties.keys).subtracting(keys).sorted()), parser only \(Set(keys).subtracting(properties.keys).sorted())")
            #expect(definitions[name]?["additionalProperties"] as? Bool == false, "\(name): the schema must refuse keys the parser refuses")
        }
        let closed = definitions.filter { $0.value["additionalProperties"] as? Bool == false }.keys
        #expect(Set(closed) == Set(ScenarioGrammar.mappings.keys), "schema mappings the parser does not read: \(Set(closed).subtracting(ScenarioGrammar.mappings.keys).sorted())")
    }

    @Test("the parser refuses a key outside the grammar, naming the keys it allows")
    func parserUsesTheGrammar() throws {
        let error = try #require(throws: (any Error).self) {
            try ScenarioYAML.parse("name: x\nsteps:\n  - wait: {invocations: 1, timeout: 5}\n", file: "w.yaml")
        }
        for key in ScenarioGrammar.mappings["wait"]! { #expect("\(error)".contains(key), "\(error)") }
    }
}
