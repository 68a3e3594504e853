import KafkaProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// Binds a broker's listening socket and sets up each accepted connection's pipeline.
enum BrokerListener {
    static func bind(core: ClusterCore, broker: Int32, host: String, port: Int) async throws -> any Channel {
        let maxFrameSize = core.configuration.maxFrameSize
        let idleTimeout = core.configuration.connectionIdleTimeout
        let tlsContext = core.tlsContext
        return try await ServerBootstrap(group: core.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                    }
                    if let idleTimeout {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameSize: maxFrameSize)))
                    try channel.pipeline.syncOperations.addHandler(KafkaConnectionHandler(core: core, broker: broker))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
