/// An error that is its message: a step that cannot run, a target that does not answer, a
/// capture that cannot read. (File errors, which carry a location, are `ScenarioFileError`.)
public struct ScenarioError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}
