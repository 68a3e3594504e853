/// A scenario file that cannot be read: where, and what was expected.
public struct ScenarioFileError: Error, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public var description: String { "\(location): \(message)" }
}
