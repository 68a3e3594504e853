import KafkaProtocol

/// One access control entry on a resource pattern, with Kafka's numeric codes as the wire
/// carries them. FakeKafka stores ACLs for the admin APIs but never enforces them: every client
/// may do everything, as with Kafka's allow-everyone authorizer.
public struct AclBinding: Sendable, Hashable, CustomStringConvertible {
    /// Kafka's `ResourceType` codes.
    public enum ResourceType: Int8, Sendable { case unknown = 0, any, topic, group, cluster, transactionalId, delegationToken, user }
    /// Kafka's `PatternType` codes; ANY and MATCH exist only in filters.
    public enum PatternType: Int8, Sendable { case unknown = 0, any, match, literal, prefixed }
    /// Kafka's `AclPermissionType` codes.
    public enum Permission: Int8, Sendable { case unknown = 0, any, deny, allow }

    public var resourceType: Int8
    public var resourceName: String
    public var patternType: Int8
    public var principal: String
    public var host: String
    /// Kafka's `AclOperation` code (READ is 3, WRITE 4, ... IDEMPOTENT_WRITE 12).
    public var operation: Int8
    public var permission: Int8

    public var description: String {
        "(\(resourceType), \(resourceName), pattern \(patternType)) \(principal)@\(host) op \(operation) perm \(permission)"
    }

    /// Why Kafka would refuse to create this binding, or nil.
    var invalidReason: String? {
        guard let type = ResourceType(rawValue: resourceType), type != .unknown, type != .any else { return "Invalid resourceType \(resourceType)" }
        guard patternType == PatternType.literal.rawValue || patternType == PatternType.prefixed.rawValue else { return "Invalid patternType \(patternType)" }
        guard !resourceName.isEmpty else { return "Resource name should not be empty" }
        guard (2...14).contains(operation) else { return "Invalid operation \(operation)" }
        guard permission == Permission.deny.rawValue || permission == Permission.allow.rawValue else { return "Invalid permissionType \(permission)" }
        guard let colon = principal.firstIndex(of: ":"), colon != principal.startIndex, colon != principal.index(before: principal.endIndex) else {
            return "Could not parse principal from `\(principal)` (no colon is present separating the principal type from the principal name)"
        }
        return nil
    }
}

/// A filter over bindings, as DescribeAcls and DeleteAcls carry it: nil names, principals and
/// hosts match anything, as do the ANY codes; pattern type MATCH matches the literal, wildcard
/// and prefixed patterns that apply to the name given.
struct AclFilter {
    var resourceType: Int8
    var resourceName: String?
    var patternType: Int8
    var principal: String?
    var host: String?
    var operation: Int8
    var permission: Int8

    /// Why Kafka would refuse this filter, or nil.
    var invalidReason: String? {
        if resourceType == AclBinding.ResourceType.unknown.rawValue { return "Invalid resourceType filter \(resourceType)" }
        if patternType == AclBinding.PatternType.unknown.rawValue { return "Invalid patternType filter \(patternType)" }
        if operation == 0 { return "Invalid operation filter \(operation)" }
        if permission == AclBinding.Permission.unknown.rawValue { return "Invalid permissionType filter \(permission)" }
        return nil
    }

    func matches(_ acl: AclBinding) -> Bool {
        let any = AclBinding.PatternType.any.rawValue, match = AclBinding.PatternType.match.rawValue
        guard resourceType == AclBinding.ResourceType.any.rawValue || resourceType == acl.resourceType else { return false }
        guard patternType == any || patternType == match || patternType == acl.patternType else { return false }
        if let resourceName {
            if patternType == any || patternType == acl.patternType {
                guard resourceName == acl.resourceName else { return false }
            } else if acl.patternType == AclBinding.PatternType.literal.rawValue {
                guard resourceName == acl.resourceName || acl.resourceName == "*" else { return false }
            } else {
                guard resourceName.hasPrefix(acl.resourceName) else { return false }
            }
        }
        if let principal, principal != acl.principal { return false }
        if let host, host != acl.host { return false }
        guard operation == 1 || operation == acl.operation else { return false }
        return permission == AclBinding.Permission.any.rawValue || permission == acl.permission
    }
}
